//! Low-level output builder shared by the command serialiser and the
//! response writer: picks atom / quoted / literal forms (RFC 9051 §4.3) and
//! keeps large literal bodies out of the byte buffer (see [`Fragment`]).

use std::fmt::Display;

use bytes::Bytes;

use crate::types::chars::is_astring_char;

/// One piece of encoded output, in order. Protocol text is collected in
/// [`Fragment::Protocol`]; message bodies are not copied into it:
/// the literal header (`{n}\r\n`) is already part of the preceding
/// `Protocol` fragment and the body follows as its own fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fragment {
    Protocol(Vec<u8>),
    /// Literal data shared with its owner (e.g. a message blob cache).
    Literal(Bytes),
    /// Literal data the caller writes itself: exactly `len` octets of the
    /// body it identified by `token` (e.g. streamed from a blob file).
    Stream {
        len: u64,
        token: u64,
    },
}

/// A response holds a [`Fragment::Stream`]; it cannot be flattened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("body {token} is streamed by the caller and cannot be flattened")]
pub struct StreamedBody {
    pub token: u64,
}

/// Concatenates fragments into one buffer (tests, small responses).
pub fn flatten(fragments: Vec<Fragment>) -> Result<Vec<u8>, StreamedBody> {
    let mut out = Vec::new();
    for fragment in fragments {
        match fragment {
            Fragment::Protocol(bytes) => out.extend_from_slice(&bytes),
            Fragment::Literal(bytes) => out.extend_from_slice(&bytes),
            Fragment::Stream { token, .. } => return Err(StreamedBody { token }),
        }
    }
    Ok(out)
}

/// How a string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StringForm {
    Quoted,
    Literal,
}

/// Quoted when every octet may appear between DQUOTEs unescaped; 8-bit
/// data only when UTF-8 is enabled (RFC 9051 §4.3 / RFC 6855 §3) and the
/// data is valid UTF-8. CR, LF, other controls, `"` and `\` force a literal
/// so no client ever has to parse an escape.
pub(crate) fn string_form(data: &[u8], utf8: bool) -> StringForm {
    let ascii_ok = |b: u8| b == b'\t' || ((0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\');
    if data.iter().all(|&b| ascii_ok(b)) {
        return StringForm::Quoted;
    }
    if utf8 && std::str::from_utf8(data).is_ok() && data.iter().all(|&b| b >= 0x80 || ascii_ok(b)) {
        return StringForm::Quoted;
    }
    StringForm::Literal
}

pub(crate) struct Out {
    done: Vec<Fragment>,
    buf: Vec<u8>,
    /// UTF-8 may be sent in quoted strings (IMAP4rev2 / UTF8=ACCEPT).
    utf8: bool,
}

impl Out {
    pub(crate) fn new(utf8: bool) -> Self {
        Out {
            done: Vec::new(),
            buf: Vec::new(),
            utf8,
        }
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(bytes);
        self
    }

    pub(crate) fn str(&mut self, text: &str) -> &mut Self {
        self.raw(text.as_bytes())
    }

    pub(crate) fn sp(&mut self) -> &mut Self {
        self.raw(b" ")
    }

    pub(crate) fn crlf(&mut self) -> &mut Self {
        self.raw(b"\r\n")
    }

    pub(crate) fn display(&mut self, value: impl Display) -> &mut Self {
        let text = value.to_string();
        self.raw(text.as_bytes())
    }

    /// `string`: quoted or literal.
    pub(crate) fn string(&mut self, data: &[u8]) -> &mut Self {
        match string_form(data, self.utf8) {
            StringForm::Quoted => {
                self.buf.push(b'"');
                self.buf.extend_from_slice(data);
                self.buf.push(b'"');
                self
            }
            StringForm::Literal => self.literal(data),
        }
    }

    /// `astring`: a bare atom when possible.
    pub(crate) fn astring(&mut self, data: &[u8]) -> &mut Self {
        if !data.is_empty() && data.iter().all(|&b| is_astring_char(b)) {
            self.raw(data)
        } else {
            self.string(data)
        }
    }

    /// `nstring = string / nil`.
    pub(crate) fn nstring(&mut self, data: Option<&[u8]>) -> &mut Self {
        match data {
            Some(data) => self.string(data),
            None => self.raw(b"NIL"),
        }
    }

    /// A synchronizing literal written inline (commands, short strings).
    pub(crate) fn literal(&mut self, data: &[u8]) -> &mut Self {
        self.display(format_args!("{{{}}}\r\n", data.len()));
        self.raw(data)
    }

    /// A literal whose data is shared rather than copied. `binary` selects
    /// `literal8` (RFC 3516 `~{n}`), required when the data holds NUL.
    pub(crate) fn shared_literal(&mut self, data: &Bytes, binary: bool) -> &mut Self {
        self.literal_header(data.len() as u64, binary);
        self.cut();
        self.done.push(Fragment::Literal(data.clone()));
        self
    }

    /// A literal the caller streams.
    pub(crate) fn streamed_literal(&mut self, len: u64, token: u64, binary: bool) -> &mut Self {
        self.literal_header(len, binary);
        self.cut();
        self.done.push(Fragment::Stream { len, token });
        self
    }

    fn literal_header(&mut self, len: u64, binary: bool) {
        if binary {
            self.buf.push(b'~');
        }
        self.display(format_args!("{{{len}}}\r\n"));
    }

    fn cut(&mut self) {
        if !self.buf.is_empty() {
            self.done
                .push(Fragment::Protocol(std::mem::take(&mut self.buf)));
        }
    }

    /// Writes `items` separated by SP.
    pub(crate) fn join<T>(
        &mut self,
        items: &[T],
        mut each: impl FnMut(&mut Self, &T),
    ) -> &mut Self {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.sp();
            }
            each(self, item);
        }
        self
    }

    /// Writes `"(" items ")"`.
    pub(crate) fn list<T>(&mut self, items: &[T], each: impl FnMut(&mut Self, &T)) -> &mut Self {
        self.raw(b"(");
        self.join(items, each);
        self.raw(b")")
    }

    pub(crate) fn finish(mut self) -> Vec<Fragment> {
        self.cut();
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of(f: impl FnOnce(&mut Out), utf8: bool) -> Vec<u8> {
        let mut out = Out::new(utf8);
        f(&mut out);
        flatten(out.finish()).unwrap_or_default()
    }

    #[test]
    fn string_forms() {
        let cases: &[(&[u8], bool, &[u8])] = &[
            (b"abc", false, b"\"abc\""),
            (b"", false, b"\"\""),
            (b"a b", false, b"\"a b\""),
            (b"a\"b", false, b"{3}\r\na\"b"),
            (b"a\\b", false, b"{3}\r\na\\b"),
            (b"a\r\nb", false, b"{4}\r\na\r\nb"),
            ("café".as_bytes(), false, b"{5}\r\ncaf\xc3\xa9"),
            ("café".as_bytes(), true, b"\"caf\xc3\xa9\""),
            (b"caf\xe9", true, b"{4}\r\ncaf\xe9"),
            (b"a\x01", true, b"{2}\r\na\x01"),
        ];
        for &(data, utf8, expected) in cases {
            assert_eq!(
                bytes_of(
                    |o| {
                        o.string(data);
                    },
                    utf8
                ),
                expected,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn astring_and_nstring() {
        assert_eq!(
            bytes_of(
                |o| {
                    o.astring(b"INBOX");
                },
                false
            ),
            b"INBOX"
        );
        assert_eq!(
            bytes_of(
                |o| {
                    o.astring(b"a]b");
                },
                false
            ),
            b"a]b"
        );
        assert_eq!(
            bytes_of(
                |o| {
                    o.astring(b"a b");
                },
                false
            ),
            b"\"a b\""
        );
        assert_eq!(
            bytes_of(
                |o| {
                    o.astring(b"");
                },
                false
            ),
            b"\"\""
        );
        assert_eq!(
            bytes_of(
                |o| {
                    o.nstring(None);
                },
                false
            ),
            b"NIL"
        );
        assert_eq!(
            bytes_of(
                |o| {
                    o.nstring(Some(b"NIL"));
                },
                false
            ),
            b"\"NIL\""
        );
    }

    #[test]
    fn shared_and_streamed_literals_are_separate_fragments() {
        let body = Bytes::from_static(b"Hello\r\n");
        let mut out = Out::new(false);
        out.raw(b"* 1 FETCH (BODY[] ")
            .shared_literal(&body, false)
            .raw(b")\r\n");
        let fragments = out.finish();
        assert_eq!(
            fragments,
            vec![
                Fragment::Protocol(b"* 1 FETCH (BODY[] {7}\r\n".to_vec()),
                Fragment::Literal(body.clone()),
                Fragment::Protocol(b")\r\n".to_vec()),
            ]
        );
        let mut out = Out::new(false);
        out.raw(b"x ").streamed_literal(10, 42, true).raw(b")");
        let fragments = out.finish();
        assert_eq!(
            fragments.get(1),
            Some(&Fragment::Stream { len: 10, token: 42 })
        );
        assert_eq!(
            fragments.first(),
            Some(&Fragment::Protocol(b"x ~{10}\r\n".to_vec()))
        );
        assert_eq!(flatten(fragments), Err(StreamedBody { token: 42 }));
    }
}
