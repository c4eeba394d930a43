//! Mailbox names (RFC 9051 §5.1): raw octets, INBOX normalised.

use std::fmt;

use crate::cursor::{Cursor, PResult};
use crate::utf7;

/// A mailbox name as the client sent it. The octets are kept untouched so
/// the server decides between modified UTF-7 (IMAP4rev1) and UTF-8
/// (IMAP4rev2 / UTF8=ACCEPT); only `INBOX`, which is case-insensitive
/// (RFC 9051 §5.1), is normalised to upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox(Vec<u8>);

impl Mailbox {
    pub fn new(name: impl Into<Vec<u8>>) -> Self {
        let name = name.into();
        if name.eq_ignore_ascii_case(b"INBOX") {
            Mailbox(b"INBOX".to_vec())
        } else {
            Mailbox(name)
        }
    }

    pub fn inbox() -> Self {
        Mailbox(b"INBOX".to_vec())
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == b"INBOX"
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The name as UTF-8: taken as-is when the session enabled UTF-8
    /// (RFC 9051 / RFC 6855), otherwise decoded from modified UTF-7
    /// (RFC 3501 §5.1.3). `None` when the octets are invalid for that mode.
    pub fn to_utf8(&self, utf8_enabled: bool) -> Option<String> {
        if utf8_enabled {
            String::from_utf8(self.0.clone()).ok()
        } else {
            utf7::decode(&self.0).ok()
        }
    }

    /// Builds the wire form of a UTF-8 name for the session's mode.
    pub fn from_utf8(name: &str, utf8_enabled: bool) -> Self {
        if utf8_enabled {
            Mailbox::new(name.as_bytes())
        } else {
            Mailbox::new(utf7::encode(name).into_bytes())
        }
    }

    /// `mailbox = "INBOX" / astring`.
    pub(crate) fn parse(c: &mut Cursor) -> PResult<Self> {
        c.astring().map(Mailbox::new)
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_is_case_insensitive() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"inbox ", b"INBOX", true),
            (b"\"InBoX\" ", b"INBOX", true),
            (b"INBOX.Sent ", b"INBOX.Sent", false),
            (b"inbox.sent ", b"inbox.sent", false),
            (b"{5}\r\nInbox ", b"INBOX", true),
        ];
        for &(input, bytes, inbox) in cases {
            let mailbox = Mailbox::parse(&mut Cursor::new(input)).unwrap();
            assert_eq!(mailbox.as_bytes(), bytes);
            assert_eq!(mailbox.is_inbox(), inbox);
        }
    }

    #[test]
    fn utf8_modes() {
        let name = Mailbox::from_utf8("Entwürfe", false);
        assert_eq!(name.as_bytes(), b"Entw&APw-rfe");
        assert_eq!(name.to_utf8(false).as_deref(), Some("Entwürfe"));
        let name = Mailbox::from_utf8("Entwürfe", true);
        assert_eq!(name.to_utf8(true).as_deref(), Some("Entwürfe"));
        assert_eq!(Mailbox::new(b"&Jjo".to_vec()).to_utf8(false), None);
    }
}
