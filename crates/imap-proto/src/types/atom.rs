//! Validated atom-like values: [`Atom`], [`Tag`], [`Capability`].

use std::fmt;

use crate::error::ValueError;
use crate::types::chars::{is_astring_char, is_atom_char};

/// `atom = 1*ATOM-CHAR` (RFC 9051 §9). Always non-empty ASCII.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Atom(String);

impl Atom {
    pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
        let value = value.into();
        if !value.is_empty() && value.bytes().all(is_atom_char) {
            Ok(Atom(value))
        } else {
            Err(ValueError::new("atom", value))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Case-insensitive comparison, as IMAP keywords are.
    pub fn eq_ignore_case(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `tag = 1*<any ASTRING-CHAR except "+">` (RFC 9051 §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
        let value = value.into();
        if Tag::valid(value.as_bytes()) {
            Ok(Tag(value))
        } else {
            Err(ValueError::new("tag", value))
        }
    }

    pub(crate) fn valid(bytes: &[u8]) -> bool {
        !bytes.is_empty() && bytes.iter().all(|&b| is_astring_char(b) && b != b'+')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A capability name such as `IMAP4rev2`, `AUTH=PLAIN` or `QUOTA=RES-STORAGE`
/// (`capability = ("AUTH=" auth-type) / atom`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Capability(Atom);

impl Capability {
    pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
        Atom::new(value).map(Capability)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl From<Atom> for Capability {
    fn from(atom: Atom) -> Self {
        Capability(atom)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atom_validation() {
        let cases: &[(&str, bool)] = &[
            ("FOO", true),
            ("$Junk", true),
            ("a[b", true),
            ("", false),
            ("a b", false),
            ("a]", false),
            ("a*", false),
            ("é", false),
        ];
        for &(input, ok) in cases {
            assert_eq!(Atom::new(input).is_ok(), ok, "{input:?}");
        }
    }

    #[test]
    fn tag_validation() {
        let cases: &[(&str, bool)] = &[
            ("a001", true),
            ("A]1", true),
            ("+a", false),
            ("a+", false),
            ("", false),
            ("a(", false),
            ("a%", false),
        ];
        for &(input, ok) in cases {
            assert_eq!(Tag::new(input).is_ok(), ok, "{input:?}");
        }
    }

    #[test]
    fn capability() {
        assert_eq!(
            Capability::new("AUTH=PLAIN").map(|c| c.to_string()),
            Ok("AUTH=PLAIN".into())
        );
        assert!(Capability::new("AUTH PLAIN").is_err());
    }
}
