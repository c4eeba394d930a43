//! FETCH response items (RFC 9051 §7.5.2 `msg-att`, RFC 3516 BINARY,
//! RFC 7162 MODSEQ, RFC 8474 EMAILID/THREADID, RFC 8514 SAVEDATE).

use std::num::{NonZeroU32, NonZeroU64};

use bytes::Bytes;

use crate::command::fetch::Section;
use crate::encode::Out;
use crate::response::body::{BodyStructure, Envelope};
use crate::types::datetime::DateTime;
use crate::types::flag::FetchFlag;
use crate::types::objectid::ObjectId;

/// Content of a body section: written as a literal, never quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyData {
    /// The section does not exist (`NIL`).
    Nil,
    /// Shared octets (e.g. from the store's blob cache); not copied.
    Bytes(Bytes),
    /// The caller writes `len` octets itself (see
    /// [`Fragment::Stream`](crate::Fragment::Stream)); `token` tells it which.
    Stream { len: u64, token: u64 },
}

/// One `msg-att` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchItem {
    Flags(Vec<FetchFlag>),
    Uid(NonZeroU32),
    InternalDate(DateTime),
    Rfc822Size(u64),
    Envelope(Box<Envelope>),
    /// `BODY`: the structure without extension data.
    Body(Box<BodyStructure>),
    BodyStructure(Box<BodyStructure>),
    /// `BODY[section]<origin>`: `origin` echoes the partial fetch start.
    BodySection {
        section: Section,
        origin: Option<u64>,
        data: BodyData,
    },
    /// `BINARY[part]<origin>` (RFC 3516): decoded content; written as
    /// `literal8` when it may contain NUL (always for streams).
    Binary {
        part: Vec<NonZeroU32>,
        origin: Option<u64>,
        data: BodyData,
    },
    BinarySize {
        part: Vec<NonZeroU32>,
        size: u64,
    },
    /// IMAP4rev1 only.
    Rfc822(BodyData),
    Rfc822Header(BodyData),
    Rfc822Text(BodyData),
    ModSeq(NonZeroU64),
    EmailId(ObjectId),
    /// `NIL` when the server does not thread this message.
    ThreadId(Option<ObjectId>),
    /// `NIL` when the save date is unknown (RFC 8514 §3).
    SaveDate(Option<DateTime>),
}

fn write_part(out: &mut Out, part: &[NonZeroU32]) {
    for (i, n) in part.iter().enumerate() {
        if i > 0 {
            out.raw(b".");
        }
        out.display(n);
    }
}

fn write_origin(out: &mut Out, origin: Option<u64>) {
    if let Some(origin) = origin {
        out.display(format_args!("<{origin}>"));
    }
}

fn write_data(out: &mut Out, data: &BodyData, binary: bool) {
    match data {
        BodyData::Nil => {
            out.raw(b"NIL");
        }
        BodyData::Bytes(bytes) => {
            out.shared_literal(bytes, binary && bytes.contains(&0));
        }
        BodyData::Stream { len, token } => {
            out.streamed_literal(*len, *token, binary);
        }
    }
}

impl FetchItem {
    pub(crate) fn encode(&self, out: &mut Out) {
        match self {
            FetchItem::Flags(flags) => {
                out.str("FLAGS ").list(flags, |o, f| {
                    o.display(f);
                });
            }
            FetchItem::Uid(uid) => {
                out.str("UID ").display(uid);
            }
            FetchItem::InternalDate(date) => {
                out.str("INTERNALDATE ").display(date);
            }
            FetchItem::Rfc822Size(size) => {
                out.str("RFC822.SIZE ").display(size);
            }
            FetchItem::Envelope(envelope) => {
                out.str("ENVELOPE ");
                envelope.encode(out);
            }
            FetchItem::Body(body) => {
                out.str("BODY ");
                body.encode(out, false);
            }
            FetchItem::BodyStructure(body) => {
                out.str("BODYSTRUCTURE ");
                body.encode(out, true);
            }
            FetchItem::BodySection {
                section,
                origin,
                data,
            } => {
                out.str("BODY");
                section.encode(out);
                write_origin(out, *origin);
                out.sp();
                write_data(out, data, false);
            }
            FetchItem::Binary { part, origin, data } => {
                out.str("BINARY[");
                write_part(out, part);
                out.raw(b"]");
                write_origin(out, *origin);
                out.sp();
                write_data(out, data, true);
            }
            FetchItem::BinarySize { part, size } => {
                out.str("BINARY.SIZE[");
                write_part(out, part);
                out.raw(b"] ").display(size);
            }
            FetchItem::Rfc822(data) => {
                out.str("RFC822 ");
                write_data(out, data, false);
            }
            FetchItem::Rfc822Header(data) => {
                out.str("RFC822.HEADER ");
                write_data(out, data, false);
            }
            FetchItem::Rfc822Text(data) => {
                out.str("RFC822.TEXT ");
                write_data(out, data, false);
            }
            FetchItem::ModSeq(modseq) => {
                out.display(format_args!("MODSEQ ({modseq})"));
            }
            FetchItem::EmailId(id) => {
                out.display(format_args!("EMAILID ({id})"));
            }
            FetchItem::ThreadId(Some(id)) => {
                out.display(format_args!("THREADID ({id})"));
            }
            FetchItem::ThreadId(None) => {
                out.str("THREADID NIL");
            }
            FetchItem::SaveDate(Some(date)) => {
                out.str("SAVEDATE ").display(date);
            }
            FetchItem::SaveDate(None) => {
                out.str("SAVEDATE NIL");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::fetch::SectionText;
    use crate::encode::Fragment;
    use crate::types::datetime::Date;
    use crate::types::flag::Flag;
    use crate::types::nonempty::NonEmpty;

    fn write(item: &FetchItem) -> Vec<Fragment> {
        let mut out = Out::new(false);
        item.encode(&mut out);
        out.finish()
    }

    fn text(item: &FetchItem) -> String {
        String::from_utf8(crate::encode::flatten(write(item)).unwrap()).unwrap()
    }

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn simple_items() {
        let date = Date::new(1996, 7, 17)
            .and_then(|d| DateTime::new(d, 2, 44, 25, -420))
            .unwrap();
        let cases: Vec<(FetchItem, &str)> = vec![
            (
                FetchItem::Flags(vec![FetchFlag::Flag(Flag::Seen), FetchFlag::Recent]),
                "FLAGS (\\Seen \\Recent)",
            ),
            (FetchItem::Flags(vec![]), "FLAGS ()"),
            (FetchItem::Uid(nz(4827313)), "UID 4827313"),
            (
                FetchItem::InternalDate(date),
                "INTERNALDATE \"17-Jul-1996 02:44:25 -0700\"",
            ),
            (FetchItem::Rfc822Size(44827), "RFC822.SIZE 44827"),
            (
                FetchItem::BinarySize {
                    part: vec![nz(1), nz(2)],
                    size: 2034,
                },
                "BINARY.SIZE[1.2] 2034",
            ),
            (
                FetchItem::ModSeq(NonZeroU64::new(624140003).unwrap()),
                "MODSEQ (624140003)",
            ),
            (
                FetchItem::EmailId(ObjectId::new("M6d99ac3275bb4e").unwrap()),
                "EMAILID (M6d99ac3275bb4e)",
            ),
            (
                FetchItem::ThreadId(Some(ObjectId::new("T64b478a75b7ea9").unwrap())),
                "THREADID (T64b478a75b7ea9)",
            ),
            (FetchItem::ThreadId(None), "THREADID NIL"),
            (
                FetchItem::SaveDate(Some(date)),
                "SAVEDATE \"17-Jul-1996 02:44:25 -0700\"",
            ),
            (FetchItem::SaveDate(None), "SAVEDATE NIL"),
            (
                FetchItem::Envelope(Box::default()),
                "ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)",
            ),
            (FetchItem::Rfc822Header(BodyData::Nil), "RFC822.HEADER NIL"),
        ];
        for (item, expected) in cases {
            assert_eq!(text(&item), expected);
        }
    }

    #[test]
    fn body_sections_share_bytes() {
        let body = Bytes::from_static(b"Subject: hi\r\n\r\n");
        let section = Section::new(
            vec![],
            Some(SectionText::HeaderFields(
                NonEmpty::from_vec(vec![b"SUBJECT".to_vec()]).unwrap(),
            )),
        )
        .unwrap();
        let item = FetchItem::BodySection {
            section,
            origin: None,
            data: BodyData::Bytes(body.clone()),
        };
        assert_eq!(
            write(&item),
            vec![
                Fragment::Protocol(b"BODY[HEADER.FIELDS (SUBJECT)] {15}\r\n".to_vec()),
                Fragment::Literal(body)
            ]
        );
        let item = FetchItem::BodySection {
            section: Section::default(),
            origin: Some(0),
            data: BodyData::Stream {
                len: 1024,
                token: 7,
            },
        };
        assert_eq!(
            write(&item),
            vec![
                Fragment::Protocol(b"BODY[]<0> {1024}\r\n".to_vec()),
                Fragment::Stream {
                    len: 1024,
                    token: 7
                }
            ]
        );
        let item = FetchItem::BodySection {
            section: Section::new(vec![nz(2)], Some(SectionText::Mime)).unwrap(),
            origin: None,
            data: BodyData::Nil,
        };
        assert_eq!(text(&item), "BODY[2.MIME] NIL");
        assert_eq!(
            text(&FetchItem::Rfc822(BodyData::Bytes(Bytes::from_static(
                b"abc"
            )))),
            "RFC822 {3}\r\nabc"
        );
        assert_eq!(
            text(&FetchItem::Rfc822Text(BodyData::Bytes(Bytes::from_static(
                b""
            )))),
            "RFC822.TEXT {0}\r\n"
        );
    }

    #[test]
    fn binary_uses_literal8_only_when_needed() {
        let item = FetchItem::Binary {
            part: vec![nz(3)],
            origin: None,
            data: BodyData::Bytes(Bytes::from_static(b"a\0b")),
        };
        assert_eq!(text(&item), "BINARY[3] ~{3}\r\na\0b");
        let item = FetchItem::Binary {
            part: vec![nz(3)],
            origin: Some(10),
            data: BodyData::Bytes(Bytes::from_static(b"ab")),
        };
        assert_eq!(text(&item), "BINARY[3]<10> {2}\r\nab");
        let item = FetchItem::Binary {
            part: vec![],
            origin: None,
            data: BodyData::Stream { len: 5, token: 1 },
        };
        assert_eq!(
            write(&item).first(),
            Some(&Fragment::Protocol(b"BINARY[] ~{5}\r\n".to_vec()))
        );
    }
}
