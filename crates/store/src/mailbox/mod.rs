mod name;

pub use name::MailboxName;

use crate::error::{Result, StoreError};
use crate::ids::{AccountId, MailboxId};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

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
    /// Messages no session has been told of yet (IMAP4rev1 \Recent, RFC 3501 §2.3.2).
    pub recent: u32,
    /// The highest UID a session has already been told of.
    pub recent_uid: u32,
    pub size: u64,
    pub uid_next: u32,
    pub uid_validity: u32,
    pub highest_modseq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_use_names() {
        assert_eq!("\\sent".parse::<SpecialUse>().unwrap(), SpecialUse::Sent);
        assert_eq!("Junk".parse::<SpecialUse>().unwrap(), SpecialUse::Junk);
        assert!("\\Bogus".parse::<SpecialUse>().is_err());
    }
}
