//! Moving mail in and out of the store as files other programs read: Maildir (one file per
//! message, flags in the name) and mbox (one file per folder). Both keep folders, flags,
//! keywords, internal dates and POP3 UIDLs, so users can arrive from and leave for other
//! servers without their mail programs downloading everything again.

pub mod maildir;
pub mod mbox;
pub mod tree;

use mailroom_store::Flags;

/// A message as the files hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMessage {
    pub content: Vec<u8>,
    pub flags: Flags,
    /// Unix seconds.
    pub internal_date: i64,
    pub pop3_uidl: Option<String>,
}

/// A folder and its messages, by store name ("Work/2026").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFolder {
    pub name: String,
    pub messages: Vec<FileMessage>,
}

/// A POP3 UIDL as RFC 1939 §7 allows it: 1 to 70 characters from 0x21 to 0x7E.
pub fn valid_uidl(uidl: &str) -> bool {
    (1..=70).contains(&uidl.len()) && uidl.bytes().all(|b| (0x21..=0x7e).contains(&b))
}
