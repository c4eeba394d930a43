use crate::flags::Flags;
use crate::ids::{MailboxId, RecoveryId};
use crate::message::MailDate;

/// A deleted message kept in the account's recovery area, with where it was and how it looked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoverableMessage {
    pub id: RecoveryId,
    /// The folder it was deleted from, by stable id (it may have been renamed since) and by the
    /// name it had then (used when the folder itself is gone).
    pub mailbox: MailboxId,
    pub mailbox_name: String,
    pub flags: Flags,
    pub internal_date: MailDate,
    pub deleted_at: i64,
    pub size: u64,
    pub from: Option<String>,
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RecoveryFilter {
    /// Only what was deleted at or after this Unix time.
    pub deleted_since: Option<i64>,
    /// Only what was deleted from this folder (by its name at deletion).
    pub mailbox_name: Option<String>,
}

/// A message brought back from the recovery area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub id: RecoveryId,
    pub mailbox: MailboxId,
    pub mailbox_name: String,
    pub uid: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub messages: u64,
    pub blobs: u64,
    pub bytes: u64,
}

/// Files the store keeps beside its database that nothing refers to (see
/// `Maintenance::stray_files`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StrayFiles {
    /// Message files no message, recovery entry or queued mail refers to.
    pub orphans: u64,
    pub orphan_bytes: u64,
    /// Leftovers of writes interrupted before their file was complete.
    pub temporary: u64,
    pub temporary_bytes: u64,
}

impl StrayFiles {
    pub fn is_empty(&self) -> bool {
        self.orphans + self.temporary == 0
    }
}

/// A quota warning to deliver to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaWarning {
    pub id: i64,
    pub account: crate::ids::AccountId,
    pub address: String,
    /// 80 or 95 (percent).
    pub level: u8,
    pub used_bytes: u64,
    pub quota_bytes: Option<u64>,
    pub used_messages: u64,
    pub quota_messages: Option<u64>,
}
