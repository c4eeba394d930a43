//! Authentication: argon2id password hashes and the check protocols run at login.

mod password;
pub mod sasl;

pub use password::{hash_password, verify_password};

use mailroom_store::{Account, Directory, Protocols, StoreError};
use std::sync::{Arc, OnceLock};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AuthError {
    /// Unknown user and wrong password look the same to the client (no user enumeration).
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("the account is disabled")]
    Disabled,
    #[error("this protocol is not enabled for the account")]
    ProtocolDisabled,
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks credentials against the store's accounts.
#[derive(Clone)]
pub struct Authenticator {
    directory: Arc<dyn Directory>,
}

impl Authenticator {
    pub fn new(directory: Arc<dyn Directory>) -> Self {
        Authenticator { directory }
    }

    /// Verifies `address`/`password` for `protocol`. Users log in with their full address.
    /// The argon2 work runs on the blocking pool; an unknown address is verified against a
    /// dummy hash so it takes as long as a wrong password.
    pub async fn authenticate(
        &self,
        address: &str,
        password: &str,
        protocol: Protocols,
    ) -> Result<Account, AuthError> {
        let account = self.directory.account_by_address(address).await?;
        let hash = match &account {
            Some(a) => a.password_hash.clone(),
            None => dummy_hash().to_string(),
        };
        let password = password.to_string();
        // argon2id takes ~19 MiB and a core per verification: running more at once than there
        // are cores only makes each slower, and every blocking thread's allocator would keep
        // its 19 MiB afterwards. Queue them instead.
        let _permit = HASHING
            .acquire()
            .await
            .map_err(|e| AuthError::Hash(e.to_string()))?;
        let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
            .await
            .map_err(|e| AuthError::Hash(e.to_string()))?;
        match account {
            Some(a) if ok => {
                if !a.enabled {
                    Err(AuthError::Disabled)
                } else if !a.protocols.contains(protocol) {
                    Err(AuthError::ProtocolDisabled)
                } else {
                    Ok(a)
                }
            }
            _ => Err(AuthError::InvalidCredentials),
        }
    }
}

/// Verifications running at once (the machines this runs on have few cores).
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_store::{AccountUpdate, NewAccount};
    use mailroom_store_sqlite::SqliteStore;

    #[tokio::test]
    async fn login_checks_password_state_and_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        store.add_domain("example.test").await.unwrap();
        let hash = hash_password("s3cret").unwrap();
        let mut new = NewAccount::new("ann@example.test", hash);
        new.protocols = Protocols::IMAP;
        let ann = store.create_account(new).await.unwrap();
        let auth = Authenticator::new(store.clone());

        let ok = auth
            .authenticate("ANN@example.test", "s3cret", Protocols::IMAP)
            .await;
        assert_eq!(ok.unwrap().id, ann.id);
        let wrong = auth
            .authenticate("ann@example.test", "nope", Protocols::IMAP)
            .await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
        let unknown = auth
            .authenticate("who@example.test", "s3cret", Protocols::IMAP)
            .await;
        assert!(matches!(unknown, Err(AuthError::InvalidCredentials)));
        let pop = auth
            .authenticate("ann@example.test", "s3cret", Protocols::POP3)
            .await;
        assert!(matches!(pop, Err(AuthError::ProtocolDisabled)));
        let update = AccountUpdate {
            enabled: Some(false),
            ..Default::default()
        };
        store.update_account(ann.id, update).await.unwrap();
        let disabled = auth
            .authenticate("ann@example.test", "s3cret", Protocols::IMAP)
            .await;
        assert!(matches!(disabled, Err(AuthError::Disabled)));
    }
}
