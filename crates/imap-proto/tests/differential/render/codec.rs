//! imap-codec's typed commands in the shared form.

use imap_codec::imap_types as it;
use it::command::{CommandBody as CBody, FetchModifier, SelectParameter, StoreModifier};
use it::extensions::binary::LiteralOrLiteral8;
use it::extensions::condstore_qresync::AttributeFlag;
use it::extensions::thread::ThreadingAlgorithm as CThreadAlg;
use it::fetch::{
    Macro, MacroOrMessageDataItemNames, MessageDataItemName, Part, Section as CSection,
};
use it::flag::{StoreResponse, StoreType};
use it::mailbox::{ListMailbox, Mailbox as CMailbox};
use it::search::SearchKey as CKey;
use it::sequence::{SeqOrUid, Sequence, SequenceSet as CSet};
use it::status::StatusDataItemName;

use super::ours::o_part;
use super::{bytes, join, mailbox, ranges, render, upper};

fn c_set(set: &CSet) -> String {
    let value = |s: &SeqOrUid| match s {
        SeqOrUid::Value(n) => n.get(),
        SeqOrUid::Asterisk => u32::MAX,
    };
    ranges(
        set.0
            .as_ref()
            .iter()
            .map(|seq| match seq {
                Sequence::Single(s) => (value(s), value(s)),
                Sequence::Range(a, b) => (value(a), value(b)),
            })
            .collect(),
    )
}

fn c_mailbox(m: &CMailbox) -> String {
    match m {
        CMailbox::Inbox => "INBOX".into(),
        CMailbox::Other(other) => mailbox(other.as_ref()),
    }
}

fn c_flags(flags: &[it::flag::Flag]) -> String {
    join(flags, |f| f.to_string())
}

fn c_date(date: &it::datetime::NaiveDate) -> String {
    date.as_ref().to_string()
}

fn c_attr_flag(flag: &AttributeFlag) -> String {
    // imap-types writes the backslash escaped, as inside the quoted entry.
    flag.to_string().replacen("\\\\", "\\", 1)
}

fn c_key(key: &CKey) -> String {
    match key {
        CKey::All => "ALL".into(),
        CKey::Answered => "ANSWERED".into(),
        CKey::Deleted => "DELETED".into(),
        CKey::Draft => "DRAFT".into(),
        CKey::Flagged => "FLAGGED".into(),
        CKey::New => "NEW".into(),
        CKey::Old => "OLD".into(),
        CKey::Recent => "RECENT".into(),
        CKey::Seen => "SEEN".into(),
        CKey::Unanswered => "UNANSWERED".into(),
        CKey::Undeleted => "UNDELETED".into(),
        CKey::Undraft => "UNDRAFT".into(),
        CKey::Unflagged => "UNFLAGGED".into(),
        CKey::Unseen => "UNSEEN".into(),
        CKey::Bcc(v) => format!("BCC {}", bytes(v.as_ref())),
        CKey::Body(v) => format!("BODY {}", bytes(v.as_ref())),
        CKey::Cc(v) => format!("CC {}", bytes(v.as_ref())),
        CKey::From(v) => format!("FROM {}", bytes(v.as_ref())),
        CKey::Subject(v) => format!("SUBJECT {}", bytes(v.as_ref())),
        CKey::Text(v) => format!("TEXT {}", bytes(v.as_ref())),
        CKey::To(v) => format!("TO {}", bytes(v.as_ref())),
        CKey::Header(n, v) => format!("HEADER {} {}", bytes(n.as_ref()), bytes(v.as_ref())),
        CKey::Keyword(k) => format!("KEYWORD {}", k.as_ref()),
        CKey::Unkeyword(k) => format!("UNKEYWORD {}", k.as_ref()),
        CKey::Larger(n) => format!("LARGER {n}"),
        CKey::Smaller(n) => format!("SMALLER {n}"),
        CKey::Before(d) => format!("BEFORE {}", c_date(d)),
        CKey::On(d) => format!("ON {}", c_date(d)),
        CKey::Since(d) => format!("SINCE {}", c_date(d)),
        CKey::SentBefore(d) => format!("SENTBEFORE {}", c_date(d)),
        CKey::SentOn(d) => format!("SENTON {}", c_date(d)),
        CKey::SentSince(d) => format!("SENTSINCE {}", c_date(d)),
        CKey::Uid(set) => format!("UID {}", c_set(set)),
        CKey::SequenceSet(set) => format!("SET {}", c_set(set)),
        CKey::Not(k) => format!("NOT {}", c_key(k)),
        CKey::Or(a, b) => format!("OR {} {}", c_key(a), c_key(b)),
        CKey::And(keys) => join(keys.as_ref(), c_key),
        CKey::Older(n) => format!("OLDER {n}"),
        CKey::Younger(n) => format!("YOUNGER {n}"),
        CKey::ModSequence { entry, modseq } => match entry {
            Some((flag, kind)) => format!("MODSEQ {} {kind} {modseq}", c_attr_flag(flag)),
            None => format!("MODSEQ {modseq}"),
        },
    }
}

fn c_keys(keys: &[CKey]) -> String {
    join(keys, c_key)
}

fn c_part(part: &Part) -> String {
    o_part(part.0.as_ref())
}

fn c_section(section: &Option<CSection>) -> String {
    let with = |part: &Option<Part>, text: String| match part {
        Some(p) => format!("{}.{text}", c_part(p)),
        None => text,
    };
    let fields = |names: &[it::core::AString]| join(names, |n| bytes(n.as_ref()));
    match section {
        None => String::new(),
        Some(CSection::Part(p)) => c_part(p),
        Some(CSection::Header(p)) => with(p, "HEADER".into()),
        Some(CSection::Text(p)) => with(p, "TEXT".into()),
        Some(CSection::Mime(p)) => format!("{}.MIME", c_part(p)),
        Some(CSection::HeaderFields(p, names)) => {
            with(p, format!("HEADER.FIELDS {}", fields(names.as_ref())))
        }
        Some(CSection::HeaderFieldsNot(p, names)) => {
            with(p, format!("HEADER.FIELDS.NOT {}", fields(names.as_ref())))
        }
    }
}

fn c_partial(partial: &Option<(u32, std::num::NonZeroU32)>) -> String {
    partial.map_or(String::new(), |(start, length)| {
        format!("<{start}.{length}>")
    })
}

fn c_attr(attr: &MessageDataItemName) -> String {
    use MessageDataItemName as A;
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
        A::BodyExt {
            section,
            partial,
            peek,
        } => format!(
            "BODY{}[{}]{}",
            if *peek { ".PEEK" } else { "" },
            c_section(section),
            c_partial(partial)
        ),
        A::Binary {
            section,
            partial,
            peek,
        } => format!(
            "BINARY{}[{}]{}",
            if *peek { ".PEEK" } else { "" },
            o_part(section),
            c_partial(partial)
        ),
        A::BinarySize { section } => format!("BINARY.SIZE[{}]", o_part(section)),
    }
}

fn c_status_item(item: &StatusDataItemName) -> String {
    match item {
        StatusDataItemName::Messages => "MESSAGES",
        StatusDataItemName::Recent => "RECENT",
        StatusDataItemName::UidNext => "UIDNEXT",
        StatusDataItemName::UidValidity => "UIDVALIDITY",
        StatusDataItemName::Unseen => "UNSEEN",
        StatusDataItemName::Deleted => "DELETED",
        StatusDataItemName::DeletedStorage => "DELETED-STORAGE",
        StatusDataItemName::HighestModSeq => "HIGHESTMODSEQ",
        StatusDataItemName::Size => "SIZE",
    }
    .into()
}

fn c_list_mailbox(pattern: &ListMailbox) -> String {
    match pattern {
        ListMailbox::Token(token) => bytes(token.as_ref()),
        ListMailbox::String(string) => bytes(string.as_ref()),
    }
}

fn c_select(mailbox: &CMailbox, parameters: &[SelectParameter]) -> Vec<String> {
    let mut params: Vec<String> = parameters
        .iter()
        .map(|p| match p {
            SelectParameter::CondStore => "CONDSTORE".to_string(),
            SelectParameter::QResync {
                uid_validity,
                mod_sequence_value,
                known_uids,
                seq_match_data,
            } => format!(
                "QRESYNC {uid_validity} {mod_sequence_value} {} {}",
                known_uids.as_ref().map_or("-".into(), c_set),
                seq_match_data.as_ref().map_or("-".into(), |(a, b)| format!(
                    "{}/{}",
                    c_set(a),
                    c_set(b)
                ))
            ),
        })
        .collect();
    params.sort();
    vec![c_mailbox(mailbox), join(params, |p| p)]
}

pub fn codec_render(command: &it::command::Command) -> String {
    let uid_name = |uid: bool, name: &str| {
        if uid {
            format!("UID {name}")
        } else {
            name.to_string()
        }
    };
    let (name, args): (String, Vec<String>) = match &command.body {
        CBody::Capability => ("CAPABILITY".into(), vec![]),
        CBody::Noop => ("NOOP".into(), vec![]),
        CBody::Logout => ("LOGOUT".into(), vec![]),
        CBody::StartTLS => ("STARTTLS".into(), vec![]),
        CBody::Namespace => ("NAMESPACE".into(), vec![]),
        CBody::Idle => ("IDLE".into(), vec![]),
        CBody::Check => ("CHECK".into(), vec![]),
        CBody::Close => ("CLOSE".into(), vec![]),
        CBody::Unselect => ("UNSELECT".into(), vec![]),
        CBody::Expunge => ("EXPUNGE".into(), vec![]),
        CBody::Authenticate {
            mechanism,
            initial_response,
        } => (
            "AUTHENTICATE".into(),
            vec![
                upper(mechanism.as_ref()),
                initial_response
                    .as_ref()
                    .map_or("-".into(), |ir| bytes(ir.declassify())),
            ],
        ),
        CBody::Login { username, password } => (
            "LOGIN".into(),
            vec![
                bytes(username.as_ref()),
                bytes(password.declassify().as_ref()),
            ],
        ),
        CBody::Enable { capabilities } => {
            ("ENABLE".into(), vec![join(capabilities.as_ref(), upper)])
        }
        CBody::Select {
            mailbox,
            parameters,
        } => ("SELECT".into(), c_select(mailbox, parameters)),
        CBody::Examine {
            mailbox,
            parameters,
        } => ("EXAMINE".into(), c_select(mailbox, parameters)),
        CBody::Create { mailbox } => ("CREATE".into(), vec![c_mailbox(mailbox)]),
        CBody::Delete { mailbox } => ("DELETE".into(), vec![c_mailbox(mailbox)]),
        CBody::Subscribe { mailbox } => ("SUBSCRIBE".into(), vec![c_mailbox(mailbox)]),
        CBody::Unsubscribe { mailbox } => ("UNSUBSCRIBE".into(), vec![c_mailbox(mailbox)]),
        CBody::GetQuotaRoot { mailbox } => ("GETQUOTAROOT".into(), vec![c_mailbox(mailbox)]),
        CBody::Rename { from, to } => ("RENAME".into(), vec![c_mailbox(from), c_mailbox(to)]),
        CBody::List {
            reference,
            mailbox_wildcard,
        } => (
            "LIST".into(),
            vec![
                c_mailbox(reference),
                join([mailbox_wildcard], c_list_mailbox),
            ],
        ),
        CBody::Lsub {
            reference,
            mailbox_wildcard,
        } => (
            "LSUB".into(),
            vec![
                c_mailbox(reference),
                join([mailbox_wildcard], c_list_mailbox),
            ],
        ),
        CBody::Status {
            mailbox,
            item_names,
        } => (
            "STATUS".into(),
            vec![c_mailbox(mailbox), join(item_names.iter(), c_status_item)],
        ),
        CBody::Append {
            mailbox,
            flags,
            date,
            message,
        } => {
            let (kind, data): (&str, &[u8]) = match message {
                LiteralOrLiteral8::Literal(l) => ("literal", l.data()),
                LiteralOrLiteral8::Literal8(l) => ("literal8", l.data.as_ref()),
            };
            (
                "APPEND".into(),
                vec![
                    c_mailbox(mailbox),
                    format!(
                        "{} {} {kind} {}",
                        c_flags(flags),
                        date.as_ref()
                            .map_or("-".into(), |d| d.as_ref().to_rfc3339()),
                        bytes(data)
                    ),
                ],
            )
        }
        CBody::ExpungeUid { sequence_set } => ("UID EXPUNGE".into(), vec![c_set(sequence_set)]),
        CBody::Search {
            charset,
            criteria,
            uid,
        } => (
            uid_name(*uid, "SEARCH"),
            vec![
                charset.as_ref().map_or("-".into(), |c| upper(c.as_ref())),
                c_keys(criteria.as_ref()),
            ],
        ),
        CBody::Fetch {
            sequence_set,
            macro_or_item_names,
            uid,
            modifiers,
        } => {
            let items = match macro_or_item_names {
                MacroOrMessageDataItemNames::Macro(Macro::All) => "ALL".to_string(),
                MacroOrMessageDataItemNames::Macro(Macro::Fast) => "FAST".to_string(),
                MacroOrMessageDataItemNames::Macro(Macro::Full) => "FULL".to_string(),
                MacroOrMessageDataItemNames::MessageDataItemNames(names) => join(names, c_attr),
                // `Macro` is non-exhaustive; a new macro shows up as a mismatch.
                MacroOrMessageDataItemNames::Macro(other) => format!("{other:?}"),
            };
            let mut mods: Vec<String> = modifiers
                .iter()
                .map(|m| match m {
                    FetchModifier::ChangedSince(n) => format!("CHANGEDSINCE {n}"),
                    FetchModifier::Vanished => "VANISHED".to_string(),
                })
                .collect();
            mods.sort();
            (
                uid_name(*uid, "FETCH"),
                vec![c_set(sequence_set), items, join(mods, |m| m)],
            )
        }
        CBody::Store {
            sequence_set,
            kind,
            response,
            flags,
            uid,
            modifiers,
        } => {
            let op = match kind {
                StoreType::Replace => "FLAGS",
                StoreType::Add => "+FLAGS",
                StoreType::Remove => "-FLAGS",
            };
            let silent = match response {
                StoreResponse::Answer => "",
                StoreResponse::Silent => ".SILENT",
            };
            let unchanged = match modifiers.as_slice() {
                [] => "-".to_string(),
                [StoreModifier::UnchangedSince(n)] => format!("UNCHANGEDSINCE {n}"),
                more => format!("{more:?}"),
            };
            (
                uid_name(*uid, "STORE"),
                vec![
                    c_set(sequence_set),
                    format!("{op}{silent}"),
                    c_flags(flags),
                    unchanged,
                ],
            )
        }
        CBody::Copy {
            sequence_set,
            mailbox,
            uid,
        } => (
            uid_name(*uid, "COPY"),
            vec![c_set(sequence_set), c_mailbox(mailbox)],
        ),
        CBody::Move {
            sequence_set,
            mailbox,
            uid,
        } => (
            uid_name(*uid, "MOVE"),
            vec![c_set(sequence_set), c_mailbox(mailbox)],
        ),
        CBody::Sort {
            sort_criteria,
            charset,
            search_criteria,
            uid,
        } => (
            uid_name(*uid, "SORT"),
            vec![
                join(sort_criteria.as_ref(), |c| {
                    format!(
                        "{}{}",
                        if c.reverse { "REVERSE " } else { "" },
                        upper(c.key.as_ref())
                    )
                }),
                upper(charset.as_ref()),
                c_keys(search_criteria.as_ref()),
            ],
        ),
        CBody::Thread {
            algorithm,
            charset,
            search_criteria,
            uid,
        } => {
            let algorithm = match algorithm {
                CThreadAlg::OrderedSubject => "ORDEREDSUBJECT".to_string(),
                CThreadAlg::References => "REFERENCES".to_string(),
                CThreadAlg::Other(other) => upper(other.as_ref()),
            };
            (
                uid_name(*uid, "THREAD"),
                vec![
                    algorithm,
                    upper(charset.as_ref()),
                    c_keys(search_criteria.as_ref()),
                ],
            )
        }
        CBody::Id { parameters } => (
            "ID".into(),
            vec![match parameters {
                None => "NIL".into(),
                Some(list) => join(list, |(k, v)| {
                    format!(
                        "{}={}",
                        bytes(k.as_ref()),
                        v.0.as_ref().map_or("NIL".into(), |v| bytes(v.as_ref()))
                    )
                }),
            }],
        ),
        CBody::GetQuota { root } => ("GETQUOTA".into(), vec![bytes(root.as_ref())]),
        CBody::SetQuota { root, quotas } => (
            "SETQUOTA".into(),
            vec![
                bytes(root.as_ref()),
                join(quotas, |q| format!("{} {}", upper(&q.resource), q.limit)),
            ],
        ),
        CBody::Compress { algorithm } => ("COMPRESS".into(), vec![upper(algorithm)]),
    };
    render(command.tag.as_ref(), &name, args)
}
