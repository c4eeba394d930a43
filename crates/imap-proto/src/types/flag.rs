//! Message flags (RFC 9051 §2.3.2, §9 `flag`, `flag-fetch`, `flag-perm`).

use std::fmt;

use crate::cursor::{Cursor, PResult};
use crate::error::ValueError;
use crate::types::atom::Atom;

/// `flag`: a system flag, a keyword, or a `\`-prefixed extension flag.
/// `\Recent` is not a `flag` (it cannot be stored); see [`FetchFlag`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Flag {
    Answered,
    Flagged,
    Deleted,
    Seen,
    Draft,
    /// `flag-keyword = "$MDNSent" / "$Forwarded" / ... / atom`.
    Keyword(Atom),
    /// `flag-extension = "\" atom`, other than the system flags.
    Extension(Atom),
}

impl Flag {
    /// Parses the text of a flag (`\Seen`, `$Junk`), recognising system
    /// flags case-insensitively (RFC 9051 §2.3.2).
    pub fn new(text: &str) -> Result<Self, ValueError> {
        match text.strip_prefix('\\') {
            Some(name) => {
                let atom = Atom::new(name).map_err(|_| ValueError::new("flag", text))?;
                Ok(Flag::system(atom))
            }
            None => Atom::new(text).map(Flag::Keyword),
        }
    }

    fn system(name: Atom) -> Self {
        let s = name.as_str();
        if s.eq_ignore_ascii_case("Answered") {
            Flag::Answered
        } else if s.eq_ignore_ascii_case("Flagged") {
            Flag::Flagged
        } else if s.eq_ignore_ascii_case("Deleted") {
            Flag::Deleted
        } else if s.eq_ignore_ascii_case("Seen") {
            Flag::Seen
        } else if s.eq_ignore_ascii_case("Draft") {
            Flag::Draft
        } else {
            Flag::Extension(name)
        }
    }

    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        let system = c.eat(b'\\')?;
        let name = c.atom()?;
        match Atom::new(name) {
            Ok(atom) if system => Ok(Flag::system(atom)),
            Ok(atom) => Ok(Flag::Keyword(atom)),
            Err(_) => c.syntax("flag"),
        }
    }

    /// `flag-list = "(" [flag *(SP flag)] ")"`.
    pub(crate) fn parse_list(c: &mut Cursor) -> PResult<Vec<Flag>> {
        c.paren_list(true, Flag::parse)
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Answered => f.write_str("\\Answered"),
            Flag::Flagged => f.write_str("\\Flagged"),
            Flag::Deleted => f.write_str("\\Deleted"),
            Flag::Seen => f.write_str("\\Seen"),
            Flag::Draft => f.write_str("\\Draft"),
            Flag::Keyword(atom) => write!(f, "{atom}"),
            Flag::Extension(atom) => write!(f, "\\{atom}"),
        }
    }
}

/// `flag-fetch = flag / "\Recent"` (the latter IMAP4rev1 only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FetchFlag {
    Flag(Flag),
    Recent,
}

impl fmt::Display for FetchFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchFlag::Flag(flag) => flag.fmt(f),
            FetchFlag::Recent => f.write_str("\\Recent"),
        }
    }
}

/// `flag-perm = flag / "\*"`: the PERMANENTFLAGS response code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PermanentFlag {
    Flag(Flag),
    /// `\*`: clients may create new keywords.
    Wildcard,
}

impl fmt::Display for PermanentFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PermanentFlag::Flag(flag) => flag.fmt(f),
            PermanentFlag::Wildcard => f.write_str("\\*"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn atom(s: &str) -> Atom {
        Atom::new(s).unwrap()
    }

    #[test]
    fn parse_table() {
        let cases: &[(&str, Option<Flag>)] = &[
            ("\\Seen ", Some(Flag::Seen)),
            ("\\SEEN ", Some(Flag::Seen)),
            ("\\answered ", Some(Flag::Answered)),
            ("\\Flagged ", Some(Flag::Flagged)),
            ("\\Deleted ", Some(Flag::Deleted)),
            ("\\Draft ", Some(Flag::Draft)),
            ("\\Recent ", Some(Flag::Extension(atom("Recent")))),
            ("$Junk ", Some(Flag::Keyword(atom("$Junk")))),
            ("NonJunk ", Some(Flag::Keyword(atom("NonJunk")))),
            ("\\ ", None),
            ("\\* ", None),
            ("( ", None),
        ];
        for (input, expected) in cases {
            let got = Flag::parse(&mut Cursor::new(input.as_bytes())).ok();
            assert_eq!(&got, expected, "{input}");
            if let Some(flag) = expected {
                assert_eq!(Flag::new(input.trim()).as_ref(), Ok(flag));
            }
        }
    }

    #[test]
    fn lists_and_display() {
        let got = Flag::parse_list(&mut Cursor::new(b"(\\Seen $Forwarded) ")).unwrap();
        assert_eq!(got, vec![Flag::Seen, Flag::Keyword(atom("$Forwarded"))]);
        assert_eq!(Flag::parse_list(&mut Cursor::new(b"() ")).unwrap(), vec![]);
        let shown: Vec<String> = [
            FetchFlag::Flag(Flag::Answered),
            FetchFlag::Recent,
            FetchFlag::Flag(Flag::Extension(atom("Foo"))),
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(shown, ["\\Answered", "\\Recent", "\\Foo"]);
        assert_eq!(PermanentFlag::Wildcard.to_string(), "\\*");
        assert!(Flag::new("\\").is_err());
    }
}
