//! SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4) with ESEARCH return options
//! (RFC 4731), SEARCHRES `$` (RFC 5182), CONDSTORE MODSEQ (RFC 7162 §3.1.5),
//! WITHIN (RFC 5032), OBJECTID (RFC 8474) and SAVEDATE (RFC 8514) keys.

use std::num::NonZeroU32;

use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::error::ParseError;
use crate::limits::MAX_NESTING;
use crate::types::atom::Atom;
use crate::types::datetime::Date;
use crate::types::flag::Flag;
use crate::types::nonempty::NonEmpty;
use crate::types::objectid::ObjectId;
use crate::types::sequence::SequenceSet;

/// One search criterion. String arguments are raw octets in the command's
/// CHARSET; the server decodes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    All,
    Answered,
    Bcc(Vec<u8>),
    Before(Date),
    Body(Vec<u8>),
    Cc(Vec<u8>),
    Deleted,
    Draft,
    Flagged,
    From(Vec<u8>),
    Header(Vec<u8>, Vec<u8>),
    Keyword(Atom),
    Larger(u64),
    /// IMAP4rev1 only (`\Recent` and not `\Seen`).
    New,
    Not(Box<SearchKey>),
    /// IMAP4rev1 only (not `\Recent`).
    Old,
    On(Date),
    Or(Box<SearchKey>, Box<SearchKey>),
    /// IMAP4rev1 only.
    Recent,
    Seen,
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Since(Date),
    Smaller(u64),
    Subject(Vec<u8>),
    Text(Vec<u8>),
    To(Vec<u8>),
    Uid(SequenceSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(Atom),
    Unseen,
    /// Message sequence numbers (or `$`).
    SequenceSet(SequenceSet),
    /// A parenthesised group: all keys must match.
    And(NonEmpty<SearchKey>),
    /// RFC 7162 §3.1.5: `MODSEQ ["/flags/<flag>" priv|shared|all] n`.
    ModSeq {
        entry: Option<ModSeqEntry>,
        modseq: u64,
    },
    /// RFC 5032: INTERNALDATE older than n seconds.
    Older(NonZeroU32),
    /// RFC 5032: INTERNALDATE within the last n seconds.
    Younger(NonZeroU32),
    /// RFC 8474 §5.
    EmailId(ObjectId),
    ThreadId(ObjectId),
    /// RFC 8514 §4: by the date the message was saved to this mailbox.
    SavedBefore(Date),
    SavedOn(Date),
    SavedSince(Date),
    SaveDateSupported,
}

/// RFC 7162 `search-modseq-ext`: restrict MODSEQ to one flag's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModSeqEntry {
    pub flag: Flag,
    pub entry_type: EntryType,
}

/// `entry-type-req = "priv" / "shared" / "all"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Private,
    Shared,
    All,
}

/// ESEARCH `search-return-opt` (RFC 4731 §3.1, RFC 5182 `SAVE`, RFC 5267 `UPDATE`,
/// RFC 9394 `PARTIAL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SearchReturn {
    Min,
    Max,
    All,
    Count,
    Save,
    /// Keep the result up to date with ADDTO / REMOVEFROM (CONTEXT=SEARCH, CONTEXT=SORT).
    Update,
    Partial(PartialRange),
}

/// RFC 9394 `partial-range`: the results `first..=last` in order, counted from 1 at the
/// start, or (both negative) from -1 at the end. Kept with the smaller magnitude first, as
/// the response repeats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialRange {
    pub first: i64,
    pub last: i64,
}

impl PartialRange {
    /// `nz-number ":" nz-number` or `"-" nz-number ":-" nz-number`.
    fn parse(c: &mut Cursor) -> PResult<Self> {
        let negative = c.eat(b'-')?;
        let a = i64::from(c.nz_number()?.get());
        if !c.eat(b':')? {
            return c.syntax("partial-range: low:high");
        }
        if negative && !c.eat(b'-')? {
            return c.syntax("partial-range: -low:-high");
        }
        let b = i64::from(c.nz_number()?.get());
        let (low, high) = (a.min(b), a.max(b));
        Ok(if negative {
            PartialRange {
                first: -low,
                last: -high,
            }
        } else {
            PartialRange {
                first: low,
                last: high,
            }
        })
    }

    /// The 0-based positions `start..end` the range selects of `len` results.
    pub fn positions(&self, len: usize) -> std::ops::Range<usize> {
        let len_i = len as i64;
        let (from, to) = if self.first > 0 {
            (self.first - 1, self.last)
        } else {
            (len_i + self.last, len_i + self.first + 1)
        };
        let clamp = |v: i64| v.clamp(0, len_i) as usize;
        clamp(from)..clamp(to).max(clamp(from))
    }
}

impl std::fmt::Display for PartialRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.first, self.last)
    }
}

/// A SEARCH or UID SEARCH command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    pub uid: bool,
    /// `None`: a classic SEARCH response. `Some(vec![])` (`RETURN ()`)
    /// means ESEARCH with the default `ALL` (RFC 4731 §3.1).
    pub return_opts: Option<Vec<SearchReturn>>,
    /// `CHARSET` argument (ASCII name such as `UTF-8`).
    pub charset: Option<String>,
    /// The keys, all of which must match.
    pub criteria: NonEmpty<SearchKey>,
}

impl Search {
    /// After `SEARCH`: `[search-return-opts] SP search-program`.
    pub(crate) fn parse(c: &mut Cursor, uid: bool) -> PResult<Self> {
        c.sp()?;
        let return_opts = parse_return_opts(c)?;
        let charset = if c
            .peek_word()?
            .is_some_and(|w| w.eq_ignore_ascii_case("CHARSET"))
        {
            c.word()?;
            c.sp()?;
            let charset = parse_charset(c)?;
            c.sp()?;
            Some(charset)
        } else {
            None
        };
        let criteria = parse_keys(c)?;
        Ok(Search {
            uid,
            return_opts,
            charset,
            criteria,
        })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str(if self.uid { "UID SEARCH" } else { "SEARCH" });
        encode_return_opts(out, self.return_opts.as_deref());
        if let Some(charset) = &self.charset {
            out.str(" CHARSET ").astring(charset.as_bytes());
        }
        out.sp();
        encode_keys(out, &self.criteria);
    }
}

/// `[SP "RETURN" SP "(" [opt *(SP opt)] ")" SP]`, cursor after the SP
/// that follows the command name; consumes the trailing SP when present.
pub(crate) fn parse_return_opts(c: &mut Cursor) -> PResult<Option<Vec<SearchReturn>>> {
    if !c
        .peek_word()?
        .is_some_and(|w| w.eq_ignore_ascii_case("RETURN"))
    {
        return Ok(None);
    }
    c.word()?;
    c.sp()?;
    let opts = c.paren_list(true, |c| {
        let word = c.word()?;
        Ok(match word.to_ascii_uppercase().as_str() {
            "MIN" => SearchReturn::Min,
            "MAX" => SearchReturn::Max,
            "ALL" => SearchReturn::All,
            "COUNT" => SearchReturn::Count,
            "SAVE" => SearchReturn::Save,
            "UPDATE" => SearchReturn::Update,
            "PARTIAL" => {
                c.sp()?;
                SearchReturn::Partial(PartialRange::parse(c)?)
            }
            _ => return c.syntax("MIN, MAX, ALL, COUNT, SAVE, UPDATE or PARTIAL"),
        })
    })?;
    c.sp()?;
    Ok(Some(opts))
}

pub(crate) fn encode_return_opts(out: &mut Out, opts: Option<&[SearchReturn]>) {
    if let Some(opts) = opts {
        out.str(" RETURN ").list(opts, |out, opt| {
            match opt {
                SearchReturn::Min => out.str("MIN"),
                SearchReturn::Max => out.str("MAX"),
                SearchReturn::All => out.str("ALL"),
                SearchReturn::Count => out.str("COUNT"),
                SearchReturn::Save => out.str("SAVE"),
                SearchReturn::Update => out.str("UPDATE"),
                SearchReturn::Partial(range) => out.str("PARTIAL ").display(range),
            };
        });
    }
}

/// `charset = atom / quoted`; charset names are ASCII.
pub(crate) fn parse_charset(c: &mut Cursor) -> PResult<String> {
    let raw = if c.peek()? == b'"' {
        c.quoted()?
    } else {
        c.atom()?.as_bytes().to_vec()
    };
    match String::from_utf8(raw) {
        Ok(name) if !name.is_empty() && name.is_ascii() => Ok(name),
        _ => c.syntax("charset"),
    }
}

/// `search-key *(SP search-key)`.
pub(crate) fn parse_keys(c: &mut Cursor) -> PResult<NonEmpty<SearchKey>> {
    let mut keys = NonEmpty::new(parse_key(c, 0)?);
    while c.peek()? == b' ' {
        c.sp()?;
        keys.push(parse_key(c, 0)?);
    }
    Ok(keys)
}

pub(crate) fn encode_keys(out: &mut Out, keys: &[SearchKey]) {
    out.join(keys, |out, key| key.encode(out));
}

fn parse_key(c: &mut Cursor, depth: usize) -> PResult<SearchKey> {
    if depth > MAX_NESTING {
        return Err(ParseError::TooDeep { limit: MAX_NESTING }.into());
    }
    match c.peek()? {
        b'(' => {
            c.next()?;
            let mut keys = NonEmpty::new(parse_key(c, depth + 1)?);
            while !c.eat(b')')? {
                c.sp()?;
                keys.push(parse_key(c, depth + 1)?);
            }
            return Ok(SearchKey::And(keys));
        }
        b'0'..=b'9' | b'*' | b'$' => return SequenceSet::parse(c).map(SearchKey::SequenceSet),
        _ => {}
    }
    let word = c.word()?;
    let upper = word.to_ascii_uppercase();
    let key = match upper.as_str() {
        "ALL" => SearchKey::All,
        "ANSWERED" => SearchKey::Answered,
        "DELETED" => SearchKey::Deleted,
        "DRAFT" => SearchKey::Draft,
        "FLAGGED" => SearchKey::Flagged,
        "NEW" => SearchKey::New,
        "OLD" => SearchKey::Old,
        "RECENT" => SearchKey::Recent,
        "SEEN" => SearchKey::Seen,
        "UNANSWERED" => SearchKey::Unanswered,
        "UNDELETED" => SearchKey::Undeleted,
        "UNDRAFT" => SearchKey::Undraft,
        "UNFLAGGED" => SearchKey::Unflagged,
        "UNSEEN" => SearchKey::Unseen,
        "SAVEDATESUPPORTED" => SearchKey::SaveDateSupported,
        _ => {
            c.sp()?;
            match upper.as_str() {
                "BCC" => SearchKey::Bcc(c.astring()?),
                "BODY" => SearchKey::Body(c.astring()?),
                "CC" => SearchKey::Cc(c.astring()?),
                "FROM" => SearchKey::From(c.astring()?),
                "SUBJECT" => SearchKey::Subject(c.astring()?),
                "TEXT" => SearchKey::Text(c.astring()?),
                "TO" => SearchKey::To(c.astring()?),
                "HEADER" => {
                    let name = c.astring()?;
                    c.sp()?;
                    SearchKey::Header(name, c.astring()?)
                }
                "BEFORE" => SearchKey::Before(Date::parse(c)?),
                "ON" => SearchKey::On(Date::parse(c)?),
                "SINCE" => SearchKey::Since(Date::parse(c)?),
                "SENTBEFORE" => SearchKey::SentBefore(Date::parse(c)?),
                "SENTON" => SearchKey::SentOn(Date::parse(c)?),
                "SENTSINCE" => SearchKey::SentSince(Date::parse(c)?),
                "SAVEDBEFORE" => SearchKey::SavedBefore(Date::parse(c)?),
                "SAVEDON" => SearchKey::SavedOn(Date::parse(c)?),
                "SAVEDSINCE" => SearchKey::SavedSince(Date::parse(c)?),
                "KEYWORD" => SearchKey::Keyword(parse_keyword(c)?),
                "UNKEYWORD" => SearchKey::Unkeyword(parse_keyword(c)?),
                "LARGER" => SearchKey::Larger(c.number64()?),
                "SMALLER" => SearchKey::Smaller(c.number64()?),
                "UID" => SearchKey::Uid(SequenceSet::parse(c)?),
                "NOT" => SearchKey::Not(Box::new(parse_key(c, depth + 1)?)),
                "OR" => {
                    let left = parse_key(c, depth + 1)?;
                    c.sp()?;
                    let right = parse_key(c, depth + 1)?;
                    SearchKey::Or(Box::new(left), Box::new(right))
                }
                "MODSEQ" => parse_modseq(c)?,
                "OLDER" => SearchKey::Older(c.nz_number()?),
                "YOUNGER" => SearchKey::Younger(c.nz_number()?),
                "EMAILID" => SearchKey::EmailId(ObjectId::parse(c)?),
                "THREADID" => SearchKey::ThreadId(ObjectId::parse(c)?),
                _ => return c.syntax("search key"),
            }
        }
    };
    Ok(key)
}

fn parse_keyword(c: &mut Cursor) -> PResult<Atom> {
    let atom = c.atom()?;
    Atom::new(atom).or_else(|_| c.syntax("flag-keyword"))
}

/// After `MODSEQ SP`: `[entry-name SP entry-type-req SP] mod-sequence-valzer`.
fn parse_modseq(c: &mut Cursor) -> PResult<SearchKey> {
    let entry = if c.peek()? == b'"' {
        let name = c.quoted()?;
        let flag_text = name
            .strip_prefix(b"/flags/")
            .and_then(|f| std::str::from_utf8(f).ok())
            .and_then(|f| Flag::new(f).ok());
        let Some(flag) = flag_text else {
            return c.syntax("\"/flags/\" entry name");
        };
        c.sp()?;
        let entry_type = match c.word()?.to_ascii_lowercase().as_str() {
            "priv" => EntryType::Private,
            "shared" => EntryType::Shared,
            "all" => EntryType::All,
            _ => return c.syntax("priv, shared or all"),
        };
        c.sp()?;
        Some(ModSeqEntry { flag, entry_type })
    } else {
        None
    };
    Ok(SearchKey::ModSeq {
        entry,
        modseq: c.number64()?,
    })
}

impl SearchKey {
    pub(crate) fn encode(&self, out: &mut Out) {
        match self {
            SearchKey::All => out.str("ALL"),
            SearchKey::Answered => out.str("ANSWERED"),
            SearchKey::Bcc(v) => out.str("BCC ").astring(v),
            SearchKey::Before(d) => out.str("BEFORE ").display(d),
            SearchKey::Body(v) => out.str("BODY ").astring(v),
            SearchKey::Cc(v) => out.str("CC ").astring(v),
            SearchKey::Deleted => out.str("DELETED"),
            SearchKey::Draft => out.str("DRAFT"),
            SearchKey::Flagged => out.str("FLAGGED"),
            SearchKey::From(v) => out.str("FROM ").astring(v),
            SearchKey::Header(name, value) => out.str("HEADER ").astring(name).sp().astring(value),
            SearchKey::Keyword(k) => out.str("KEYWORD ").display(k),
            SearchKey::Larger(n) => out.str("LARGER ").display(n),
            SearchKey::New => out.str("NEW"),
            SearchKey::Not(key) => {
                out.str("NOT ");
                key.encode(out);
                out
            }
            SearchKey::Old => out.str("OLD"),
            SearchKey::On(d) => out.str("ON ").display(d),
            SearchKey::Or(a, b) => {
                out.str("OR ");
                a.encode(out);
                out.sp();
                b.encode(out);
                out
            }
            SearchKey::Recent => out.str("RECENT"),
            SearchKey::Seen => out.str("SEEN"),
            SearchKey::SentBefore(d) => out.str("SENTBEFORE ").display(d),
            SearchKey::SentOn(d) => out.str("SENTON ").display(d),
            SearchKey::SentSince(d) => out.str("SENTSINCE ").display(d),
            SearchKey::Since(d) => out.str("SINCE ").display(d),
            SearchKey::Smaller(n) => out.str("SMALLER ").display(n),
            SearchKey::Subject(v) => out.str("SUBJECT ").astring(v),
            SearchKey::Text(v) => out.str("TEXT ").astring(v),
            SearchKey::To(v) => out.str("TO ").astring(v),
            SearchKey::Uid(set) => out.str("UID ").display(set),
            SearchKey::Unanswered => out.str("UNANSWERED"),
            SearchKey::Undeleted => out.str("UNDELETED"),
            SearchKey::Undraft => out.str("UNDRAFT"),
            SearchKey::Unflagged => out.str("UNFLAGGED"),
            SearchKey::Unkeyword(k) => out.str("UNKEYWORD ").display(k),
            SearchKey::Unseen => out.str("UNSEEN"),
            SearchKey::SequenceSet(set) => out.display(set),
            SearchKey::And(keys) => {
                out.raw(b"(");
                encode_keys(out, keys);
                out.raw(b")")
            }
            SearchKey::ModSeq { entry, modseq } => {
                out.str("MODSEQ ");
                if let Some(entry) = entry {
                    // The flag's backslash must be escaped inside the quoted
                    // entry name, so this one is written by hand.
                    let name = format!("/flags/{}", entry.flag).replace('\\', "\\\\");
                    out.raw(b"\"").str(&name).raw(b"\" ");
                    out.str(match entry.entry_type {
                        EntryType::Private => "priv ",
                        EntryType::Shared => "shared ",
                        EntryType::All => "all ",
                    });
                }
                out.display(modseq)
            }
            SearchKey::Older(n) => out.str("OLDER ").display(n),
            SearchKey::Younger(n) => out.str("YOUNGER ").display(n),
            SearchKey::EmailId(id) => out.str("EMAILID ").display(id),
            SearchKey::ThreadId(id) => out.str("THREADID ").display(id),
            SearchKey::SavedBefore(d) => out.str("SAVEDBEFORE ").display(d),
            SearchKey::SavedOn(d) => out.str("SAVEDON ").display(d),
            SearchKey::SavedSince(d) => out.str("SAVEDSINCE ").display(d),
            SearchKey::SaveDateSupported => out.str("SAVEDATESUPPORTED"),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn key(input: &str) -> PResult<SearchKey> {
        parse_key(&mut Cursor::new(format!("{input}\r\n").as_bytes()), 0)
    }

    fn date(y: u16, m: u8, d: u8) -> Date {
        Date::new(y, m, d).unwrap()
    }

    fn set(s: &str) -> SequenceSet {
        SequenceSet::parse(&mut Cursor::new(format!("{s} ").as_bytes())).unwrap()
    }

    fn atom(s: &str) -> Atom {
        Atom::new(s).unwrap()
    }

    #[test]
    fn every_key() {
        use SearchKey as K;
        let cases: Vec<(&str, SearchKey)> = vec![
            ("ALL", K::All),
            ("answered", K::Answered),
            ("BCC joe", K::Bcc(b"joe".to_vec())),
            ("BEFORE 1-Feb-1994", K::Before(date(1994, 2, 1))),
            ("BODY \"hello world\"", K::Body(b"hello world".to_vec())),
            ("CC {3}\r\nabc", K::Cc(b"abc".to_vec())),
            ("DELETED", K::Deleted),
            ("DRAFT", K::Draft),
            ("FLAGGED", K::Flagged),
            ("FROM Smith", K::From(b"Smith".to_vec())),
            (
                "HEADER X-Mailer Foo",
                K::Header(b"X-Mailer".to_vec(), b"Foo".to_vec()),
            ),
            (
                "HEADER Message-ID \"\"",
                K::Header(b"Message-ID".to_vec(), Vec::new()),
            ),
            ("KEYWORD $Junk", K::Keyword(atom("$Junk"))),
            ("LARGER 10000", K::Larger(10000)),
            ("NEW", K::New),
            ("NOT SEEN", K::Not(Box::new(K::Seen))),
            ("OLD", K::Old),
            ("ON \"3-Mar-2003\"", K::On(date(2003, 3, 3))),
            (
                "OR SEEN FLAGGED",
                K::Or(Box::new(K::Seen), Box::new(K::Flagged)),
            ),
            ("RECENT", K::Recent),
            ("SEEN", K::Seen),
            ("SENTBEFORE 1-Jan-2000", K::SentBefore(date(2000, 1, 1))),
            ("SENTON 1-Jan-2000", K::SentOn(date(2000, 1, 1))),
            ("SENTSINCE 1-Jan-2000", K::SentSince(date(2000, 1, 1))),
            ("SINCE 1-Jan-2000", K::Since(date(2000, 1, 1))),
            ("SMALLER 5", K::Smaller(5)),
            ("SUBJECT hi", K::Subject(b"hi".to_vec())),
            ("TEXT hi", K::Text(b"hi".to_vec())),
            ("TO hi", K::To(b"hi".to_vec())),
            ("UID 1:*", K::Uid(set("1:*"))),
            ("UID $", K::Uid(SequenceSet::Saved)),
            ("UNANSWERED", K::Unanswered),
            ("UNDELETED", K::Undeleted),
            ("UNDRAFT", K::Undraft),
            ("UNFLAGGED", K::Unflagged),
            ("UNKEYWORD $Junk", K::Unkeyword(atom("$Junk"))),
            ("UNSEEN", K::Unseen),
            ("2,4:7", K::SequenceSet(set("2,4:7"))),
            ("$", K::SequenceSet(SequenceSet::Saved)),
            (
                "(SEEN FLAGGED)",
                K::And(NonEmpty::from_vec(vec![K::Seen, K::Flagged]).unwrap()),
            ),
            (
                "MODSEQ 620162338",
                K::ModSeq {
                    entry: None,
                    modseq: 620162338,
                },
            ),
            (
                "MODSEQ \"/flags/\\\\draft\" all 620162338",
                K::ModSeq {
                    entry: Some(ModSeqEntry {
                        flag: Flag::Draft,
                        entry_type: EntryType::All,
                    }),
                    modseq: 620162338,
                },
            ),
            (
                "MODSEQ \"/flags/$Junk\" priv 0",
                K::ModSeq {
                    entry: Some(ModSeqEntry {
                        flag: Flag::Keyword(atom("$Junk")),
                        entry_type: EntryType::Private,
                    }),
                    modseq: 0,
                },
            ),
            ("OLDER 3600", K::Older(NonZeroU32::new(3600).unwrap())),
            ("YOUNGER 60", K::Younger(NonZeroU32::new(60).unwrap())),
            (
                "EMAILID M6d99ac3275bb4e",
                K::EmailId(ObjectId::new("M6d99ac3275bb4e").unwrap()),
            ),
            (
                "THREADID T64b478a75b7ea9",
                K::ThreadId(ObjectId::new("T64b478a75b7ea9").unwrap()),
            ),
            ("SAVEDBEFORE 1-Jan-2000", K::SavedBefore(date(2000, 1, 1))),
            ("SAVEDON 1-Jan-2000", K::SavedOn(date(2000, 1, 1))),
            ("SAVEDSINCE 1-Jan-2000", K::SavedSince(date(2000, 1, 1))),
            ("SAVEDATESUPPORTED", K::SaveDateSupported),
        ];
        for (input, expected) in cases {
            assert_eq!(key(input), Ok(expected.clone()), "{input}");
            // Serialise and parse again.
            let mut out = Out::new(false);
            expected.encode(&mut out);
            let bytes = crate::encode::flatten(out.finish()).unwrap();
            let again = parse_key(&mut Cursor::new(&[bytes, b"\r\n".to_vec()].concat()), 0);
            assert_eq!(again, Ok(expected), "round trip {input}");
        }
    }

    #[test]
    fn invalid_keys() {
        let cases = [
            "FOO",
            "BEFORE 1-Feb-94",
            "BEFORE 30-Feb-1994",
            "LARGER x",
            "LARGER 9223372036854775808",
            "OLDER 0",
            "UID 0",
            "KEYWORD \\Seen",
            "MODSEQ \"/flags/\" all 1",
            "MODSEQ \"/flags/\\\\Seen\" foo 1",
            "EMAILID a.b",
            "()",
            "NOT",
        ];
        for input in cases {
            assert!(
                matches!(key(input), Err(PErr::Fail(_))),
                "{input}: {:?}",
                key(input)
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = format!("{}SEEN{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(
            key(&deep),
            Err(PErr::Fail(ParseError::TooDeep { limit: MAX_NESTING }))
        );
        let nots = format!("{}SEEN", "NOT ".repeat(100));
        assert_eq!(
            key(&nots),
            Err(PErr::Fail(ParseError::TooDeep { limit: MAX_NESTING }))
        );
        let ok = format!("{}SEEN{}", "(".repeat(10), ")".repeat(10));
        assert!(key(&ok).is_ok());
    }

    fn search(input: &str) -> PResult<Search> {
        Search::parse(&mut Cursor::new(format!(" {input}\r\n").as_bytes()), false)
    }

    #[test]
    fn program() {
        let got = search("CHARSET UTF-8 TEXT {6}\r\nXXXXXX");
        assert_eq!(
            got,
            Ok(Search {
                uid: false,
                return_opts: None,
                charset: Some("UTF-8".into()),
                criteria: NonEmpty::new(SearchKey::Text(b"XXXXXX".to_vec())),
            })
        );
        let got = search("RETURN (MIN COUNT SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"");
        assert_eq!(
            got.as_ref()
                .map(|s| (s.return_opts.clone(), s.criteria.len())),
            Ok((
                Some(vec![
                    SearchReturn::Min,
                    SearchReturn::Count,
                    SearchReturn::Save
                ]),
                3
            ))
        );
        assert_eq!(
            search("RETURN () ALL").map(|s| s.return_opts),
            Ok(Some(vec![]))
        );
        assert_eq!(
            search("CHARSET \"UTF-8\" ALL").map(|s| s.charset),
            Ok(Some("UTF-8".into()))
        );
        assert!(matches!(search("RETURN (FOO) ALL"), Err(PErr::Fail(_))));
        assert!(matches!(search("CHARSET ALL"), Err(PErr::Fail(_))));
        assert!(matches!(search(""), Err(PErr::Fail(_))));
    }
}
