use mailroom_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AdminError {
    #[error("no domain {0}")]
    NoDomain(String),
    #[error("no domain {0}: add the domain first")]
    DomainNeeded(String),
    #[error("domain {0} already exists")]
    DomainExists(String),
    #[error("domain {0} still has accounts; remove them first")]
    DomainInUse(String),
    #[error("no account {0}")]
    NoAccount(String),
    #[error("{0} is already an account or an alias")]
    AddressTaken(String),
    #[error("no alias {0}")]
    NoAlias(String),
    #[error("no app password {name:?} of {address}")]
    NoAppPassword { address: String, name: String },
    #[error("{address} already has an app password {name:?}")]
    AppPasswordExists { address: String, name: String },
    #[error("no API token {0:?}")]
    NoToken(String),
    #[error("an API token {0:?} already exists")]
    TokenExists(String),
    /// A value the caller gave that can't be used, with what would do.
    #[error("invalid {what} {value:?}: {hint}")]
    Invalid {
        what: &'static str,
        value: String,
        hint: String,
    },
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Store(StoreError),
}

/// What kind of failure, for front ends that answer with a status (HTTP 404, 409, 400, 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    Conflict,
    Invalid,
    /// The server failed (disk, database): worth a retry later.
    Server,
}

impl AdminError {
    pub fn invalid(what: &'static str, value: impl Into<String>, hint: impl Into<String>) -> Self {
        AdminError::Invalid {
            what,
            value: value.into(),
            hint: hint.into(),
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            AdminError::NoDomain(_)
            | AdminError::NoAccount(_)
            | AdminError::NoAlias(_)
            | AdminError::NoAppPassword { .. }
            | AdminError::NoToken(_) => ErrorKind::NotFound,
            AdminError::DomainExists(_)
            | AdminError::DomainInUse(_)
            | AdminError::AddressTaken(_)
            | AdminError::AppPasswordExists { .. }
            | AdminError::TokenExists(_) => ErrorKind::Conflict,
            AdminError::DomainNeeded(_) | AdminError::Invalid { .. } => ErrorKind::Invalid,
            AdminError::Store(e) if e.is_client_error() => match e {
                StoreError::NotFound(_) => ErrorKind::NotFound,
                StoreError::AlreadyExists(_) | StoreError::NotAllowed(_) => ErrorKind::Conflict,
                _ => ErrorKind::Invalid,
            },
            AdminError::Store(_) | AdminError::Internal(_) => ErrorKind::Server,
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError::Store(e)
    }
}

impl From<mailroom_auth::AuthError> for AdminError {
    fn from(e: mailroom_auth::AuthError) -> Self {
        AdminError::Internal(format!("hashing the password: {e}"))
    }
}
