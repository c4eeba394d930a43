use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A domain the server receives mail for.
    DomainId
);
id_type!(
    /// An account; never reused after removal.
    AccountId
);
id_type!(
    /// A mailbox's stable identity: it survives RENAME and is never reused, so it doubles as the
    /// IMAP OBJECTID MAILBOXID.
    MailboxId
);
id_type!(
    /// An entry of an account's recovery area (deleted mail kept for the retention period).
    RecoveryId
);
