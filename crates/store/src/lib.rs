//! The storage API of Mailroom: domain types and the traits every backend implements.
//!
//! Protocol crates (IMAP, POP3, SMTP) depend on this crate only, never on a concrete backend, so
//! the embedded SQLite store and the PostgreSQL store are interchangeable at start-up. The
//! conformance suite in `mailroom-store-tests` holds every backend to the same invariants.

pub mod account;
mod api;
mod blob;
mod changes;
mod clock;
mod crlf;
mod dsn;
mod error;
pub mod facts;
mod flags;
mod ids;
mod mailbox;
mod message;
mod queue;
mod recovery;

pub use account::{
    Account, AccountUpdate, Alias, ApiToken, AppPassword, DkimKey, Domain, DomainUpdate, Lockout,
    NewAccount, Pop3Policy, Protocols,
};
pub use api::{
    Directory, Leases, Mailboxes, Maintenance, Messages, OutboundQueue, Recovery, Store,
};
pub use blob::BlobHash;
pub use changes::{Change, ChangeBus, ChangeKind, MailboxEvent};
pub use clock::{Clock, ManualClock, SystemClock};
pub use crlf::normalize_crlf;
pub use dsn::{DsnNotify, DsnRet, OutboundRecipient};
pub use error::{Result, StoreError};
pub use flags::{FlagOp, Flags, SystemFlags};
pub use ids::{AccountId, DomainId, MailboxId, RecoveryId};
pub use mailbox::{DEFAULT_MAILBOXES, Mailbox, MailboxName, MailboxStatus, SpecialUse};
pub use message::{
    Appended, CopiedUid, Delivery, DeliveryOutcome, FlagUpdate, MailDate, MessageEntry,
    MessageMeta, MessageSummary, NewMessage, TextField, derived_pop3_uidl,
};
pub use queue::{
    AttemptResult, OutboundMessage, QueueId, QueuedMessage, QueuedRecipient, RecipientStatus,
};
pub use recovery::{
    PurgeReport, QuotaWarning, RecoverableMessage, RecoveryFilter, Restored, StrayFiles,
};
