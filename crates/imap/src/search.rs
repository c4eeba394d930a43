//! Evaluating SEARCH keys (RFC 9051 §6.4.4) against one message. Pure: everything a key needs
//! is loaded beforehand into [`Message`] and [`Context`].

use crate::facts::date_time;
use mailroom_imap_proto::command::search::SearchKey;
use mailroom_imap_proto::{Date, ObjectId};
use mailroom_store::facts::EnvelopeAddress;
use mailroom_store::{MailDate, MessageMeta, MessageSummary, SystemFlags};
use std::collections::{HashMap, HashSet};

/// Which full-text question a key asks, with the needle as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TextQuery {
    Body(Vec<u8>),
    Text(Vec<u8>),
}

/// The UIDs each full-text query matched, by needle (looked up without building a key).
#[derive(Debug, Default)]
pub(crate) struct TextHits {
    pub body: HashMap<Vec<u8>, HashSet<u32>>,
    pub text: HashMap<Vec<u8>, HashSet<u32>>,
}

impl TextHits {
    pub fn insert(&mut self, query: TextQuery, uids: HashSet<u32>) {
        match query {
            TextQuery::Body(n) => self.body.insert(n, uids),
            TextQuery::Text(n) => self.text.insert(n, uids),
        };
    }
}

/// What is the same for every message of one search.
pub(crate) struct Context<'a> {
    pub largest_seq: u32,
    pub largest_uid: u32,
    pub saved: Option<&'a [u32]>,
    pub now: i64,
    pub hits: &'a TextHits,
}

/// One message and what was loaded about it.
pub(crate) struct Message<'a> {
    pub seq: u32,
    pub summary: &'a MessageSummary,
    pub meta: Option<&'a MessageMeta>,
    /// The raw header block, when a HEADER key needs it.
    pub header: Option<&'a [u8]>,
    pub email_id: Option<&'a ObjectId>,
    /// \Recent in this session (IMAP4rev1 only).
    pub recent: bool,
}

pub(crate) fn text(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// Case-insensitive substring (RFC 9051 §6.4.4: "case-insensitive match").
fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// The full-text queries and whether metadata or header bytes are needed.
pub(crate) fn needs(key: &SearchKey, out: &mut Needs) {
    use SearchKey as K;
    match key {
        K::Body(s) => {
            out.text.insert(TextQuery::Body(s.clone()));
        }
        K::Text(s) => {
            out.text.insert(TextQuery::Text(s.clone()));
        }
        K::Header(..) => {
            out.header = true;
            out.meta = true;
        }
        K::Before(_)
        | K::On(_)
        | K::Since(_)
        | K::SentBefore(_)
        | K::SentOn(_)
        | K::SentSince(_)
        | K::Larger(_)
        | K::Smaller(_)
        | K::From(_)
        | K::To(_)
        | K::Cc(_)
        | K::Bcc(_)
        | K::Subject(_)
        | K::Older(_)
        | K::Younger(_)
        | K::EmailId(_)
        | K::ThreadId(_)
        | K::SavedBefore(_)
        | K::SavedOn(_)
        | K::SavedSince(_) => out.meta = true,
        K::Not(k) => needs(k, out),
        K::Or(a, b) => {
            needs(a, out);
            needs(b, out);
        }
        K::And(keys) => keys.iter().for_each(|k| needs(k, out)),
        _ => {}
    }
    out.keys += 1;
}

#[derive(Default)]
pub(crate) struct Needs {
    pub meta: bool,
    pub header: bool,
    pub text: HashSet<TextQuery>,
    /// Search keys in the program, parentheses and NOT/OR included.
    pub keys: usize,
}

/// True when any key is a MODSEQ key (the response then carries the highest MODSEQ,
/// RFC 7162 §3.1.5).
pub(crate) fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSeq { .. } => true,
        SearchKey::Not(k) => uses_modseq(k),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        SearchKey::And(keys) => keys.iter().any(uses_modseq),
        _ => false,
    }
}

fn day(date: MailDate) -> Option<Date> {
    date_time(date).map(|d| d.date())
}

/// The text FROM/TO/CC/BCC search: every entry of the envelope's list, group names included
/// (they are part of the structure, RFC 9051 §6.4.4).
fn addresses(list: &[EnvelopeAddress]) -> String {
    let mut out = String::new();
    for a in list {
        match a {
            EnvelopeAddress::Mailbox {
                name,
                mailbox,
                host,
                ..
            } => {
                if let Some(name) = name {
                    out.push_str(name);
                    out.push(' ');
                }
                out.push('<');
                out.push_str(mailbox.as_deref().unwrap_or(""));
                out.push('@');
                out.push_str(host.as_deref().unwrap_or(""));
                out.push_str("> ");
            }
            EnvelopeAddress::GroupStart(name) => {
                out.push_str(name);
                out.push_str(": ");
            }
            EnvelopeAddress::GroupEnd => out.push_str("; "),
        }
    }
    out
}

/// The unfolded values of every field called `name` in a header block.
fn header_values(header: &[u8], name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(header)
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    text.lines()
        .filter_map(|line| {
            let (field, value) = line.split_once(':')?;
            field
                .trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_string())
        })
        .collect()
}

pub(crate) fn matches(key: &SearchKey, m: &Message, ctx: &Context) -> bool {
    use SearchKey as K;
    let flags = &m.summary.flags;
    let sys = |f: SystemFlags| flags.system.contains(f);
    let meta = m.meta;
    let internal = || meta.and_then(|x| day(x.internal_date));
    let sent = || {
        meta.and_then(|x| x.facts.sent_day())
            .and_then(|(y, m, d)| Date::new(y, m, d))
    };
    let saved = || meta.and_then(|x| day(MailDate::utc(x.saved_at)));
    let env = || meta.map(|x| &x.facts.envelope);
    match key {
        K::All => true,
        K::Answered => sys(SystemFlags::ANSWERED),
        K::Deleted => sys(SystemFlags::DELETED),
        K::Draft => sys(SystemFlags::DRAFT),
        K::Flagged => sys(SystemFlags::FLAGGED),
        K::Seen => sys(SystemFlags::SEEN),
        K::Unanswered => !sys(SystemFlags::ANSWERED),
        K::Undeleted => !sys(SystemFlags::DELETED),
        K::Undraft => !sys(SystemFlags::DRAFT),
        K::Unflagged => !sys(SystemFlags::FLAGGED),
        K::Unseen => !sys(SystemFlags::SEEN),
        K::Keyword(k) => flags.has_keyword(k.as_str()),
        K::Unkeyword(k) => !flags.has_keyword(k.as_str()),
        // RFC 3501 §6.4.4; an IMAP4rev2 session has nothing recent (RFC 9051 §2.3.2).
        K::Recent => m.recent,
        K::New => m.recent && !sys(SystemFlags::SEEN),
        K::Old => !m.recent,
        K::Before(d) => internal().is_some_and(|x| x < *d),
        K::On(d) => internal().is_some_and(|x| x == *d),
        K::Since(d) => internal().is_some_and(|x| x >= *d),
        K::SentBefore(d) => sent().is_some_and(|x| x < *d),
        K::SentOn(d) => sent().is_some_and(|x| x == *d),
        K::SentSince(d) => sent().is_some_and(|x| x >= *d),
        K::SavedBefore(d) => saved().is_some_and(|x| x < *d),
        K::SavedOn(d) => saved().is_some_and(|x| x == *d),
        K::SavedSince(d) => saved().is_some_and(|x| x >= *d),
        K::SaveDateSupported => true,
        K::Larger(n) => meta.is_some_and(|x| x.size > *n),
        K::Smaller(n) => meta.is_some_and(|x| x.size < *n),
        K::From(s) => env().is_some_and(|e| contains(&addresses(&e.from), &text(s))),
        K::To(s) => env().is_some_and(|e| contains(&addresses(&e.to), &text(s))),
        K::Cc(s) => env().is_some_and(|e| contains(&addresses(&e.cc), &text(s))),
        K::Bcc(s) => env().is_some_and(|e| contains(&addresses(&e.bcc), &text(s))),
        K::Subject(s) => meta.is_some_and(|x| {
            let subject = x
                .facts
                .subject
                .clone()
                .or_else(|| x.facts.envelope.subject.clone())
                .unwrap_or_default();
            contains(&subject, &text(s))
        }),
        K::Header(name, value) => m.header.is_some_and(|h| {
            let values = header_values(h, &text(name));
            let needle = text(value);
            values.iter().any(|v| contains(v, &needle))
        }),
        K::Body(s) => hit(&ctx.hits.body, s, m),
        K::Text(s) => hit(&ctx.hits.text, s, m),
        K::Uid(set) => match set.contains(m.summary.uid, ctx.largest_uid) {
            Some(found) => found,
            None => ctx.saved.is_some_and(|s| s.contains(&m.summary.uid)),
        },
        K::SequenceSet(set) => match set.contains(m.seq, ctx.largest_seq) {
            Some(found) => found,
            None => ctx.saved.is_some_and(|s| s.contains(&m.summary.uid)),
        },
        K::Not(k) => !matches(k, m, ctx),
        K::Or(a, b) => matches(a, m, ctx) || matches(b, m, ctx),
        K::And(keys) => keys.iter().all(|k| matches(k, m, ctx)),
        // Per-flag MODSEQ is not kept; the message's MODSEQ bounds every flag's (RFC 7162 §3.1.5).
        K::ModSeq { modseq, .. } => m.summary.modseq >= *modseq,
        K::Older(n) => {
            meta.is_some_and(|x| x.internal_date.seconds <= ctx.now - i64::from(n.get()))
        }
        K::Younger(n) => {
            meta.is_some_and(|x| x.internal_date.seconds >= ctx.now - i64::from(n.get()))
        }
        K::EmailId(id) => m.email_id.is_some_and(|e| e == id),
        K::ThreadId(id) => meta
            .and_then(crate::cmd::fetch::thread_id)
            .is_some_and(|t| &t == id),
    }
}

fn hit(hits: &HashMap<Vec<u8>, HashSet<u32>>, needle: &[u8], m: &Message) -> bool {
    hits.get(needle)
        .is_some_and(|uids| uids.contains(&m.summary.uid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_unfold() {
        let h = b"X-A: one\r\nx-a: two\r\n three\r\nX-B: no\r\n\r\n";
        assert_eq!(header_values(h, "X-A"), ["one", "two three"]);
        assert!(contains("Hello World", "WORLD"));
        assert!(contains("anything", ""));
    }
}
