//! Typed server responses and the writer that turns them into bytes
//! (RFC 9051 §7). The writer picks atom / quoted / literal forms itself and
//! hands message bodies back as separate [`Fragment`]s so they can be
//! streamed without a second copy.

pub mod body;
pub mod code;
pub mod data;
pub mod fetch;
pub mod list;
pub mod thread;

use crate::base64;
use crate::encode::{Fragment, Out, StreamedBody, flatten};
use crate::error::ValueError;
use crate::types::atom::Tag;

pub use body::{
    Address, BodyFields, BodyStructure, CommonExtension, Disposition, Envelope, MultiPartExtension,
    SinglePart, SinglePartExtension, SinglePartKind,
};
pub use code::Code;
pub use data::{Data, ESearch, ESearchItem, QuotaUsage, StatusValue};
pub use fetch::{BodyData, FetchItem};
pub use list::{Delimiter, ListItem, MailboxAttr, NamespaceDesc};
pub use thread::ThreadNode;

/// Result of a tagged command (RFC 9051 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Ok,
    No,
    Bad,
}

/// Untagged status responses; PREAUTH and BYE are never tagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

/// Human-readable response text: no CR, LF or NUL, not empty, and not
/// starting with `[` (which would read as a response code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(String);

impl Text {
    pub fn new(text: impl Into<String>) -> Result<Self, ValueError> {
        let text = text.into();
        if !text.is_empty() && !text.starts_with('[') && !text.contains(['\r', '\n', '\0']) {
            Ok(Text(text))
        } else {
            Err(ValueError::new("response text", text))
        }
    }

    /// Infallible variant for messages built from error strings: line
    /// breaks become spaces, a leading `[` is escaped by a space, and an
    /// empty text becomes "completed".
    pub fn sanitized(text: &str) -> Self {
        let mut clean: String = text
            .chars()
            .map(|c| {
                if matches!(c, '\r' | '\n' | '\0') {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        if clean.trim().is_empty() {
            clean = "completed".into();
        } else if clean.starts_with('[') {
            clean.insert(0, ' ');
        }
        Text(clean)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A continuation request (`continue-req`, RFC 9051 §7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continue {
    Text {
        code: Option<Code>,
        text: Text,
    },
    /// A SASL challenge; written as base64 (possibly empty).
    Base64(Vec<u8>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Tagged {
        tag: Tag,
        status: Completion,
        code: Option<Code>,
        text: Text,
    },
    Untagged {
        status: StatusKind,
        code: Option<Code>,
        text: Text,
    },
    Data(Data),
    Continue(Continue),
}

impl Response {
    pub fn tagged(tag: Tag, status: Completion, code: Option<Code>, text: Text) -> Self {
        Response::Tagged {
            tag,
            status,
            code,
            text,
        }
    }

    pub fn untagged(status: StatusKind, code: Option<Code>, text: Text) -> Self {
        Response::Untagged { status, code, text }
    }

    /// `+ Ready` style continuation.
    pub fn continue_text(text: Text) -> Self {
        Response::Continue(Continue::Text { code: None, text })
    }

    /// Encodes one response (see [`ResponseWriter`] for batches).
    pub fn encode(&self, options: WriteOptions) -> Vec<Fragment> {
        let mut writer = ResponseWriter::new(options);
        writer.push(self);
        writer.finish()
    }

    /// The whole response as bytes; fails only for streamed bodies.
    pub fn to_bytes(&self, options: WriteOptions) -> Result<Vec<u8>, StreamedBody> {
        flatten(self.encode(options))
    }
}

/// How responses are written for this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteOptions {
    /// UTF-8 may appear in quoted strings: IMAP4rev2, or after
    /// `ENABLE UTF8=ACCEPT` (RFC 6855 §3). Otherwise 8-bit data is sent
    /// as literals.
    pub utf8: bool,
}

/// Accumulates several responses into one fragment list, merging the
/// protocol bytes between body literals.
pub struct ResponseWriter {
    out: Out,
}

impl ResponseWriter {
    pub fn new(options: WriteOptions) -> Self {
        ResponseWriter {
            out: Out::new(options.utf8),
        }
    }

    pub fn push(&mut self, response: &Response) -> &mut Self {
        let out = &mut self.out;
        match response {
            Response::Tagged {
                tag,
                status,
                code,
                text,
            } => {
                out.str(tag.as_str()).sp().str(match status {
                    Completion::Ok => "OK",
                    Completion::No => "NO",
                    Completion::Bad => "BAD",
                });
                write_resp_text(out, code.as_ref(), text);
            }
            Response::Untagged { status, code, text } => {
                out.str(match status {
                    StatusKind::Ok => "* OK",
                    StatusKind::No => "* NO",
                    StatusKind::Bad => "* BAD",
                    StatusKind::PreAuth => "* PREAUTH",
                    StatusKind::Bye => "* BYE",
                });
                write_resp_text(out, code.as_ref(), text);
            }
            Response::Data(data) => {
                out.str("* ");
                data.encode(out);
            }
            Response::Continue(Continue::Text { code, text }) => {
                out.str("+");
                write_resp_text(out, code.as_ref(), text);
            }
            Response::Continue(Continue::Base64(data)) => {
                out.str("+ ").str(&base64::encode(data));
            }
        }
        out.crlf();
        self
    }

    pub fn finish(self) -> Vec<Fragment> {
        self.out.finish()
    }
}

/// `SP resp-text`, `resp-text = ["[" resp-text-code "]" SP] text`.
fn write_resp_text(out: &mut Out, code: Option<&Code>, text: &Text) {
    out.sp();
    if let Some(code) = code {
        out.raw(b"[");
        code.encode(out);
        out.raw(b"] ");
    }
    out.str(text.as_str());
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;
    use crate::types::atom::Capability;
    use crate::types::nonempty::NonEmpty;

    fn text(s: &str) -> Text {
        Text::new(s).unwrap()
    }

    fn bytes(response: &Response) -> String {
        String::from_utf8(response.to_bytes(WriteOptions::default()).unwrap()).unwrap()
    }

    #[test]
    fn status_responses() {
        let tag = Tag::new("a001").unwrap();
        let cases: Vec<(Response, &str)> = vec![
            (
                Response::tagged(tag.clone(), Completion::Ok, None, text("LOGIN completed")),
                "a001 OK LOGIN completed\r\n",
            ),
            (
                Response::tagged(
                    tag.clone(),
                    Completion::No,
                    Some(Code::TryCreate),
                    text("no such mailbox"),
                ),
                "a001 NO [TRYCREATE] no such mailbox\r\n",
            ),
            (
                Response::tagged(
                    tag.clone(),
                    Completion::Bad,
                    Some(Code::ClientBug),
                    text("bad"),
                ),
                "a001 BAD [CLIENTBUG] bad\r\n",
            ),
            (
                Response::tagged(
                    tag,
                    Completion::Ok,
                    Some(Code::ReadWrite),
                    text("SELECT completed"),
                ),
                "a001 OK [READ-WRITE] SELECT completed\r\n",
            ),
            (
                Response::untagged(
                    StatusKind::Ok,
                    Some(Code::Capability(
                        NonEmpty::from_vec(vec![
                            Capability::new("IMAP4rev2").unwrap(),
                            Capability::new("AUTH=PLAIN").unwrap(),
                        ])
                        .unwrap(),
                    )),
                    text("Mailroom ready"),
                ),
                "* OK [CAPABILITY IMAP4rev2 AUTH=PLAIN] Mailroom ready\r\n",
            ),
            (
                Response::untagged(StatusKind::PreAuth, None, text("welcome")),
                "* PREAUTH welcome\r\n",
            ),
            (
                Response::untagged(StatusKind::Bye, Some(Code::Alert), text("shutting down")),
                "* BYE [ALERT] shutting down\r\n",
            ),
            (
                Response::untagged(StatusKind::No, None, text("disk full")),
                "* NO disk full\r\n",
            ),
            (
                Response::untagged(StatusKind::Bad, None, text("line too long")),
                "* BAD line too long\r\n",
            ),
            (
                Response::untagged(
                    StatusKind::Ok,
                    Some(Code::UidNext(NonZeroU32::new(4392).unwrap())),
                    text("Predicted next UID"),
                ),
                "* OK [UIDNEXT 4392] Predicted next UID\r\n",
            ),
            (
                Response::continue_text(text("Ready for literal data")),
                "+ Ready for literal data\r\n",
            ),
            (
                Response::Continue(Continue::Base64(b"challenge".to_vec())),
                "+ Y2hhbGxlbmdl\r\n",
            ),
            (Response::Continue(Continue::Base64(vec![])), "+ \r\n"),
            (
                Response::Continue(Continue::Text {
                    code: Some(Code::Alert),
                    text: text("hi"),
                }),
                "+ [ALERT] hi\r\n",
            ),
            (Response::Data(Data::Exists(1)), "* 1 EXISTS\r\n"),
        ];
        for (response, expected) in cases {
            assert_eq!(bytes(&response), expected);
        }
    }

    #[test]
    fn text_validation() {
        assert!(Text::new("ok").is_ok());
        for bad in ["", "a\r\nb", "[ALERT] x", "nul\0"] {
            assert!(Text::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Text::sanitized("a\r\nb").as_str(), "a  b");
        assert_eq!(Text::sanitized("").as_str(), "completed");
        assert_eq!(Text::sanitized("[x]").as_str(), " [x]");
    }

    #[test]
    fn writer_batches_and_merges() {
        let mut writer = ResponseWriter::new(WriteOptions::default());
        writer
            .push(&Response::Data(Data::Exists(3)))
            .push(&Response::Data(Data::Recent(0)));
        let fragments = writer.finish();
        assert_eq!(
            fragments,
            vec![Fragment::Protocol(b"* 3 EXISTS\r\n* 0 RECENT\r\n".to_vec())]
        );
    }
}
