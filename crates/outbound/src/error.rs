//! Errors of the queue runner, grouped by who is at fault.

use mailroom_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OutboundError {
    /// The configuration is wrong (an unreadable `relay` setting).
    #[error("invalid outbound configuration: {0}")]
    Config(String),
    /// The store failed; the queue is unchanged and the run can be repeated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bounce could not be built.
    #[error(transparent)]
    Dsn(#[from] crate::dsn::DsnError),
}

pub type Result<T, E = OutboundError> = std::result::Result<T, E>;
