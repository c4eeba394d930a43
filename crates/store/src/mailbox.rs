use crate::error::{Result, StoreError};
use crate::ids::{AccountId, MailboxId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The hierarchy separator of every mailbox name in the store.
pub const SEPARATOR: char = '/';
const MAX_NAME_BYTES: usize = 1000;
const MAX_DEPTH: usize = 32;

/// A validated mailbox name in UTF-8 (protocols translate modified UTF-7 at their edge).
/// `INBOX` is case-insensitive (RFC 9051 §5.1) and always stored in upper case, also as the first
/// component of a child name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MailboxName(String);

impl MailboxName {
    pub fn new(name: &str) -> Result<Self> {
        let bad = |reason: &str| Err(StoreError::invalid("mailbox name", reason.to_string()));
        if name.is_empty() {
            return bad("empty");
        }
        if name.len() > MAX_NAME_BYTES {
            return bad("too long");
        }
        let parts: Vec<&str> = name.split(SEPARATOR).collect();
        if parts.len() > MAX_DEPTH {
            return bad("too deep");
        }
        if parts.iter().any(|p| p.is_empty()) {
            return bad("empty hierarchy level");
        }
        // The LIST wildcards can never be part of a real name (RFC 9051 §6.3.9).
        if name.chars().any(|c| c.is_control() || c == '*' || c == '%') {
            return bad("contains a control or wildcard character");
        }
        let mut normalized = String::with_capacity(name.len());
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                normalized.push(SEPARATOR);
            }
            if i == 0 && part.eq_ignore_ascii_case("INBOX") {
                normalized.push_str("INBOX");
            } else {
                normalized.push_str(part);
            }
        }
        Ok(MailboxName(normalized))
    }

    pub fn inbox() -> Self {
        MailboxName("INBOX".to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// The name of the parent, if this is not a top-level name.
    pub fn parent(&self) -> Option<MailboxName> {
        self.0
            .rsplit_once(SEPARATOR)
            .map(|(p, _)| MailboxName(p.to_string()))
    }

    /// Every ancestor from the top down, not including self.
    pub fn ancestors(&self) -> Vec<MailboxName> {
        let mut out = Vec::new();
        let mut cur = self.parent();
        while let Some(p) = cur {
            cur = p.parent();
            out.push(p);
        }
        out.reverse();
        out
    }

    /// True if `other` is strictly below this name in the hierarchy.
    pub fn is_ancestor_of(&self, other: &MailboxName) -> bool {
        other.0.len() > self.0.len()
            && other.0.starts_with(&self.0)
            && other.0[self.0.len()..].starts_with(SEPARATOR)
    }
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 6154 special-use attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpecialUse {
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
}

impl SpecialUse {
    pub const ALL_VALUES: [SpecialUse; 7] = [
        SpecialUse::All,
        SpecialUse::Archive,
        SpecialUse::Drafts,
        SpecialUse::Flagged,
        SpecialUse::Junk,
        SpecialUse::Sent,
        SpecialUse::Trash,
    ];

    /// The attribute as IMAP writes it, e.g. `\Sent`.
    pub fn attribute(self) -> &'static str {
        match self {
            SpecialUse::All => "\\All",
            SpecialUse::Archive => "\\Archive",
            SpecialUse::Drafts => "\\Drafts",
            SpecialUse::Flagged => "\\Flagged",
            SpecialUse::Junk => "\\Junk",
            SpecialUse::Sent => "\\Sent",
            SpecialUse::Trash => "\\Trash",
        }
    }
}

impl FromStr for SpecialUse {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        let name = s.strip_prefix('\\').unwrap_or(s);
        SpecialUse::ALL_VALUES
            .into_iter()
            .find(|u| u.attribute()[1..].eq_ignore_ascii_case(name))
            .ok_or_else(|| StoreError::invalid("special-use attribute", s))
    }
}

/// The folders every new account starts with, so clients find them through SPECIAL-USE.
pub const DEFAULT_MAILBOXES: [(&str, Option<SpecialUse>); 6] = [
    ("INBOX", None),
    ("Sent", Some(SpecialUse::Sent)),
    ("Drafts", Some(SpecialUse::Drafts)),
    ("Trash", Some(SpecialUse::Trash)),
    ("Junk", Some(SpecialUse::Junk)),
    ("Archive", Some(SpecialUse::Archive)),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub id: MailboxId,
    pub account: AccountId,
    pub name: MailboxName,
    pub special_use: Option<SpecialUse>,
    pub subscribed: bool,
    pub uid_validity: u32,
    /// The UID the next message will get; UIDs are never reused within one UIDVALIDITY.
    pub uid_next: u32,
    /// The MODSEQ of the newest change (RFC 7162); only grows.
    pub highest_modseq: u64,
}

/// What STATUS and SELECT report about a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MailboxStatus {
    pub messages: u32,
    pub unseen: u32,
    pub deleted: u32,
    pub size: u64,
    pub uid_next: u32,
    pub uid_validity: u32,
    pub highest_modseq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated_and_inbox_normalised() {
        assert_eq!(MailboxName::new("inbox").unwrap().as_str(), "INBOX");
        assert_eq!(MailboxName::new("Inbox/Sub").unwrap().as_str(), "INBOX/Sub");
        assert_eq!(
            MailboxName::new("Work/inbox").unwrap().as_str(),
            "Work/inbox"
        );
        for bad in ["", "/a", "a/", "a//b", "a*", "50%", "a\r\nb"] {
            assert!(MailboxName::new(bad).is_err(), "{bad:?}");
        }
        assert!(MailboxName::new(&"x".repeat(1001)).is_err());
    }

    #[test]
    fn hierarchy() {
        let n = MailboxName::new("a/b/c").unwrap();
        let names: Vec<String> = n.ancestors().iter().map(|a| a.to_string()).collect();
        assert_eq!(names, ["a", "a/b"]);
        let a = MailboxName::new("a").unwrap();
        assert!(a.is_ancestor_of(&n));
        assert!(!a.is_ancestor_of(&MailboxName::new("ab/c").unwrap()));
        assert!(!a.is_ancestor_of(&a));
    }

    #[test]
    fn special_use_names() {
        assert_eq!("\\sent".parse::<SpecialUse>().unwrap(), SpecialUse::Sent);
        assert_eq!("Junk".parse::<SpecialUse>().unwrap(), SpecialUse::Junk);
        assert!("\\Bogus".parse::<SpecialUse>().is_err());
    }
}
