//! Mailbox-level commands: SELECT/EXAMINE with CONDSTORE/QRESYNC
//! parameters (RFC 9051 §6.3.2-3, RFC 7162 §3.1.8, §3.2.5), CREATE with
//! USE (RFC 6154 §3), STATUS items (RFC 9051 §6.3.11 + extensions).

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};

use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::error::ParseError;
use crate::types::atom::Atom;
use crate::types::mailbox::Mailbox;
use crate::types::nonempty::NonEmpty;
use crate::types::sequence::SequenceSet;

/// SELECT or EXAMINE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Select {
    pub mailbox: Mailbox,
    /// `(CONDSTORE)` select parameter (RFC 7162 §3.1.8).
    pub condstore: bool,
    pub qresync: Option<QResync>,
}

/// `QRESYNC (uidvalidity modseq [known-uids] [seq-match-data])`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QResync {
    pub uid_validity: NonZeroU32,
    pub modseq: NonZeroU64,
    /// UIDs the client knows; never contains `*`.
    pub known_uids: Option<SequenceSet>,
    /// `(known-sequence-set known-uid-set)`: parallel samples.
    pub seq_match: Option<(SequenceSet, SequenceSet)>,
}

impl Select {
    /// After `SELECT` / `EXAMINE`.
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        c.sp()?;
        let mailbox = Mailbox::parse(c)?;
        let mut select = Select {
            mailbox,
            condstore: false,
            qresync: None,
        };
        if c.peek()? == b' ' {
            c.sp()?;
            c.paren_list(false, |c| {
                match c.word()?.to_ascii_uppercase().as_str() {
                    "CONDSTORE" if !select.condstore => select.condstore = true,
                    "QRESYNC" if select.qresync.is_none() => {
                        c.sp()?;
                        select.qresync = Some(parse_qresync(c)?);
                    }
                    _ => return c.syntax("CONDSTORE or QRESYNC"),
                }
                Ok(())
            })?;
        }
        Ok(select)
    }

    pub(crate) fn encode(&self, out: &mut Out, name: &str) {
        out.str(name).sp().astring(self.mailbox.as_bytes());
        let mut params: Vec<String> = Vec::new();
        if self.condstore {
            params.push("CONDSTORE".into());
        }
        if let Some(q) = &self.qresync {
            let mut text = format!("QRESYNC ({} {}", q.uid_validity, q.modseq);
            if let Some(known) = &q.known_uids {
                text.push_str(&format!(" {known}"));
            }
            if let Some((seqs, uids)) = &q.seq_match {
                text.push_str(&format!(" ({seqs} {uids})"));
            }
            text.push(')');
            params.push(text);
        }
        if !params.is_empty() {
            out.sp().list(&params, |o, p| {
                o.str(p);
            });
        }
    }
}

fn parse_qresync(c: &mut Cursor) -> PResult<QResync> {
    c.expect(b'(', "(")?;
    let uid_validity = c.nz_number()?;
    c.sp()?;
    let modseq = c.nz_number64()?;
    let mut known_uids = None;
    let mut seq_match = None;
    // `[SP known-uids] [SP seq-match-data]`: every optional part is
    // introduced by exactly one SP (RFC 7162 §3.2.5).
    let mut more = c.eat(b' ')?;
    if more && c.peek()? != b'(' {
        let set = SequenceSet::parse(c)?;
        if set.uses_last() || set == SequenceSet::Saved {
            return Err(ParseError::Invalid("known-uids must not use * or $").into());
        }
        known_uids = Some(set);
        more = c.eat(b' ')?;
    }
    if more {
        c.expect(b'(', "seq-match-data")?;
        let seqs = SequenceSet::parse(c)?;
        c.sp()?;
        let uids = SequenceSet::parse(c)?;
        c.expect(b')', ")")?;
        seq_match = Some((seqs, uids));
    }
    c.expect(b')', ")")?;
    Ok(QResync {
        uid_validity,
        modseq,
        known_uids,
        seq_match,
    })
}

/// Special-use attributes (RFC 6154 §2, RFC 8457 `\Important`), used by
/// CREATE (USE ...) and LIST responses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
    Important,
    /// `use-attr-ext = "\" atom`.
    Other(Atom),
}

impl SpecialUse {
    /// From the name without its backslash, case-insensitively.
    pub(crate) fn from_name(name: Atom) -> Self {
        const KNOWN: [(&str, SpecialUse); 8] = [
            ("All", SpecialUse::All),
            ("Archive", SpecialUse::Archive),
            ("Drafts", SpecialUse::Drafts),
            ("Flagged", SpecialUse::Flagged),
            ("Junk", SpecialUse::Junk),
            ("Sent", SpecialUse::Sent),
            ("Trash", SpecialUse::Trash),
            ("Important", SpecialUse::Important),
        ];
        KNOWN
            .into_iter()
            .find(|(known, _)| name.eq_ignore_case(known))
            .map(|(_, value)| value)
            .unwrap_or(SpecialUse::Other(name))
    }

    fn parse(c: &mut Cursor) -> PResult<Self> {
        c.expect(b'\\', "special-use attribute")?;
        let name = c.atom()?;
        match Atom::new(name) {
            Ok(atom) => Ok(SpecialUse::from_name(atom)),
            Err(_) => c.syntax("special-use attribute"),
        }
    }
}

impl fmt::Display for SpecialUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SpecialUse::All => "All",
            SpecialUse::Archive => "Archive",
            SpecialUse::Drafts => "Drafts",
            SpecialUse::Flagged => "Flagged",
            SpecialUse::Junk => "Junk",
            SpecialUse::Sent => "Sent",
            SpecialUse::Trash => "Trash",
            SpecialUse::Important => "Important",
            SpecialUse::Other(atom) => atom.as_str(),
        };
        write!(f, "\\{name}")
    }
}

/// After `CREATE`: `SP mailbox [SP "(" "USE" SP "(" use-attrs ")" ")"]`.
pub(crate) fn parse_create(c: &mut Cursor) -> PResult<(Mailbox, Vec<SpecialUse>)> {
    c.sp()?;
    let mailbox = Mailbox::parse(c)?;
    let mut uses = Vec::new();
    if c.peek()? == b' ' {
        c.sp()?;
        let mut seen = false;
        c.paren_list(false, |c| {
            if !seen && c.word()?.eq_ignore_ascii_case("USE") {
                seen = true;
                c.sp()?;
                uses = c.paren_list(true, SpecialUse::parse)?;
                Ok(())
            } else {
                c.syntax("USE")
            }
        })?;
    }
    Ok((mailbox, uses))
}

pub(crate) fn encode_create(out: &mut Out, mailbox: &Mailbox, uses: &[SpecialUse]) {
    out.str("CREATE ").astring(mailbox.as_bytes());
    if !uses.is_empty() {
        out.str(" (USE ").list(uses, |o, u| {
            o.display(u);
        });
        out.raw(b")");
    }
}

/// `status-att`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusItem {
    Messages,
    UidNext,
    UidValidity,
    Unseen,
    /// RFC 9051.
    Deleted,
    /// RFC 9051: total octets.
    Size,
    /// IMAP4rev1 only.
    Recent,
    /// RFC 7162 §3.1.6.
    HighestModSeq,
    /// RFC 7889 §4.
    AppendLimit,
    /// RFC 8474 §4.
    MailboxId,
    /// RFC 9208 §4.2.
    DeletedStorage,
}

impl StatusItem {
    pub fn name(&self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::Deleted => "DELETED",
            StatusItem::Size => "SIZE",
            StatusItem::Recent => "RECENT",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
            StatusItem::AppendLimit => "APPENDLIMIT",
            StatusItem::MailboxId => "MAILBOXID",
            StatusItem::DeletedStorage => "DELETED-STORAGE",
        }
    }

    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        const ALL: [StatusItem; 11] = [
            StatusItem::Messages,
            StatusItem::UidNext,
            StatusItem::UidValidity,
            StatusItem::Unseen,
            StatusItem::Deleted,
            StatusItem::Size,
            StatusItem::Recent,
            StatusItem::HighestModSeq,
            StatusItem::AppendLimit,
            StatusItem::MailboxId,
            StatusItem::DeletedStorage,
        ];
        let word = c.word()?;
        match ALL
            .into_iter()
            .find(|item| word.eq_ignore_ascii_case(item.name()))
        {
            Some(item) => Ok(item),
            None => c.syntax("status attribute"),
        }
    }

    /// `"(" status-att *(SP status-att) ")"`.
    pub(crate) fn parse_list(c: &mut Cursor) -> PResult<NonEmpty<Self>> {
        let items = c.paren_list(false, StatusItem::parse)?;
        match NonEmpty::from_vec(items) {
            Some(items) => Ok(items),
            None => c.syntax("status attribute"),
        }
    }

    pub(crate) fn encode_list(out: &mut Out, items: &[StatusItem]) {
        out.list(items, |o, i| {
            o.str(i.name());
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn select(input: &str) -> PResult<Select> {
        Select::parse(&mut Cursor::new(format!(" {input}\r\n").as_bytes()))
    }

    fn set(s: &str) -> SequenceSet {
        SequenceSet::parse(&mut Cursor::new(format!("{s} ").as_bytes())).unwrap()
    }

    #[test]
    fn select_params() {
        let q = |known: Option<&str>, seq: Option<(&str, &str)>| {
            Some(QResync {
                uid_validity: NonZeroU32::new(67890007).unwrap(),
                modseq: NonZeroU64::new(20050715194045000).unwrap(),
                known_uids: known.map(set),
                seq_match: seq.map(|(a, b)| (set(a), set(b))),
            })
        };
        let cases: Vec<(&str, bool, Option<QResync>)> = vec![
            ("INBOX", false, None),
            ("INBOX (CONDSTORE)", true, None),
            (
                "INBOX (QRESYNC (67890007 20050715194045000))",
                false,
                q(None, None),
            ),
            (
                "INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))",
                false,
                q(Some("41,43:211,214:541"), None),
            ),
            (
                "INBOX (QRESYNC (67890007 20050715194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))",
                false,
                q(
                    Some("1:29997"),
                    Some((
                        "5000,7500,9000,9990:9999",
                        "15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997",
                    )),
                ),
            ),
            (
                "INBOX (QRESYNC (67890007 20050715194045000 (1 2)))",
                false,
                q(None, Some(("1", "2"))),
            ),
            (
                "INBOX (CONDSTORE QRESYNC (67890007 20050715194045000))",
                true,
                q(None, None),
            ),
        ];
        for (input, condstore, qresync) in cases {
            let expected = Select {
                mailbox: Mailbox::inbox(),
                condstore,
                qresync,
            };
            assert_eq!(select(input), Ok(expected.clone()), "{input}");
            let mut out = Out::new(false);
            expected.encode(&mut out, "SELECT");
            let text = String::from_utf8(crate::encode::flatten(out.finish()).unwrap()).unwrap();
            assert_eq!(
                select(text.trim_start_matches("SELECT ")),
                Ok(expected),
                "{text}"
            );
        }
        for bad in [
            "INBOX ()",
            "INBOX (FOO)",
            "INBOX (CONDSTORE CONDSTORE)",
            "INBOX (QRESYNC (0 1))",
            "INBOX (QRESYNC (1 0))",
            "INBOX (QRESYNC (1 1 1:*))",
            "INBOX (QRESYNC (1))",
            // One SP before each optional part, never more or fewer.
            "INBOX (QRESYNC (1 1 1:5 ))",
            "INBOX (QRESYNC (1 1 ))",
            "INBOX (QRESYNC (1 1(1 2)))",
            "INBOX (QRESYNC (1 1 1:5(1 2)))",
            "INBOX (QRESYNC (1 1 1:5  (1 2)))",
        ] {
            assert!(matches!(select(bad), Err(PErr::Fail(_))), "{bad}");
        }
    }

    #[test]
    fn create_use() {
        let parse =
            |input: &str| parse_create(&mut Cursor::new(format!(" {input}\r\n").as_bytes()));
        assert_eq!(parse("foo"), Ok((Mailbox::new("foo"), vec![])));
        assert_eq!(
            parse("MySpecial (USE (\\Drafts \\Sent \\X-Custom))"),
            Ok((
                Mailbox::new("MySpecial"),
                vec![
                    SpecialUse::Drafts,
                    SpecialUse::Sent,
                    SpecialUse::Other(Atom::new("X-Custom").unwrap())
                ]
            ))
        );
        assert_eq!(parse("x (USE ())"), Ok((Mailbox::new("x"), vec![])));
        for bad in [
            "x ()",
            "x (FOO (\\Sent))",
            "x (USE (Sent))",
            "x (USE \\Sent)",
        ] {
            assert!(matches!(parse(bad), Err(PErr::Fail(_))), "{bad}");
        }
        let mut out = Out::new(false);
        encode_create(
            &mut out,
            &Mailbox::new("a b"),
            &[SpecialUse::Sent, SpecialUse::Important],
        );
        assert_eq!(
            crate::encode::flatten(out.finish()).unwrap(),
            b"CREATE \"a b\" (USE (\\Sent \\Important))"
        );
    }

    #[test]
    fn status_items() {
        let got = StatusItem::parse_list(&mut Cursor::new(
            b"(MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ APPENDLIMIT MAILBOXID deleted-storage) ",
        ));
        assert_eq!(got.map(|l| l.len()), Ok(11));
        assert!(matches!(
            StatusItem::parse_list(&mut Cursor::new(b"() ")),
            Err(PErr::Fail(_))
        ));
        assert!(matches!(
            StatusItem::parse_list(&mut Cursor::new(b"(FOO) ")),
            Err(PErr::Fail(_))
        ));
    }
}
