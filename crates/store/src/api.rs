//! The storage API. Every method is a complete, atomic operation: when it returns Ok, the change
//! is durable (committed and fsync'd) and has been published to subscribers.

use crate::account::{
    Account, AccountUpdate, Alias, ApiToken, AppPassword, Domain, DomainUpdate, Lockout, NewAccount,
};
use crate::blob::BlobHash;
use crate::changes::{Change, MailboxEvent};
use crate::error::Result;
use crate::flags::FlagOp;
use crate::ids::{AccountId, MailboxId, RecoveryId};
use crate::mailbox::{Mailbox, MailboxName, MailboxStatus, SpecialUse};
use crate::message::{
    Appended, CopiedUid, Delivery, DeliveryOutcome, FlagUpdate, MessageEntry, MessageMeta,
    MessageSummary, NewMessage, TextField,
};
use crate::queue::{AttemptResult, OutboundMessage, QueueId, QueuedMessage};
use crate::recovery::{
    PurgeReport, QuotaWarning, RecoverableMessage, RecoveryFilter, Restored, StrayFiles,
};
use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::broadcast;

/// Domains, accounts and aliases.
#[async_trait]
pub trait Directory: Send + Sync {
    async fn add_domain(&self, name: &str) -> Result<Domain>;
    async fn list_domains(&self) -> Result<Vec<Domain>>;
    /// One domain by name (case and a trailing dot don't matter); None if it is not ours or
    /// not a domain name at all. What every RCPT asks, without loading every domain's key.
    async fn domain(&self, name: &str) -> Result<Option<Domain>>;
    async fn update_domain(&self, name: &str, update: DomainUpdate) -> Result<Domain>;
    /// Refused while the domain still has accounts.
    async fn remove_domain(&self, name: &str) -> Result<()>;

    /// Creates the account with its default mailboxes (INBOX, Sent, Drafts, Trash, Junk,
    /// Archive). The domain must exist.
    async fn create_account(&self, new: NewAccount) -> Result<Account>;
    async fn account(&self, id: AccountId) -> Result<Account>;
    async fn account_by_address(&self, address: &str) -> Result<Option<Account>>;
    async fn list_accounts(&self) -> Result<Vec<Account>>;
    async fn update_account(&self, id: AccountId, update: AccountUpdate) -> Result<Account>;
    /// Removes the account, its mailboxes, messages and recovery area.
    async fn remove_account(&self, id: AccountId) -> Result<()>;

    async fn add_alias(&self, alias: &str, account: AccountId) -> Result<()>;
    async fn remove_alias(&self, alias: &str) -> Result<()>;
    async fn list_aliases(&self) -> Result<Vec<Alias>>;
    /// The account an address delivers to: an account address or an alias.
    async fn resolve_recipient(&self, address: &str) -> Result<Option<AccountId>>;

    /// Adds a named app password (its secret's hash); AlreadyExists if the account has one by
    /// that name.
    async fn add_app_password(
        &self,
        account: AccountId,
        name: &str,
        secret_hash: &str,
    ) -> Result<AppPassword>;
    async fn app_passwords(&self, account: AccountId) -> Result<Vec<AppPassword>>;
    /// Revokes an app password at once; NotFound if there is none by that name.
    async fn remove_app_password(&self, account: AccountId, name: &str) -> Result<()>;

    /// Keeps a login lockout (replacing one with the same key) so it outlives a restart.
    async fn save_lockout(&self, lockout: Lockout) -> Result<()>;
    /// The lockouts still in force at `now` (Unix seconds); expired ones are dropped.
    async fn active_lockouts(&self, now: i64) -> Result<Vec<Lockout>>;

    /// Adds an API token; AlreadyExists if one has that name.
    async fn add_api_token(&self, token: ApiToken) -> Result<()>;
    async fn api_tokens(&self) -> Result<Vec<ApiToken>>;
    /// The token whose secret hashes to `secret_hash`, if any.
    async fn api_token_by_hash(&self, secret_hash: &str) -> Result<Option<ApiToken>>;
    /// Revokes a token at once; NotFound if there is none by that name.
    async fn remove_api_token(&self, name: &str) -> Result<()>;
}

/// An account's folders.
#[async_trait]
pub trait Mailboxes: Send + Sync {
    async fn list_mailboxes(&self, account: AccountId) -> Result<Vec<Mailbox>>;
    async fn mailbox(&self, account: AccountId, name: &MailboxName) -> Result<Option<Mailbox>>;
    async fn mailbox_by_id(&self, account: AccountId, id: MailboxId) -> Result<Mailbox>;
    /// Creates the mailbox and any missing parents.
    async fn create_mailbox(
        &self,
        account: AccountId,
        name: &MailboxName,
        special_use: Option<SpecialUse>,
    ) -> Result<Mailbox>;
    /// Renames the mailbox and its children, keeping ids, UIDVALIDITY and UIDs. Renaming INBOX
    /// moves its messages to the new name and leaves an empty INBOX (RFC 9051 §6.3.6).
    async fn rename_mailbox(
        &self,
        account: AccountId,
        from: &MailboxName,
        to: &MailboxName,
    ) -> Result<()>;
    /// Deletes the mailbox; its messages go to the recovery area. Refused for INBOX.
    async fn delete_mailbox(&self, account: AccountId, name: &MailboxName) -> Result<()>;
    /// Subscriptions are kept by name and may name mailboxes that don't exist (RFC 9051 §6.3.7).
    async fn set_subscribed(
        &self,
        account: AccountId,
        name: &MailboxName,
        subscribed: bool,
    ) -> Result<()>;
    async fn subscriptions(&self, account: AccountId) -> Result<Vec<MailboxName>>;
    async fn mailbox_status(&self, mailbox: MailboxId) -> Result<MailboxStatus>;
    /// IMAP4rev1 \Recent (RFC 3501 §2.3.2): marks every message up to UID `up_to` as told of
    /// and returns the UID it was told of up to before. The caller's session sees the messages
    /// above that (up to `up_to`) as recent; no other session will. Atomic across sessions.
    async fn claim_recent(&self, mailbox: MailboxId, up_to: u32) -> Result<u32>;
}

/// Messages inside mailboxes.
#[async_trait]
pub trait Messages: Send + Sync {
    /// Appends one message; durable when it returns.
    async fn append(&self, mailbox: MailboxId, message: NewMessage) -> Result<Appended>;
    /// Appends several messages atomically in one commit (MULTIAPPEND, import).
    async fn append_batch(
        &self,
        mailbox: MailboxId,
        messages: Vec<NewMessage>,
    ) -> Result<Vec<Appended>>;
    /// Delivers one message to the INBOX of each recipient: one blob, one commit, and an
    /// outcome per recipient (one over quota doesn't stop the others).
    async fn deliver(&self, delivery: Delivery) -> Result<Vec<DeliveryOutcome>>;

    /// UID, MODSEQ and flags of every message, ascending by UID.
    async fn message_list(&self, mailbox: MailboxId) -> Result<Vec<MessageSummary>>;
    /// UID, size, blob and kept POP3 UIDL of every message, ascending by UID.
    async fn message_entries(&self, mailbox: MailboxId) -> Result<Vec<MessageEntry>>;
    /// Full metadata and parsed facts for the given UIDs (missing UIDs are skipped).
    async fn message_meta(&self, mailbox: MailboxId, uids: &[u32]) -> Result<Vec<MessageMeta>>;
    /// The bytes of a message, exactly as received. `Bytes`, so that sections, partial
    /// fetches and copies are slices of one buffer, not copies of it.
    async fn read_blob(&self, blob: &BlobHash) -> Result<Bytes>;
    /// Several messages' bytes in one go (FETCH of many bodies), in the order asked.
    async fn read_blobs(&self, blobs: &[BlobHash]) -> Result<Vec<Bytes>> {
        let mut out = Vec::with_capacity(blobs.len());
        for blob in blobs {
            out.push(self.read_blob(blob).await?);
        }
        Ok(out)
    }

    /// Changes flags; with `unchanged_since`, messages modified after it are left alone and
    /// reported (CONDSTORE).
    async fn store_flags(
        &self,
        mailbox: MailboxId,
        uids: &[u32],
        op: FlagOp,
        unchanged_since: Option<u64>,
    ) -> Result<FlagUpdate>;
    async fn copy_messages(
        &self,
        from: MailboxId,
        uids: &[u32],
        to: MailboxId,
    ) -> Result<Vec<CopiedUid>>;
    /// Moves messages atomically (RFC 6851); not a deletion, nothing enters the recovery area.
    async fn move_messages(
        &self,
        from: MailboxId,
        uids: &[u32],
        to: MailboxId,
    ) -> Result<Vec<CopiedUid>>;
    /// Removes messages into the recovery area; returns the UIDs actually expunged.
    async fn expunge(&self, mailbox: MailboxId, uids: &[u32]) -> Result<Vec<u32>>;

    /// UIDs of the messages whose decoded text contains `needle`, case-insensitively (IMAP
    /// SEARCH BODY/TEXT semantics), ascending. Answered from the full-text index.
    async fn search_text(
        &self,
        mailbox: MailboxId,
        field: TextField,
        needle: &str,
    ) -> Result<Vec<u32>>;

    /// Every change after `modseq`, ascending by MODSEQ (CONDSTORE/QRESYNC, catching up).
    async fn changes_since(&self, mailbox: MailboxId, modseq: u64) -> Result<Vec<Change>>;

    fn subscribe_mailbox(&self, mailbox: MailboxId) -> broadcast::Receiver<MailboxEvent>;
    fn subscribe_account(&self, account: AccountId) -> broadcast::Receiver<MailboxEvent>;
}

/// The account's area of deleted mail.
#[async_trait]
pub trait Recovery: Send + Sync {
    async fn list_recoverable(
        &self,
        account: AccountId,
        filter: RecoveryFilter,
    ) -> Result<Vec<RecoverableMessage>>;
    /// Puts messages back into their original folder (recreated if gone) with a fresh UID and
    /// their original flags and internal date.
    async fn restore(&self, account: AccountId, ids: &[RecoveryId]) -> Result<Vec<Restored>>;
    /// Restores into a folder the user chose instead of the original one (COPY or MOVE out of
    /// the "Recently Deleted" folder). The target must belong to the account.
    async fn restore_into(
        &self,
        account: AccountId,
        ids: &[RecoveryId],
        target: MailboxId,
    ) -> Result<Vec<Restored>>;
    /// Metadata and facts of recoverable messages, for showing them read-only (FETCH in
    /// "Recently Deleted"): `uid` is the recovery id, `saved_at` when it was deleted.
    async fn recoverable_meta(
        &self,
        account: AccountId,
        ids: &[RecoveryId],
    ) -> Result<Vec<MessageMeta>>;
    /// Removes for good what was deleted before `deleted_before` (Unix time) — or, in a domain
    /// with its own `recovery_days`, before that many days ago — then every blob nothing
    /// references any more.
    async fn purge_recovery(&self, deleted_before: i64) -> Result<PurgeReport>;
}

/// Housekeeping an administrator or a test needs.
#[async_trait]
pub trait Maintenance: Send + Sync {
    /// Problems found in the store (empty when healthy): database integrity, usage counters that
    /// don't match the messages, referenced blobs that are missing or wrong.
    async fn check_integrity(&self) -> Result<Vec<String>>;
    /// Recounts an account's usage (bytes, messages) from its messages and stores it; returns
    /// (before, after). For `mailroom quota recalc`, after a restore or a suspected drift.
    async fn recalculate_usage(&self, account: AccountId) -> Result<((u64, u64), (u64, u64))>;
    /// Empties the folders with this special use (Trash, Junk) of messages put there before
    /// `saved_before` (Unix time), in every account. They go to the recovery area like any
    /// deletion. Returns how many.
    async fn expire_special_use(&self, special_use: SpecialUse, saved_before: i64) -> Result<u64>;
    /// Quota warnings waiting to be delivered: queued when an account's usage crosses 80 % or
    /// 95 % of its quota upward (once per crossing).
    async fn pending_quota_warnings(&self) -> Result<Vec<QuotaWarning>>;
    /// Marks a warning delivered.
    async fn quota_warning_sent(&self, id: i64) -> Result<()>;
    /// Files beside the database that nothing refers to and that are older than `min_age`:
    /// message files written by a delivery that crashed before its commit, temporary files
    /// of interrupted writes. With `remove` they are deleted; a delivery that found such a
    /// file for its own identical content writes it again. Younger files may belong to a
    /// write in progress and are left alone.
    async fn stray_files(&self, min_age: std::time::Duration, remove: bool) -> Result<StrayFiles>;
}

/// Named, expiring locks shared by every node (the POP3 maildrop lock, RFC 1939 §8).
#[async_trait]
pub trait Leases: Send + Sync {
    /// Takes the lease `name` for `holder` for `ttl_seconds`, or renews it if `holder` has it.
    /// False if someone else holds an unexpired lease.
    async fn acquire_lease(&self, name: &str, holder: &str, ttl_seconds: i64) -> Result<bool>;
    /// Gives the lease up if `holder` has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;
}

/// Mail waiting to go to other servers (the outbound SMTP queue), shared by every node.
#[async_trait]
pub trait OutboundQueue: Send + Sync {
    /// Queues a message; durable when it returns, every recipient pending and due now.
    async fn enqueue(&self, message: OutboundMessage) -> Result<QueueId>;
    /// Messages with a pending recipient due at or before `now`, oldest first.
    async fn due_messages(&self, now: i64, limit: usize) -> Result<Vec<QueuedMessage>>;
    /// Everything still queued, oldest first.
    async fn queued_messages(&self) -> Result<Vec<QueuedMessage>>;
    async fn queued_message(&self, id: QueueId) -> Result<Option<QueuedMessage>>;
    /// Records an attempt's outcome for the listed recipients (their attempt count grows by
    /// one). A message with no pending recipient left leaves the queue.
    async fn record_attempt(&self, id: QueueId, results: Vec<AttemptResult>) -> Result<()>;
    /// Makes the pending recipients of one message (or of all, with None) due at `now`;
    /// returns how many messages that touched.
    async fn retry_now(&self, id: Option<QueueId>, now: i64) -> Result<u64>;
    /// Drops a message from the queue without telling anyone (an administrator's decision).
    async fn remove_queued(&self, id: QueueId) -> Result<()>;
}

/// A complete backend.
pub trait Store:
    Directory + Mailboxes + Messages + Recovery + Maintenance + Leases + OutboundQueue
{
}

impl<T: Directory + Mailboxes + Messages + Recovery + Maintenance + Leases + OutboundQueue> Store
    for T
{
}
