use crate::blob::BlobHash;
use crate::facts::MessageFacts;
use crate::flags::Flags;
use crate::ids::{AccountId, MailboxId};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A moment with the UTC offset it was given in, as IMAP's INTERNALDATE keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MailDate {
    /// Unix seconds (UTC).
    pub seconds: i64,
    /// The zone's offset from UTC in minutes, e.g. +60 for +0100.
    pub offset_minutes: i16,
}

impl MailDate {
    pub fn utc(seconds: i64) -> Self {
        MailDate {
            seconds,
            offset_minutes: 0,
        }
    }
}

/// A message about to enter a mailbox (APPEND, delivery, import, restore).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub content: Arc<[u8]>,
    pub flags: Flags,
    /// None means "now".
    pub internal_date: Option<MailDate>,
    /// A POP3 UIDL to keep (import, restore), so POP3 clients don't download it again.
    pub pop3_uidl: Option<String>,
}

impl NewMessage {
    pub fn new(content: impl Into<Arc<[u8]>>) -> Self {
        NewMessage {
            content: content.into(),
            flags: Flags::default(),
            internal_date: None,
            pop3_uidl: None,
        }
    }
}

/// What the store answers once a message is durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub mailbox: MailboxId,
    pub uid_validity: u32,
    pub uid: u32,
    pub modseq: u64,
}

/// The per-message state an IMAP session keeps in memory: enough to map sequence numbers to
/// UIDs and to answer FLAGS and MODSEQ without touching the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSummary {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
}

/// Everything the store knows about one message except its bytes.
#[derive(Debug, Clone)]
pub struct MessageMeta {
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
    pub internal_date: MailDate,
    /// Exactly the number of octets of the blob (RFC822.SIZE, POP3 LIST).
    pub size: u64,
    pub blob: BlobHash,
    /// When the message entered this mailbox (SAVEDATE, RFC 8514).
    pub saved_at: i64,
    pub facts: Arc<MessageFacts>,
}

/// A message for several local recipients: one blob, one row per recipient's INBOX, one commit.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub recipients: Vec<AccountId>,
    pub content: Arc<[u8]>,
}

/// How delivery went for one recipient; the others are unaffected by a failure here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered(Appended),
    OverQuota,
    NoSuchAccount,
    Failed(String),
}

/// A UID pair from COPY or MOVE, the material of COPYUID (RFC 4315).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopiedUid {
    pub source: u32,
    pub target: u32,
}

/// The result of a STORE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagUpdate {
    /// Messages whose flags changed, with their new state.
    pub changed: Vec<MessageSummary>,
    /// UIDs not changed because their MODSEQ was above UNCHANGEDSINCE (RFC 7162 §3.1.3).
    pub modified: Vec<u32>,
}

/// Which text a full-text search looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    /// Header fields, decoded (part of SEARCH TEXT).
    Headers,
    /// The decoded text of the body parts (SEARCH BODY).
    Body,
    /// Both (SEARCH TEXT).
    All,
}

impl MessageEntry {
    /// The UIDL POP3 shows for this message: the kept one, else one derived from the UID and
    /// the mailbox's UIDVALIDITY in Dovecot's default form (%08Xu%08Xv), so clients that also
    /// used Dovecot recognise what they already have. Export and restore write this same value.
    pub fn pop3_uidl(&self, uid_validity: u32) -> String {
        self.pop3_uidl
            .clone()
            .unwrap_or_else(|| derived_pop3_uidl(self.uid, uid_validity))
    }
}

/// The UIDL of a message that has none kept (see [`MessageEntry::pop3_uidl`]).
pub fn derived_pop3_uidl(uid: u32, uid_validity: u32) -> String {
    format!("{uid:08X}{uid_validity:08X}")
}

/// What POP3 needs of each message: its exact size, its blob, and a UIDL kept from an import
/// or restore (None: the server derives one from UIDVALIDITY and UID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEntry {
    pub uid: u32,
    pub size: u64,
    pub blob: BlobHash,
    pub pop3_uidl: Option<String>,
}
