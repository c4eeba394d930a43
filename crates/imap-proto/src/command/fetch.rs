//! FETCH / UID FETCH (RFC 9051 §6.4.5) with BINARY (RFC 3516), CONDSTORE /
//! QRESYNC modifiers (RFC 7162 §3.1.4, §3.2.6), OBJECTID (RFC 8474) and
//! SAVEDATE (RFC 8514) attributes.

use std::num::{NonZeroU32, NonZeroU64};

use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::error::ParseError;
use crate::types::nonempty::NonEmpty;

pub use crate::command::section::{Partial, Section, SectionText};
use crate::command::section::{parse_binary_part, write_part};
use crate::types::sequence::SequenceSet;

/// What the client asked for: a macro or a list of attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItems {
    /// `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE)`
    All,
    /// `(FLAGS INTERNALDATE RFC822.SIZE)`
    Fast,
    /// `(FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY)`
    Full,
    Attributes(NonEmpty<FetchAttr>),
}

impl FetchItems {
    /// The attributes with macros expanded (RFC 9051 §6.4.5).
    pub fn expand(&self) -> Vec<FetchAttr> {
        use FetchAttr::*;
        match self {
            FetchItems::All => vec![Flags, InternalDate, Rfc822Size, Envelope],
            FetchItems::Fast => vec![Flags, InternalDate, Rfc822Size],
            FetchItems::Full => vec![Flags, InternalDate, Rfc822Size, Envelope, Body],
            FetchItems::Attributes(attrs) => attrs.to_vec(),
        }
    }
}

/// `fetch-att`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchAttr {
    Envelope,
    Flags,
    InternalDate,
    /// `RFC822` (IMAP4rev1; equivalent to `BODY[]`).
    Rfc822,
    /// `RFC822.HEADER` (`BODY.PEEK[HEADER]`).
    Rfc822Header,
    Rfc822Size,
    /// `RFC822.TEXT` (`BODY[TEXT]`).
    Rfc822Text,
    /// `BODY` without a section: the non-extensible BODYSTRUCTURE.
    Body,
    BodyStructure,
    Uid,
    /// `BODY[section]<partial>` or, with `peek`, `BODY.PEEK[...]`.
    BodySection {
        peek: bool,
        section: Section,
        partial: Option<Partial>,
    },
    /// `BINARY[part]<partial>` / `BINARY.PEEK[...]` (RFC 3516).
    Binary {
        peek: bool,
        part: Vec<NonZeroU32>,
        partial: Option<Partial>,
    },
    /// `BINARY.SIZE[part]` (RFC 3516).
    BinarySize {
        part: Vec<NonZeroU32>,
    },
    /// RFC 7162 §3.1.4.1.
    ModSeq,
    /// RFC 8474 §5.
    EmailId,
    ThreadId,
    /// RFC 8514 §3.
    SaveDate,
}

impl FetchAttr {
    /// Whether fetching this attribute sets `\Seen` (RFC 9051 §6.4.5).
    pub fn sets_seen(&self) -> bool {
        matches!(
            self,
            FetchAttr::Rfc822
                | FetchAttr::Rfc822Text
                | FetchAttr::BodySection { peek: false, .. }
                | FetchAttr::Binary { peek: false, .. }
        )
    }
}

/// RFC 7162 fetch modifiers: `(CHANGEDSINCE n [VANISHED])`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangedSince {
    pub modseq: NonZeroU64,
    /// QRESYNC: also report expunged UIDs (UID FETCH only, §3.2.6).
    pub vanished: bool,
}

/// A FETCH or UID FETCH command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub uid: bool,
    pub set: SequenceSet,
    pub items: FetchItems,
    pub changed_since: Option<ChangedSince>,
}

impl Fetch {
    /// After `FETCH`.
    pub(crate) fn parse(c: &mut Cursor, uid: bool) -> PResult<Self> {
        c.sp()?;
        let set = SequenceSet::parse(c)?;
        c.sp()?;
        let items = if c.peek()? == b'(' {
            let attrs = c.paren_list(false, parse_attr)?;
            match NonEmpty::from_vec(attrs) {
                Some(attrs) => FetchItems::Attributes(attrs),
                None => return c.syntax("fetch-att"),
            }
        } else {
            let start = c.pos();
            match c.word()?.to_ascii_uppercase().as_str() {
                "ALL" => FetchItems::All,
                "FAST" => FetchItems::Fast,
                "FULL" => FetchItems::Full,
                _ => {
                    c.set_pos(start);
                    FetchItems::Attributes(NonEmpty::new(parse_attr(c)?))
                }
            }
        };
        let changed_since = if c.peek()? == b' ' {
            c.sp()?;
            Some(parse_modifiers(c, uid)?)
        } else {
            None
        };
        Ok(Fetch {
            uid,
            set,
            items,
            changed_since,
        })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str(if self.uid { "UID FETCH " } else { "FETCH " })
            .display(&self.set)
            .sp();
        match &self.items {
            FetchItems::All => out.str("ALL"),
            FetchItems::Fast => out.str("FAST"),
            FetchItems::Full => out.str("FULL"),
            FetchItems::Attributes(attrs) => out.list(attrs, |o, a| a.encode(o)),
        };
        if let Some(cs) = &self.changed_since {
            out.display(format_args!(" (CHANGEDSINCE {}", cs.modseq));
            if cs.vanished {
                out.str(" VANISHED");
            }
            out.raw(b")");
        }
    }
}

fn parse_modifiers(c: &mut Cursor, uid: bool) -> PResult<ChangedSince> {
    let mut modseq = None;
    let mut vanished = false;
    c.paren_list(false, |c| {
        match c.word()?.to_ascii_uppercase().as_str() {
            "CHANGEDSINCE" if modseq.is_none() => {
                c.sp()?;
                modseq = Some(c.nz_number64()?);
            }
            "VANISHED" if !vanished => vanished = true,
            _ => return c.syntax("CHANGEDSINCE or VANISHED"),
        }
        Ok(())
    })?;
    let Some(modseq) = modseq else {
        return Err(ParseError::Invalid("VANISHED requires CHANGEDSINCE").into());
    };
    if vanished && !uid {
        return Err(ParseError::Invalid("VANISHED is only valid in UID FETCH").into());
    }
    Ok(ChangedSince { modseq, vanished })
}

pub(crate) fn parse_attr(c: &mut Cursor) -> PResult<FetchAttr> {
    let word = c.word()?.to_ascii_uppercase();
    let attr = match word.as_str() {
        "ENVELOPE" => FetchAttr::Envelope,
        "FLAGS" => FetchAttr::Flags,
        "INTERNALDATE" => FetchAttr::InternalDate,
        "RFC822" => FetchAttr::Rfc822,
        "RFC822.HEADER" => FetchAttr::Rfc822Header,
        "RFC822.SIZE" => FetchAttr::Rfc822Size,
        "RFC822.TEXT" => FetchAttr::Rfc822Text,
        "BODYSTRUCTURE" => FetchAttr::BodyStructure,
        "UID" => FetchAttr::Uid,
        "MODSEQ" => FetchAttr::ModSeq,
        "EMAILID" => FetchAttr::EmailId,
        "THREADID" => FetchAttr::ThreadId,
        "SAVEDATE" => FetchAttr::SaveDate,
        // `BODY` alone is the structure; `BODY[` (bracket consumed by the
        // guard) starts a section.
        "BODY" if !c.eat(b'[')? => FetchAttr::Body,
        "BODY" | "BODY.PEEK" => {
            if word == "BODY.PEEK" {
                c.expect(b'[', "[")?;
            }
            let section = Section::parse(c)?;
            let partial = Partial::parse(c)?;
            FetchAttr::BodySection {
                peek: word == "BODY.PEEK",
                section,
                partial,
            }
        }
        "BINARY" | "BINARY.PEEK" => {
            c.expect(b'[', "[")?;
            let part = parse_binary_part(c)?;
            let partial = Partial::parse(c)?;
            FetchAttr::Binary {
                peek: word == "BINARY.PEEK",
                part,
                partial,
            }
        }
        "BINARY.SIZE" => {
            c.expect(b'[', "[")?;
            FetchAttr::BinarySize {
                part: parse_binary_part(c)?,
            }
        }
        _ => return c.syntax("fetch attribute"),
    };
    Ok(attr)
}

impl FetchAttr {
    pub(crate) fn encode(&self, out: &mut Out) {
        match self {
            FetchAttr::Envelope => {
                out.str("ENVELOPE");
            }
            FetchAttr::Flags => {
                out.str("FLAGS");
            }
            FetchAttr::InternalDate => {
                out.str("INTERNALDATE");
            }
            FetchAttr::Rfc822 => {
                out.str("RFC822");
            }
            FetchAttr::Rfc822Header => {
                out.str("RFC822.HEADER");
            }
            FetchAttr::Rfc822Size => {
                out.str("RFC822.SIZE");
            }
            FetchAttr::Rfc822Text => {
                out.str("RFC822.TEXT");
            }
            FetchAttr::Body => {
                out.str("BODY");
            }
            FetchAttr::BodyStructure => {
                out.str("BODYSTRUCTURE");
            }
            FetchAttr::Uid => {
                out.str("UID");
            }
            FetchAttr::ModSeq => {
                out.str("MODSEQ");
            }
            FetchAttr::EmailId => {
                out.str("EMAILID");
            }
            FetchAttr::ThreadId => {
                out.str("THREADID");
            }
            FetchAttr::SaveDate => {
                out.str("SAVEDATE");
            }
            FetchAttr::BodySection {
                peek,
                section,
                partial,
            } => {
                out.str(if *peek { "BODY.PEEK" } else { "BODY" });
                section.encode(out);
                Partial::encode(partial, out);
            }
            FetchAttr::Binary {
                peek,
                part,
                partial,
            } => {
                out.str(if *peek { "BINARY.PEEK[" } else { "BINARY[" });
                write_part(out, part);
                out.raw(b"]");
                Partial::encode(partial, out);
            }
            FetchAttr::BinarySize { part } => {
                out.str("BINARY.SIZE[");
                write_part(out, part);
                out.raw(b"]");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    fn names(list: &[&str]) -> NonEmpty<Vec<u8>> {
        NonEmpty::from_vec(list.iter().map(|s| s.as_bytes().to_vec()).collect()).unwrap()
    }

    fn attr(input: &str) -> PResult<FetchAttr> {
        parse_attr(&mut Cursor::new(format!("{input}\r\n").as_bytes()))
    }

    fn section(part: &[u32], text: Option<SectionText>) -> Section {
        Section::new(part.iter().map(|&n| nz(n)).collect(), text).unwrap()
    }

    #[test]
    fn every_attribute() {
        use FetchAttr as A;
        let partial = |start, length| {
            Some(Partial {
                start,
                length: NonZeroU64::new(length).unwrap(),
            })
        };
        let cases: Vec<(&str, FetchAttr)> = vec![
            ("ENVELOPE", A::Envelope),
            ("flags", A::Flags),
            ("INTERNALDATE", A::InternalDate),
            ("RFC822", A::Rfc822),
            ("RFC822.HEADER", A::Rfc822Header),
            ("RFC822.SIZE", A::Rfc822Size),
            ("RFC822.TEXT", A::Rfc822Text),
            ("BODY", A::Body),
            ("BODYSTRUCTURE", A::BodyStructure),
            ("UID", A::Uid),
            ("MODSEQ", A::ModSeq),
            ("EMAILID", A::EmailId),
            ("THREADID", A::ThreadId),
            ("SAVEDATE", A::SaveDate),
            (
                "BODY[]",
                A::BodySection {
                    peek: false,
                    section: Section::default(),
                    partial: None,
                },
            ),
            (
                "BODY.PEEK[]<0.2048>",
                A::BodySection {
                    peek: true,
                    section: Section::default(),
                    partial: partial(0, 2048),
                },
            ),
            (
                "BODY[HEADER]",
                A::BodySection {
                    peek: false,
                    section: section(&[], Some(SectionText::Header)),
                    partial: None,
                },
            ),
            (
                "body[text]",
                A::BodySection {
                    peek: false,
                    section: section(&[], Some(SectionText::Text)),
                    partial: None,
                },
            ),
            (
                "BODY.PEEK[HEADER.FIELDS (DATE FROM \"Subject\")]",
                A::BodySection {
                    peek: true,
                    section: section(
                        &[],
                        Some(SectionText::HeaderFields(names(&[
                            "DATE", "FROM", "Subject",
                        ]))),
                    ),
                    partial: None,
                },
            ),
            (
                "BODY[HEADER.FIELDS.NOT (X-Spam)]",
                A::BodySection {
                    peek: false,
                    section: section(&[], Some(SectionText::HeaderFieldsNot(names(&["X-Spam"])))),
                    partial: None,
                },
            ),
            (
                "BODY[1.2.3]",
                A::BodySection {
                    peek: false,
                    section: section(&[1, 2, 3], None),
                    partial: None,
                },
            ),
            (
                "BODY[4.2.MIME]",
                A::BodySection {
                    peek: false,
                    section: section(&[4, 2], Some(SectionText::Mime)),
                    partial: None,
                },
            ),
            (
                "BODY[3.HEADER.FIELDS (To)]<10.20>",
                A::BodySection {
                    peek: false,
                    section: section(&[3], Some(SectionText::HeaderFields(names(&["To"])))),
                    partial: partial(10, 20),
                },
            ),
            (
                "BODY[2.TEXT]",
                A::BodySection {
                    peek: false,
                    section: section(&[2], Some(SectionText::Text)),
                    partial: None,
                },
            ),
            (
                "BINARY[1.2]",
                A::Binary {
                    peek: false,
                    part: vec![nz(1), nz(2)],
                    partial: None,
                },
            ),
            (
                "BINARY.PEEK[]<5.6>",
                A::Binary {
                    peek: true,
                    part: vec![],
                    partial: partial(5, 6),
                },
            ),
            ("BINARY.SIZE[3]", A::BinarySize { part: vec![nz(3)] }),
        ];
        for (input, expected) in cases {
            assert_eq!(attr(input), Ok(expected.clone()), "{input}");
            let mut out = Out::new(false);
            expected.encode(&mut out);
            let bytes = crate::encode::flatten(out.finish()).unwrap();
            let again = parse_attr(&mut Cursor::new(&[bytes, b"\r\n".to_vec()].concat()));
            assert_eq!(again, Ok(expected), "round trip {input}");
        }
    }

    #[test]
    fn invalid_attributes() {
        let cases = [
            "BODY[MIME]",
            "BODY[0]",
            "BODY[1.]",
            "BODY[HEADER.FIELDS ()]",
            "BODY[HEADER.FIELDS]",
            "BODY[FOO]",
            "BODY.PEEK",
            "BODY[]<1>",
            "BODY[]<1.0>",
            "BINARY[TEXT]",
            "BINARY",
            "RFC822.FOO",
            "X",
        ];
        for input in cases {
            assert!(
                matches!(attr(input), Err(PErr::Fail(_))),
                "{input}: {:?}",
                attr(input)
            );
        }
    }

    fn fetch(input: &str, uid: bool) -> PResult<Fetch> {
        Fetch::parse(&mut Cursor::new(format!(" {input}\r\n").as_bytes()), uid)
    }

    #[test]
    fn commands_and_modifiers() {
        let got = fetch("2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])", false).unwrap();
        assert_eq!(got.items.expand().len(), 2);
        assert_eq!(fetch("1 ALL", false).map(|f| f.items), Ok(FetchItems::All));
        assert_eq!(
            fetch("1 fast", false).map(|f| f.items),
            Ok(FetchItems::Fast)
        );
        assert_eq!(
            fetch("1 FULL", false).map(|f| f.items.expand().len()),
            Ok(5)
        );
        assert_eq!(
            fetch("1 BODY[]", false).map(|f| f.items),
            Ok(FetchItems::Attributes(NonEmpty::new(
                FetchAttr::BodySection {
                    peek: false,
                    section: Section::default(),
                    partial: None
                }
            )))
        );
        assert_eq!(
            fetch("1:* (UID FLAGS) (CHANGEDSINCE 12345 VANISHED)", true).map(|f| f.changed_since),
            Ok(Some(ChangedSince {
                modseq: NonZeroU64::new(12345).unwrap(),
                vanished: true
            }))
        );
        assert_eq!(
            fetch("1:* FLAGS (CHANGEDSINCE 7)", false).map(|f| f.changed_since),
            Ok(Some(ChangedSince {
                modseq: NonZeroU64::new(7).unwrap(),
                vanished: false
            }))
        );
        for bad in [
            "1:* FLAGS (VANISHED)",
            "1:* FLAGS (CHANGEDSINCE 1 VANISHED)",
            "1:* FLAGS (CHANGEDSINCE 0)",
            "1:* FLAGS ()",
            "1 ()",
            "1",
            "1 FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)",
        ] {
            assert!(matches!(fetch(bad, false), Err(PErr::Fail(_))), "{bad}");
        }
        assert!(FetchAttr::Rfc822Text.sets_seen());
        assert!(!attr("BODY.PEEK[]").unwrap().sets_seen());
    }
}
