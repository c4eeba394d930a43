use thiserror::Error;

/// Everything a storage operation can fail with, grouped by who is at fault so that protocol
/// code can map each group to its own answer (IMAP NO/BAD, POP3 -ERR, SMTP 4xx/5xx).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    // The caller asked for something that does not exist or is not allowed.
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("{0}")]
    NotAllowed(&'static str),
    #[error("over quota")]
    OverQuota,
    #[error("message too large")]
    TooLarge,

    // The store itself failed: a disk, a database, a corrupt record.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("database error: {0}")]
    Database(String),
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
}

impl StoreError {
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            what,
            reason: reason.into(),
        }
    }

    /// True when the request itself was wrong, false when the server failed; protocols answer
    /// the first with a permanent refusal and the second with a temporary one.
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            StoreError::NotFound(_)
                | StoreError::AlreadyExists(_)
                | StoreError::Invalid { .. }
                | StoreError::NotAllowed(_)
                | StoreError::OverQuota
                | StoreError::TooLarge
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
