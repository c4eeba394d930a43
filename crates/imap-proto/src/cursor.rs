//! Byte cursor with the lexical primitives of RFC 9051 §9 (atoms, numbers,
//! quoted strings, literals). Every read is bounds-checked: running out of
//! input yields [`PErr::Incomplete`], never a panic.

use std::num::{NonZeroU32, NonZeroU64};

use crate::error::ParseError;
use crate::types::chars::{is_astring_char, is_atom_char, is_list_char};

/// Internal parse failure: either the input stops early (the framer decides
/// whether more can come) or it is definitely wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PErr {
    Incomplete,
    Fail(ParseError),
}

impl From<ParseError> for PErr {
    fn from(error: ParseError) -> Self {
        PErr::Fail(error)
    }
}

pub(crate) type PResult<T> = Result<T, PErr>;

/// Largest mod-sequence / number64 value: RFC 9051 §9 and RFC 7162 §7 limit
/// them to 63 bits so they fit a signed 64-bit integer.
pub(crate) const MAX_NUMBER64: u64 = i64::MAX as u64;

pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn set_pos(&mut self, pos: usize) {
        self.pos = pos.min(self.buf.len());
    }

    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Bytes from `start` up to the current position.
    pub(crate) fn rest_from(&self, start: usize) -> &'a [u8] {
        self.buf.get(start..self.pos).unwrap_or_default()
    }

    pub(crate) fn syntax<T>(&self, expected: &'static str) -> PResult<T> {
        Err(PErr::Fail(ParseError::Syntax {
            expected,
            offset: self.pos,
        }))
    }

    /// The next byte without consuming it; `Incomplete` at the end.
    pub(crate) fn peek(&self) -> PResult<u8> {
        self.buf.get(self.pos).copied().ok_or(PErr::Incomplete)
    }

    pub(crate) fn next(&mut self) -> PResult<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        Ok(byte)
    }

    /// Consumes `byte` if it is next.
    pub(crate) fn eat(&mut self, byte: u8) -> PResult<bool> {
        if self.peek()? == byte {
            self.pos += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub(crate) fn expect(&mut self, byte: u8, expected: &'static str) -> PResult<()> {
        if self.eat(byte)? {
            Ok(())
        } else {
            self.syntax(expected)
        }
    }

    pub(crate) fn sp(&mut self) -> PResult<()> {
        self.expect(b' ', "SP")
    }

    pub(crate) fn crlf(&mut self) -> PResult<()> {
        self.expect(b'\r', "CRLF")?;
        self.expect(b'\n', "CRLF")
    }

    /// Consumes `token` (ASCII, case-insensitive) if the input starts with it.
    pub(crate) fn eat_ci(&mut self, token: &str) -> PResult<bool> {
        let end = self.pos + token.len();
        match self.buf.get(self.pos..end) {
            Some(found) if found.eq_ignore_ascii_case(token.as_bytes()) => {
                self.pos = end;
                Ok(true)
            }
            Some(_) => Ok(false),
            None => {
                // Fewer bytes than the token: incomplete only if what is
                // there is a prefix of it.
                if token
                    .as_bytes()
                    .get(..self.rest().len())
                    .is_some_and(|prefix| prefix.eq_ignore_ascii_case(self.rest()))
                {
                    Err(PErr::Incomplete)
                } else {
                    Ok(false)
                }
            }
        }
    }

    /// Reads a keyword: letters, digits and `. - _ =`. Used for command
    /// names, FETCH attributes, SEARCH keys; callers compare ignoring case.
    pub(crate) fn word(&mut self) -> PResult<&'a str> {
        let start = self.pos;
        loop {
            let b = self.peek()?;
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'=') {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos == start {
            return self.syntax("keyword");
        }
        Ok(self.slice_str(start))
    }

    /// Runs `parse` and rewinds if it fails; used for one-token lookahead.
    pub(crate) fn peek_word(&mut self) -> PResult<Option<&'a str>> {
        let start = self.pos;
        let word = match self.word() {
            Ok(word) => Some(word),
            Err(PErr::Incomplete) => return Err(PErr::Incomplete),
            Err(PErr::Fail(_)) => None,
        };
        self.pos = start;
        Ok(word)
    }

    fn slice_str(&self, start: usize) -> &'a str {
        // Only ASCII bytes were accepted, so this cannot fail.
        self.buf
            .get(start..self.pos)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }

    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> PResult<&'a [u8]> {
        let start = self.pos;
        while accept(self.peek()?) {
            self.pos += 1;
        }
        Ok(self.buf.get(start..self.pos).unwrap_or_default())
    }

    /// `atom = 1*ATOM-CHAR`.
    pub(crate) fn atom(&mut self) -> PResult<&'a str> {
        let start = self.pos;
        self.take_while(is_atom_char)?;
        if self.pos == start {
            return self.syntax("atom");
        }
        Ok(self.slice_str(start))
    }

    fn digits(&mut self) -> PResult<(u64, usize)> {
        let start = self.pos;
        let digits = self.take_while(|b| b.is_ascii_digit())?;
        if digits.is_empty() {
            return self.syntax("number");
        }
        let mut value: u64 = 0;
        for &d in digits {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d - b'0')))
                .ok_or(ParseError::NumberOutOfRange { offset: start })?;
        }
        Ok((value, start))
    }

    /// `number = 1*DIGIT` (32-bit unsigned).
    pub(crate) fn number(&mut self) -> PResult<u32> {
        let (value, start) = self.digits()?;
        u32::try_from(value).map_err(|_| ParseError::NumberOutOfRange { offset: start }.into())
    }

    /// `nz-number = digit-nz *DIGIT`.
    pub(crate) fn nz_number(&mut self) -> PResult<NonZeroU32> {
        let start = self.pos;
        NonZeroU32::new(self.number()?)
            .ok_or_else(|| ParseError::NumberOutOfRange { offset: start }.into())
    }

    /// `number64` (RFC 9051): 63-bit unsigned.
    pub(crate) fn number64(&mut self) -> PResult<u64> {
        let (value, start) = self.digits()?;
        if value > MAX_NUMBER64 {
            return Err(ParseError::NumberOutOfRange { offset: start }.into());
        }
        Ok(value)
    }

    /// `nz-number64` / `mod-sequence-value` (RFC 7162): 1..=2^63-1.
    pub(crate) fn nz_number64(&mut self) -> PResult<NonZeroU64> {
        let start = self.pos;
        NonZeroU64::new(self.number64()?)
            .ok_or_else(|| ParseError::NumberOutOfRange { offset: start }.into())
    }

    /// `quoted = DQUOTE *QUOTED-CHAR DQUOTE`. 8-bit octets are kept as-is
    /// when they form UTF-8 (RFC 9051 §9: `QUOTED-CHAR =/ UTF8-2 / UTF8-3 /
    /// UTF8-4`); other 8-bit data must come as a literal. CR, LF and NUL
    /// are refused.
    pub(crate) fn quoted(&mut self) -> PResult<Vec<u8>> {
        self.expect(b'"', "quoted string")?;
        let start = self.pos;
        let mut out = Vec::new();
        loop {
            match self.next()? {
                b'"' if !out.is_ascii() && std::str::from_utf8(&out).is_err() => {
                    return Err(ParseError::Syntax {
                        expected: "UTF-8 in quoted string",
                        offset: start,
                    }
                    .into());
                }
                b'"' => return Ok(out),
                b'\\' => match self.next()? {
                    b @ (b'"' | b'\\') => out.push(b),
                    _ => return self.syntax("quoted-special after backslash"),
                },
                b'\r' | b'\n' | 0 => return self.syntax("closing DQUOTE"),
                b => out.push(b),
            }
        }
    }

    /// `literal = "{" number64 ["+"] "}" CRLF *CHAR8` (RFC 7888 adds the
    /// `+`); with `allow_binary`, also `literal8 = "~{" ... "}"` (RFC 3516).
    /// Returns the data and whether it was a literal8.
    pub(crate) fn literal_any(&mut self, allow_binary: bool) -> PResult<(&'a [u8], bool)> {
        let binary = allow_binary && self.eat(b'~')?;
        self.expect(b'{', "literal")?;
        let (size, start) = self.digits()?;
        self.eat(b'+')?;
        self.expect(b'}', "}")?;
        self.crlf()?;
        let size =
            usize::try_from(size).map_err(|_| ParseError::NumberOutOfRange { offset: start })?;
        let end = self.pos.checked_add(size).ok_or(PErr::Incomplete)?;
        let data = self.buf.get(self.pos..end).ok_or(PErr::Incomplete)?;
        if !binary && data.contains(&0) {
            return Err(ParseError::Invalid("NUL in literal (use literal8)").into());
        }
        self.pos = end;
        Ok((data, binary))
    }

    /// `string = quoted / literal`.
    pub(crate) fn string(&mut self) -> PResult<Vec<u8>> {
        match self.peek()? {
            b'"' => self.quoted(),
            b'{' => Ok(self.literal_any(false)?.0.to_vec()),
            _ => self.syntax("string"),
        }
    }

    /// `astring = 1*ASTRING-CHAR / string`.
    pub(crate) fn astring(&mut self) -> PResult<Vec<u8>> {
        match self.peek()? {
            b'"' | b'{' => self.string(),
            _ => {
                let start = self.pos;
                let chars = self.take_while(is_astring_char)?;
                if chars.is_empty() {
                    self.pos = start;
                    return self.syntax("astring");
                }
                Ok(chars.to_vec())
            }
        }
    }

    /// `nstring = string / nil`.
    pub(crate) fn nstring(&mut self) -> PResult<Option<Vec<u8>>> {
        if self.eat_nil()? {
            Ok(None)
        } else {
            self.string().map(Some)
        }
    }

    /// Consumes `NIL` when it is a whole token.
    pub(crate) fn eat_nil(&mut self) -> PResult<bool> {
        let start = self.pos;
        match self.peek()? {
            b'N' | b'n' => {
                if self.word()?.eq_ignore_ascii_case("NIL") {
                    return Ok(true);
                }
                self.pos = start;
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// `list-mailbox = 1*list-char / string`.
    pub(crate) fn list_mailbox(&mut self) -> PResult<Vec<u8>> {
        match self.peek()? {
            b'"' | b'{' => self.string(),
            _ => {
                let chars = self.take_while(is_list_char)?;
                if chars.is_empty() {
                    return self.syntax("list-mailbox");
                }
                Ok(chars.to_vec())
            }
        }
    }

    /// `"(" item *(SP item) ")"`; `allow_empty` admits `()`.
    pub(crate) fn paren_list<T>(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> PResult<Vec<T>> {
        self.expect(b'(', "(")?;
        let mut items = Vec::new();
        if self.eat(b')')? {
            if allow_empty {
                return Ok(items);
            }
            return self.syntax("list element");
        }
        loop {
            items.push(item(self)?);
            if self.eat(b')')? {
                return Ok(items);
            }
            self.sp()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(input: &[u8], f: impl FnOnce(&mut Cursor) -> PResult<T>) -> PResult<T> {
        let mut cursor = Cursor::new(input);
        f(&mut cursor)
    }

    #[test]
    fn strings() {
        let cases: &[(&[u8], PResult<Vec<u8>>)] = &[
            (b"\"abc\" ", Ok(b"abc".to_vec())),
            (b"\"a\\\"b\\\\\" ", Ok(b"a\"b\\".to_vec())),
            (b"\"\" ", Ok(Vec::new())),
            (b"\"caf\xc3\xa9\" ", Ok("café".as_bytes().to_vec())),
            (
                b"\"\xe6\x97\xa5\xf0\x9f\x93\xac\" ",
                Ok("日📬".as_bytes().to_vec()),
            ),
            // 8-bit data that is not UTF-8 is fine in a literal.
            (b"{4}\r\ncaf\xe9 ", Ok(b"caf\xe9".to_vec())),
            (b"{3}\r\nabc ", Ok(b"abc".to_vec())),
            (b"{3+}\r\nabc ", Ok(b"abc".to_vec())),
            (b"{0}\r\n ", Ok(Vec::new())),
            (b"{3}\r\nab", Err(PErr::Incomplete)),
            (b"\"abc", Err(PErr::Incomplete)),
            (b"atom ", Ok(b"atom".to_vec())),
            (b"a]b ", Ok(b"a]b".to_vec())),
        ];
        for (input, expected) in cases {
            let got = run(input, |c| c.astring());
            assert_eq!(&got, expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn string_errors() {
        let cases: &[&[u8]] = &[
            b"\"a\rb\"",
            b"\"a\\xb\"",
            b"(x",
            b"{3}\r\na\0b ",
            // 8-bit octets in a quoted string must be UTF-8 (RFC 9051 §9).
            b"\"caf\xe9\" ",
            b"\"\xff\" ",
            b"\"\xc3\" ",
            b"\"\xe6\x97\" ",
        ];
        for input in cases {
            assert!(
                matches!(run(input, |c| c.astring()), Err(PErr::Fail(_))),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        // literal8 only where allowed
        assert_eq!(
            run(b"~{2}\r\n\0x ", |c| c
                .literal_any(true)
                .map(|(d, b)| (d.to_vec(), b))),
            Ok((b"\0x".to_vec(), true))
        );
        assert!(matches!(
            run(b"~{2}\r\n\0x ", |c| c.string()),
            Err(PErr::Fail(_))
        ));
    }

    #[test]
    fn numbers() {
        assert_eq!(run(b"123 ", |c| c.number()), Ok(123));
        assert_eq!(run(b"4294967295 ", |c| c.number()), Ok(u32::MAX));
        assert!(matches!(
            run(b"4294967296 ", |c| c.number()),
            Err(PErr::Fail(_))
        ));
        assert!(matches!(run(b"0 ", |c| c.nz_number()), Err(PErr::Fail(_))));
        assert_eq!(
            run(b"9223372036854775807 ", |c| c.number64()),
            Ok(MAX_NUMBER64)
        );
        assert!(matches!(
            run(b"9223372036854775808 ", |c| c.number64()),
            Err(PErr::Fail(_))
        ));
        assert!(matches!(
            run(b"99999999999999999999999 ", |c| c.number64()),
            Err(PErr::Fail(_))
        ));
        assert_eq!(run(b"12", |c| c.number()), Err(PErr::Incomplete));
        assert!(matches!(run(b"x", |c| c.number()), Err(PErr::Fail(_))));
    }

    #[test]
    fn nil_and_lists() {
        assert_eq!(run(b"NIL ", |c| c.nstring()), Ok(None));
        assert_eq!(run(b"nil ", |c| c.nstring()), Ok(None));
        assert!(matches!(run(b"NILS ", |c| c.nstring()), Err(PErr::Fail(_))));
        assert_eq!(
            run(b"(a b c) ", |c| c
                .paren_list(false, |c| c.atom().map(str::to_owned))),
            Ok(vec!["a".to_owned(), "b".to_owned(), "c".to_owned()])
        );
        assert_eq!(
            run(b"() ", |c| c
                .paren_list(true, |c| c.atom().map(str::to_owned))),
            Ok(vec![])
        );
        assert!(
            run(b"() ", |c| c
                .paren_list(false, |c| c.atom().map(str::to_owned)))
            .is_err()
        );
        assert_eq!(run(b"%/a* ", |c| c.list_mailbox()), Ok(b"%/a*".to_vec()));
    }

    #[test]
    fn eat_ci_prefix() {
        assert_eq!(run(b"DO", |c| c.eat_ci("DONE")), Err(PErr::Incomplete));
        assert_eq!(run(b"DX", |c| c.eat_ci("DONE")), Ok(false));
        assert_eq!(run(b"done\r\n", |c| c.eat_ci("DONE")), Ok(true));
    }
}
