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
    /// The disk (or the filesystem quota of the server's user) has no room left; nothing was
    /// written. Protocols say so ("insufficient system storage") rather than a generic
    /// failure, so the sender retries and the administrator sees why.
    #[error("not enough disk space on the server")]
    StorageFull,
    #[error("i/o error: {0}")]
    Io(std::io::Error),
    #[error("database error: {0}")]
    Database(String),
    #[error("corrupt record: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        if is_storage_full(&e) {
            StoreError::StorageFull
        } else {
            StoreError::Io(e)
        }
    }
}

/// ENOSPC, or EDQUOT (the server's own user over its filesystem quota).
pub fn is_storage_full(e: &std::io::Error) -> bool {
    const ENOSPC: i32 = 28;
    const EDQUOT: i32 = 122;
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || (cfg!(target_os = "linux") && matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_named_as_such() {
        let enospc = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(matches!(StoreError::from(enospc), StoreError::StorageFull));
        let other = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(matches!(StoreError::from(other), StoreError::Io(_)));
        assert!(!StoreError::StorageFull.is_client_error());
    }
}
