//! APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502) and literal8
//! message data (RFC 3516 §4.4, BINARY).

use bytes::Bytes;

use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::types::datetime::DateTime;
use crate::types::flag::Flag;
use crate::types::mailbox::Mailbox;
use crate::types::nonempty::NonEmpty;

/// One message of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<Flag>,
    /// INTERNALDATE to set; the server uses "now" when absent.
    pub date: Option<DateTime>,
    pub data: Bytes,
    /// Sent as `literal8` (`~{n}`): the content may hold NUL / raw binary.
    pub binary: bool,
    /// RFC 4469 CATENATE: the message is these pieces, in order (`data` is then empty).
    pub catenate: Option<Vec<CatPart>>,
}

/// One piece of a CATENATE message (RFC 4469 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatPart {
    /// `URL astring`: a message or part of one in the user's mailboxes (RFC 5092).
    Url(Vec<u8>),
    /// `TEXT literal`.
    Text(Bytes),
}

/// APPEND; MULTIAPPEND (RFC 3502) sends several messages, all of which
/// the server must append atomically or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Append {
    pub mailbox: Mailbox,
    pub messages: NonEmpty<AppendMessage>,
}

impl Append {
    /// After `APPEND`: `SP mailbox 1*(append-opts SP append-data)`.
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        c.sp()?;
        let mailbox = Mailbox::parse(c)?;
        c.sp()?;
        let mut messages = NonEmpty::new(parse_message(c)?);
        while c.peek()? == b' ' {
            c.sp()?;
            messages.push(parse_message(c)?);
        }
        Ok(Append { mailbox, messages })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.str("APPEND ").astring(self.mailbox.as_bytes());
        for message in &self.messages {
            if !message.flags.is_empty() {
                out.sp().list(&message.flags, |o, f| {
                    o.display(f);
                });
            }
            if let Some(date) = &message.date {
                out.sp().display(date);
            }
            match &message.catenate {
                Some(parts) => {
                    out.str(" CATENATE ").list(parts, |o, part| {
                        match part {
                            CatPart::Url(url) => o.str("URL ").astring(url),
                            CatPart::Text(text) => o.str("TEXT ").shared_literal(text, false),
                        };
                    });
                }
                None => {
                    out.sp().shared_literal(&message.data, message.binary);
                }
            }
        }
    }
}

/// `[flag-list SP] [date-time SP] (literal / literal8 / "UTF8" SP "(" literal8 ")")`
/// (the last from RFC 6855 §4, UTF8=ACCEPT).
fn parse_message(c: &mut Cursor) -> PResult<AppendMessage> {
    let mut flags = Vec::new();
    let mut date = None;
    if c.peek()? == b'(' {
        flags = Flag::parse_list(c)?;
        c.sp()?;
    }
    if c.peek()? == b'"' {
        date = Some(DateTime::parse(c)?);
        c.sp()?;
    }
    match c.peek()? {
        b'{' | b'~' => {
            let (data, binary) = c.literal_any(true)?;
            Ok(AppendMessage {
                flags,
                date,
                data: Bytes::copy_from_slice(data),
                binary,
                catenate: None,
            })
        }
        b'C' | b'c' => {
            if !c.word()?.eq_ignore_ascii_case("CATENATE") {
                return c.syntax("message literal or CATENATE");
            }
            c.sp()?;
            let parts = c.paren_list(false, |c| {
                let word = c.word()?;
                c.sp()?;
                match word.to_ascii_uppercase().as_str() {
                    "URL" => Ok(CatPart::Url(c.astring()?)),
                    "TEXT" => {
                        let (data, _) = c.literal_any(true)?;
                        Ok(CatPart::Text(Bytes::copy_from_slice(data)))
                    }
                    _ => c.syntax("URL or TEXT"),
                }
            })?;
            Ok(AppendMessage {
                flags,
                date,
                data: Bytes::new(),
                binary: false,
                catenate: Some(parts),
            })
        }
        b'U' | b'u' => {
            if !c.word()?.eq_ignore_ascii_case("UTF8") {
                return c.syntax("message literal");
            }
            c.sp()?;
            c.expect(b'(', "(")?;
            let (data, _) = c.literal_any(true)?;
            c.expect(b')', ")")?;
            Ok(AppendMessage {
                flags,
                date,
                data: Bytes::copy_from_slice(data),
                // Written back as literal8: the content may be 8-bit.
                binary: true,
                catenate: None,
            })
        }
        _ => c.syntax("message literal"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;
    use crate::types::datetime::Date;

    fn append(input: &[u8]) -> PResult<Append> {
        Append::parse(&mut Cursor::new(&[b" ", input, b"\r\n"].concat()))
    }

    fn msg(
        flags: Vec<Flag>,
        date: Option<DateTime>,
        data: &'static [u8],
        binary: bool,
    ) -> AppendMessage {
        AppendMessage {
            flags,
            date,
            data: Bytes::from_static(data),
            binary,
            catenate: None,
        }
    }

    #[test]
    fn append_table() {
        let date = Date::new(1994, 2, 7).and_then(|d| DateTime::new(d, 21, 52, 25, -480));
        let cases: Vec<(&[u8], Append)> = vec![
            (
                b"saved-messages (\\Seen) {5}\r\nHello",
                Append {
                    mailbox: Mailbox::new("saved-messages"),
                    messages: NonEmpty::new(msg(vec![Flag::Seen], None, b"Hello", false)),
                },
            ),
            (
                b"INBOX {0+}\r\n",
                Append {
                    mailbox: Mailbox::inbox(),
                    messages: NonEmpty::new(msg(vec![], None, b"", false)),
                },
            ),
            (
                b"Drafts () \"07-Feb-1994 21:52:25 -0800\" {2}\r\nhi",
                Append {
                    mailbox: Mailbox::new("Drafts"),
                    messages: NonEmpty::new(msg(vec![], date, b"hi", false)),
                },
            ),
            (
                b"x UTF8 (~{2}\r\nhi)",
                Append {
                    mailbox: Mailbox::new("x"),
                    messages: NonEmpty::new(msg(vec![], None, b"hi", true)),
                },
            ),
            (
                b"x ~{3}\r\na\0b",
                Append {
                    mailbox: Mailbox::new("x"),
                    messages: NonEmpty::new(msg(vec![], None, b"a\0b", true)),
                },
            ),
            (
                b"x (\\Seen) {1}\r\na (\\Draft) \"07-Feb-1994 21:52:25 -0800\" {1+}\r\nb ~{1}\r\nc",
                Append {
                    mailbox: Mailbox::new("x"),
                    messages: NonEmpty::from_vec(vec![
                        msg(vec![Flag::Seen], None, b"a", false),
                        msg(vec![Flag::Draft], date, b"b", false),
                        msg(vec![], None, b"c", true),
                    ])
                    .unwrap(),
                },
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                append(input),
                Ok(expected.clone()),
                "{}",
                String::from_utf8_lossy(input)
            );
            let mut out = Out::new(false);
            expected.encode(&mut out);
            let bytes = crate::encode::flatten(out.finish()).unwrap();
            let again = Append::parse(&mut Cursor::new(&[&bytes[6..], b"\r\n"].concat()));
            assert_eq!(again, Ok(expected));
        }
    }

    #[test]
    fn append_errors() {
        let cases: &[&[u8]] = &[
            b"x",
            b"x \"hello\"",
            b"x (\\Seen)",
            b"x {3}\r\na\0b",
            b"x \"bad date\" {1}\r\na",
            b"x {1}\r\na junk",
            b"x UTF9 (~{1}\r\na)",
            b"x UTF8 (~{1}\r\na",
        ];
        for &input in cases {
            assert!(
                matches!(append(input), Err(PErr::Fail(_))),
                "{}",
                String::from_utf8_lossy(input)
            );
        }
        assert_eq!(append(b"x {5}\r\nab"), Err(PErr::Incomplete));
    }

    #[test]
    fn catenate_parts() {
        let parsed =
            append(b"INBOX (\\Seen) CATENATE (URL \"/INBOX/;UID=3\" TEXT {5}\r\nhello)").unwrap();
        let message = &parsed.messages[0];
        assert_eq!(
            message.catenate.as_deref(),
            Some(
                &[
                    CatPart::Url(b"/INBOX/;UID=3".to_vec()),
                    CatPart::Text(Bytes::from_static(b"hello"))
                ][..]
            )
        );
        assert!(append(b"INBOX CATENATE (FOO x)").is_err());
        assert!(append(b"INBOX CATENATE ()").is_err());
    }
}
