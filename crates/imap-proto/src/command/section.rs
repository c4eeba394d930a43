//! Section specifiers and partial ranges of FETCH BODY[...] / BINARY[...]
//! (RFC 9051 §6.4.5 `section`, `partial`; RFC 3516 `section-binary`).

use std::fmt;
use std::num::{NonZeroU32, NonZeroU64};

use crate::cursor::{Cursor, PResult};
use crate::encode::Out;
use crate::types::nonempty::NonEmpty;

/// `section-spec`: a part path plus an optional text selector. `[]` (the
/// whole message) has an empty path and no text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Section {
    part: Vec<NonZeroU32>,
    text: Option<SectionText>,
}

impl Section {
    /// `None` for `MIME` without a part number, which the grammar forbids.
    pub fn new(part: Vec<NonZeroU32>, text: Option<SectionText>) -> Option<Self> {
        if part.is_empty() && text == Some(SectionText::Mime) {
            None
        } else {
            Some(Section { part, text })
        }
    }

    pub fn part(&self) -> &[NonZeroU32] {
        &self.part
    }

    pub fn text(&self) -> Option<&SectionText> {
        self.text.as_ref()
    }

    /// After `[`: `[section-spec] "]"`.
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        let mut part = Vec::new();
        let mut text = None;
        if c.peek()?.is_ascii_digit() {
            loop {
                part.push(c.nz_number()?);
                if !c.eat(b'.')? {
                    break;
                }
                if !c.peek()?.is_ascii_digit() {
                    text = Some(SectionText::parse(c, true)?);
                    break;
                }
            }
        } else if c.peek()? != b']' {
            text = Some(SectionText::parse(c, false)?);
        }
        c.expect(b']', "]")?;
        Ok(Section { part, text })
    }

    pub(crate) fn encode(&self, out: &mut Out) {
        out.raw(b"[");
        write_part(out, &self.part);
        if let Some(text) = &self.text {
            if !self.part.is_empty() {
                out.raw(b".");
            }
            text.encode(out);
        }
        out.raw(b"]");
    }
}

/// `section-msgtext / "MIME"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionText {
    Header,
    /// `HEADER.FIELDS (name ...)`: raw field names (astrings).
    HeaderFields(NonEmpty<Vec<u8>>),
    HeaderFieldsNot(NonEmpty<Vec<u8>>),
    Text,
    /// Only after a part number.
    Mime,
}

impl SectionText {
    fn parse(c: &mut Cursor, allow_mime: bool) -> PResult<Self> {
        let word = c.word()?.to_ascii_uppercase();
        Ok(match word.as_str() {
            "HEADER" => SectionText::Header,
            "TEXT" => SectionText::Text,
            "MIME" if allow_mime => SectionText::Mime,
            "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
                c.sp()?;
                let names = c.paren_list(false, Cursor::astring)?;
                let Some(names) = NonEmpty::from_vec(names) else {
                    return c.syntax("header-list");
                };
                if word == "HEADER.FIELDS" {
                    SectionText::HeaderFields(names)
                } else {
                    SectionText::HeaderFieldsNot(names)
                }
            }
            _ => return c.syntax("HEADER, HEADER.FIELDS, TEXT or MIME"),
        })
    }

    fn encode(&self, out: &mut Out) {
        match self {
            SectionText::Header => out.str("HEADER"),
            SectionText::Text => out.str("TEXT"),
            SectionText::Mime => out.str("MIME"),
            SectionText::HeaderFields(names) => out.str("HEADER.FIELDS ").list(names, |o, n| {
                o.astring(n);
            }),
            SectionText::HeaderFieldsNot(names) => {
                out.str("HEADER.FIELDS.NOT ").list(names, |o, n| {
                    o.astring(n);
                })
            }
        };
    }
}

pub(crate) fn write_part(out: &mut Out, part: &[NonZeroU32]) {
    for (i, n) in part.iter().enumerate() {
        if i > 0 {
            out.raw(b".");
        }
        out.display(n);
    }
}

/// `section-binary = "[" [section-part] "]"`, cursor after `[`.
pub(crate) fn parse_binary_part(c: &mut Cursor) -> PResult<Vec<NonZeroU32>> {
    let mut part = Vec::new();
    if c.peek()? != b']' {
        part.push(c.nz_number()?);
        while c.eat(b'.')? {
            part.push(c.nz_number()?);
        }
    }
    c.expect(b']', "]")?;
    Ok(part)
}

/// `partial = "<" number64 "." nz-number64 ">"`: octet range of a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partial {
    pub start: u64,
    pub length: NonZeroU64,
}

impl Partial {
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Option<Self>> {
        if !c.eat(b'<')? {
            return Ok(None);
        }
        let start = c.number64()?;
        c.expect(b'.', ".")?;
        let length = c.nz_number64()?;
        c.expect(b'>', ">")?;
        Ok(Some(Partial { start, length }))
    }

    pub(crate) fn encode(partial: &Option<Self>, out: &mut Out) {
        if let Some(p) = partial {
            out.display(format_args!("<{}.{}>", p.start, p.length));
        }
    }
}

impl fmt::Display for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}.{}>", self.start, self.length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::PErr;

    fn section(input: &str) -> PResult<Section> {
        Section::parse(&mut Cursor::new(format!("{input}\r\n").as_bytes()))
    }

    #[test]
    fn sections_round_trip() {
        let cases = [
            "]",
            "HEADER]",
            "TEXT]",
            "1]",
            "1.2.3]",
            "1.MIME]",
            "2.HEADER]",
            "3.TEXT]",
            "HEADER.FIELDS (DATE FROM)]",
            "4.HEADER.FIELDS.NOT (\"X Y\" Z)]",
        ];
        for input in cases {
            let parsed = section(input).unwrap();
            let mut out = Out::new(false);
            parsed.encode(&mut out);
            let bytes = crate::encode::flatten(out.finish()).unwrap();
            let text = String::from_utf8(bytes).unwrap();
            assert_eq!(section(text.trim_start_matches('[')), Ok(parsed), "{input}");
        }
        for bad in [
            "MIME]",
            "0]",
            "1.]",
            "1.FOO]",
            "HEADER.FIELDS ()]",
            "HEADER",
        ] {
            assert!(matches!(section(bad), Err(PErr::Fail(_))), "{bad}");
        }
        assert!(Section::new(vec![], Some(SectionText::Mime)).is_none());
    }

    #[test]
    fn partials_and_binary_parts() {
        let partial = |s: &str| Partial::parse(&mut Cursor::new(format!("{s} ").as_bytes()));
        assert_eq!(
            partial("<0.10>"),
            Ok(Some(Partial {
                start: 0,
                length: NonZeroU64::new(10).unwrap()
            }))
        );
        assert_eq!(partial("x"), Ok(None));
        assert!(matches!(partial("<1.0>"), Err(PErr::Fail(_))));
        assert!(matches!(partial("<1>"), Err(PErr::Fail(_))));
        let part = |s: &str| parse_binary_part(&mut Cursor::new(format!("{s} ").as_bytes()));
        assert_eq!(part("]"), Ok(vec![]));
        assert_eq!(part("1.2]").map(|p| p.len()), Ok(2));
        assert!(matches!(part("1.TEXT]"), Err(PErr::Fail(_))));
        assert_eq!(
            Partial {
                start: 5,
                length: NonZeroU64::new(6).unwrap()
            }
            .to_string(),
            "<5.6>"
        );
    }
}
