//! The administrator's operations: domains, accounts, aliases, app passwords, API tokens,
//! deleted mail. Every front end (the CLI, the HTTP API, the web admin, the users' own
//! self-service pages) calls these, so each rule (what a new account gets, how a password is
//! stored, which DKIM key a domain signs with) lives in one place, over the storage API and
//! so over any backend.
//!
//! Errors name the object they are about ("no domain example.com"), in words fit for any of
//! those front ends; `AdminError::kind` tells an HTTP front end which status to answer with.

mod accounts;
pub mod dns_check;
mod domains;
mod endpoints;
mod error;
mod recovery;
mod settings;
mod tokens;

pub use accounts::NewAccountResult;
pub use endpoints::{ClientEndpoints, Endpoint, Security, endpoints};
pub use error::{AdminError, ErrorKind};
pub use settings::{
    AccountSettings, DomainSettings, parse_count_limit, parse_date, parse_size_limit,
};
pub use tokens::TOKEN_PREFIX;

use mailroom_store::Store;
use std::sync::Arc;

pub type Result<T, E = AdminError> = std::result::Result<T, E>;

/// The operations, over one store.
#[derive(Clone)]
pub struct Admin {
    store: Arc<dyn Store>,
}

impl Admin {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Admin { store }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// A random secret of `len` characters from an unambiguous alphabet (no 0/O, 1/l/I): about
/// 5.8 bits each, 116 bits for the 20 of a generated password.
pub(crate) fn random_text(len: usize) -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut random = vec![0u8; len];
    getrandom::getrandom(&mut random)
        .map_err(|e| AdminError::Internal(format!("no random numbers: {e}")))?;
    Ok(random
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}
