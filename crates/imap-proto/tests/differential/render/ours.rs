//! Our typed commands in the shared form.

use mailroom_imap_proto::command::fetch::{FetchAttr, FetchItems, Partial, Section, SectionText};
use mailroom_imap_proto::command::search::{EntryType, SearchKey};
use mailroom_imap_proto::command::session::CompressAlgorithm;
use mailroom_imap_proto::command::store::StoreAction;
use mailroom_imap_proto::{Command, CommandBody, Date, DateTime, Flag, SequenceSet};

use super::{bytes, join, mailbox, ranges, render, upper};

fn o_set(set: &SequenceSet) -> String {
    match set {
        SequenceSet::Saved => "$".into(),
        SequenceSet::Ranges(list) => ranges(list.iter().map(|r| r.bounds(u32::MAX)).collect()),
    }
}

fn o_flags(flags: &[Flag]) -> String {
    join(flags, |f| f.to_string())
}

fn o_date(date: &Date) -> String {
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

fn o_date_time(dt: &DateTime) -> String {
    let (h, m, s) = dt.time();
    let offset = dt.offset_minutes();
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.unsigned_abs();
    format!(
        "{}T{h:02}:{m:02}:{s:02}{sign}{:02}:{:02}",
        o_date(&dt.date()),
        abs / 60,
        abs % 60
    )
}

fn o_key(key: &SearchKey) -> String {
    use SearchKey as K;
    match key {
        K::All => "ALL".into(),
        K::Answered => "ANSWERED".into(),
        K::Deleted => "DELETED".into(),
        K::Draft => "DRAFT".into(),
        K::Flagged => "FLAGGED".into(),
        K::New => "NEW".into(),
        K::Old => "OLD".into(),
        K::Recent => "RECENT".into(),
        K::Seen => "SEEN".into(),
        K::Unanswered => "UNANSWERED".into(),
        K::Undeleted => "UNDELETED".into(),
        K::Undraft => "UNDRAFT".into(),
        K::Unflagged => "UNFLAGGED".into(),
        K::Unseen => "UNSEEN".into(),
        K::Bcc(v) => format!("BCC {}", bytes(v)),
        K::Body(v) => format!("BODY {}", bytes(v)),
        K::Cc(v) => format!("CC {}", bytes(v)),
        K::From(v) => format!("FROM {}", bytes(v)),
        K::Subject(v) => format!("SUBJECT {}", bytes(v)),
        K::Text(v) => format!("TEXT {}", bytes(v)),
        K::To(v) => format!("TO {}", bytes(v)),
        K::Header(n, v) => format!("HEADER {} {}", bytes(n), bytes(v)),
        K::Keyword(k) => format!("KEYWORD {k}"),
        K::Unkeyword(k) => format!("UNKEYWORD {k}"),
        K::Larger(n) => format!("LARGER {n}"),
        K::Smaller(n) => format!("SMALLER {n}"),
        K::Before(d) => format!("BEFORE {}", o_date(d)),
        K::On(d) => format!("ON {}", o_date(d)),
        K::Since(d) => format!("SINCE {}", o_date(d)),
        K::SentBefore(d) => format!("SENTBEFORE {}", o_date(d)),
        K::SentOn(d) => format!("SENTON {}", o_date(d)),
        K::SentSince(d) => format!("SENTSINCE {}", o_date(d)),
        K::Uid(set) => format!("UID {}", o_set(set)),
        K::SequenceSet(set) => format!("SET {}", o_set(set)),
        K::Not(k) => format!("NOT {}", o_key(k)),
        K::Or(a, b) => format!("OR {} {}", o_key(a), o_key(b)),
        K::And(keys) => join(keys.iter(), o_key),
        K::Older(n) => format!("OLDER {n}"),
        K::Younger(n) => format!("YOUNGER {n}"),
        K::ModSeq { entry, modseq } => match entry {
            Some(e) => {
                let kind = match e.entry_type {
                    EntryType::Private => "priv",
                    EntryType::Shared => "shared",
                    EntryType::All => "all",
                };
                format!("MODSEQ {} {kind} {modseq}", e.flag)
            }
            None => format!("MODSEQ {modseq}"),
        },
        // Keys imap-codec does not know; only ever compared with ourselves.
        other => format!("{other:?}"),
    }
}

fn o_keys(keys: &[SearchKey]) -> String {
    join(keys, o_key)
}

fn o_partial(partial: &Option<Partial>) -> String {
    partial.map_or(String::new(), |p| format!("<{}.{}>", p.start, p.length))
}

pub fn o_part(part: &[std::num::NonZeroU32]) -> String {
    let parts: Vec<String> = part.iter().map(|n| n.to_string()).collect();
    parts.join(".")
}

fn o_section(section: &Section) -> String {
    let mut out = o_part(section.part());
    if let Some(text) = section.text() {
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&match text {
            SectionText::Header => "HEADER".to_string(),
            SectionText::Text => "TEXT".to_string(),
            SectionText::Mime => "MIME".to_string(),
            SectionText::HeaderFields(names) => {
                format!("HEADER.FIELDS {}", join(names.iter(), |n| bytes(n)))
            }
            SectionText::HeaderFieldsNot(names) => {
                format!("HEADER.FIELDS.NOT {}", join(names.iter(), |n| bytes(n)))
            }
        });
    }
    out
}

fn o_attr(attr: &FetchAttr) -> String {
    use FetchAttr as A;
    match attr {
        A::Envelope => "ENVELOPE".into(),
        A::Flags => "FLAGS".into(),
        A::InternalDate => "INTERNALDATE".into(),
        A::Rfc822 => "RFC822".into(),
        A::Rfc822Header => "RFC822.HEADER".into(),
        A::Rfc822Size => "RFC822.SIZE".into(),
        A::Rfc822Text => "RFC822.TEXT".into(),
        A::Body => "BODY".into(),
        A::BodyStructure => "BODYSTRUCTURE".into(),
        A::Uid => "UID".into(),
        A::ModSeq => "MODSEQ".into(),
        A::BodySection {
            peek,
            section,
            partial,
        } => format!(
            "BODY{}[{}]{}",
            if *peek { ".PEEK" } else { "" },
            o_section(section),
            o_partial(partial)
        ),
        A::Binary {
            peek,
            part,
            partial,
        } => format!(
            "BINARY{}[{}]{}",
            if *peek { ".PEEK" } else { "" },
            o_part(part),
            o_partial(partial)
        ),
        A::BinarySize { part } => format!("BINARY.SIZE[{}]", o_part(part)),
        other => format!("{other:?}"),
    }
}

pub fn ours_render(command: &Command) -> String {
    use CommandBody as B;
    let args: Vec<String> = match &command.body {
        B::Capability
        | B::Noop
        | B::Logout
        | B::StartTls
        | B::Namespace
        | B::Idle
        | B::Check
        | B::Close
        | B::Unselect
        | B::Expunge
        | B::Unauthenticate => vec![],
        B::Authenticate(a) => vec![
            upper(&a.mechanism),
            a.initial_response
                .as_ref()
                .map_or("-".into(), |ir| bytes(ir.expose())),
        ],
        B::Login(l) => vec![bytes(&l.username), bytes(l.password.expose())],
        B::Enable(caps) => vec![join(caps.iter(), upper)],
        B::Select(s) | B::Examine(s) => {
            let mut params = Vec::new();
            if s.condstore {
                params.push("CONDSTORE".to_string());
            }
            if let Some(q) = &s.qresync {
                params.push(format!(
                    "QRESYNC {} {} {} {}",
                    q.uid_validity,
                    q.modseq,
                    q.known_uids.as_ref().map_or("-".into(), o_set),
                    q.seq_match.as_ref().map_or("-".into(), |(a, b)| format!(
                        "{}/{}",
                        o_set(a),
                        o_set(b)
                    ))
                ));
            }
            params.sort();
            vec![mailbox(s.mailbox.as_bytes()), join(params, |p| p)]
        }
        B::Create {
            mailbox: m,
            special_use,
        } => {
            let mut args = vec![mailbox(m.as_bytes())];
            if !special_use.is_empty() {
                args.push(format!("{special_use:?}"));
            }
            args
        }
        B::Delete(m) | B::Subscribe(m) | B::Unsubscribe(m) | B::GetQuotaRoot(m) => {
            vec![mailbox(m.as_bytes())]
        }
        B::Rename { from, to } => vec![mailbox(from.as_bytes()), mailbox(to.as_bytes())],
        B::List(l) => {
            let mut args = vec![mailbox(&l.reference), join(l.patterns.iter(), |p| bytes(p))];
            if !l.selection.is_empty() || !l.return_opts.is_empty() {
                args.push(format!("{:?} {:?}", l.selection, l.return_opts));
            }
            args
        }
        B::Lsub { reference, pattern } => {
            vec![mailbox(reference), join([pattern], |p| bytes(p))]
        }
        B::Status { mailbox: m, items } => {
            vec![
                mailbox(m.as_bytes()),
                join(items.iter(), |i| i.name().into()),
            ]
        }
        B::Append(a) => {
            let mut args = vec![mailbox(a.mailbox.as_bytes())];
            for m in a.messages.iter() {
                args.push(format!(
                    "{} {} {} {}",
                    o_flags(&m.flags),
                    m.date.as_ref().map_or("-".into(), o_date_time),
                    if m.binary { "literal8" } else { "literal" },
                    bytes(&m.data)
                ));
            }
            args
        }
        B::UidExpunge(set) => vec![o_set(set)],
        B::Search(s) => {
            let mut args = vec![
                s.charset.as_deref().map_or("-".into(), upper),
                o_keys(&s.criteria),
            ];
            if let Some(r) = &s.return_opts {
                args.push(format!("RETURN {r:?}"));
            }
            args
        }
        B::Fetch(f) => {
            let items = match &f.items {
                FetchItems::All => "ALL".to_string(),
                FetchItems::Fast => "FAST".to_string(),
                FetchItems::Full => "FULL".to_string(),
                FetchItems::Attributes(attrs) => join(attrs.iter(), o_attr),
            };
            let mut modifiers = Vec::new();
            if let Some(cs) = f.changed_since {
                modifiers.push(format!("CHANGEDSINCE {}", cs.modseq));
                if cs.vanished {
                    modifiers.push("VANISHED".to_string());
                }
            }
            modifiers.sort();
            vec![o_set(&f.set), items, join(modifiers, |m| m)]
        }
        B::Store(s) => {
            let op = match s.action {
                StoreAction::Replace => "FLAGS",
                StoreAction::Add => "+FLAGS",
                StoreAction::Remove => "-FLAGS",
            };
            vec![
                o_set(&s.set),
                format!("{op}{}", if s.silent { ".SILENT" } else { "" }),
                o_flags(&s.flags),
                s.unchanged_since
                    .map_or("-".into(), |n| format!("UNCHANGEDSINCE {n}")),
            ]
        }
        B::Copy(c) | B::Move(c) => vec![o_set(&c.set), mailbox(c.mailbox.as_bytes())],
        B::Sort(s) => {
            let mut args = vec![
                join(s.criteria.iter(), |c| {
                    format!(
                        "{}{}",
                        if c.reverse { "REVERSE " } else { "" },
                        upper(format!("{:?}", c.key))
                    )
                }),
                upper(&s.charset),
                o_keys(&s.search),
            ];
            if let Some(r) = &s.return_opts {
                args.push(format!("RETURN {r:?}"));
            }
            args
        }
        B::Thread(t) => vec![
            upper(t.algorithm.name()),
            upper(&t.charset),
            o_keys(&t.search),
        ],
        B::Id(params) => vec![match params {
            None => "NIL".into(),
            Some(list) => join(list, |(k, v)| {
                format!("{}={}", bytes(k), v.as_deref().map_or("NIL".into(), bytes))
            }),
        }],
        B::GetQuota { root } => vec![bytes(root)],
        B::SetQuota { root, limits } => vec![
            bytes(root),
            join(limits, |(r, n)| format!("{} {n}", upper(r))),
        ],
        B::Compress(CompressAlgorithm::Deflate) => vec!["DEFLATE".into()],
        B::Compress(other) => vec![upper(other)],
        B::Notify(n) => vec![format!("{n:?}")],
        B::CancelUpdate(tags) => tags.iter().map(|t| bytes(t)).collect(),
    };
    render(command.tag.as_str(), command.body.name(), args)
}
