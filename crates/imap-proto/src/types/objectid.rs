//! `objectid` (RFC 8474 OBJECTID): MAILBOXID, EMAILID and THREADID values.

use std::fmt;

use crate::cursor::{Cursor, PResult};
use crate::error::ValueError;

/// `objectid = 1*255(ALPHA / DIGIT / "_" / "-")`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectId(String);

impl ObjectId {
    pub fn new(value: impl Into<String>) -> Result<Self, ValueError> {
        let value = value.into();
        if Self::valid(value.as_bytes()) {
            Ok(ObjectId(value))
        } else {
            Err(ValueError::new("objectid", value))
        }
    }

    fn valid(bytes: &[u8]) -> bool {
        (1..=255).contains(&bytes.len())
            && bytes
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        let word = c.word()?;
        match ObjectId::new(word) {
            Ok(id) => Ok(id),
            Err(_) => c.syntax("objectid"),
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        let long = "a".repeat(256);
        let cases: &[(&str, bool)] = &[
            ("M6d99ac3275bb4e", true),
            ("T-_9", true),
            ("", false),
            ("a.b", false),
            ("a=b", false),
            (&long, false),
        ];
        for &(input, ok) in cases {
            assert_eq!(ObjectId::new(input).is_ok(), ok, "{input}");
            let parsed = ObjectId::parse(&mut Cursor::new(format!("{input} ").as_bytes())).is_ok();
            assert_eq!(parsed, ok, "parse {input}");
        }
    }
}
