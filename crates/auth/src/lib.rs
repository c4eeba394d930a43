//! Authentication: argon2id password hashes and the check protocols run at login.

mod cache;
mod password;
pub mod sasl;

pub use password::{hash_password, verify_password};

use cache::AuthCache;
use mailroom_store::{Account, Directory, Protocols, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
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
    cache: Arc<AuthCache>,
    verifications: Arc<AtomicU64>,
}

impl Authenticator {
    pub fn new(directory: Arc<dyn Directory>) -> Self {
        Authenticator {
            directory,
            cache: Arc::new(AuthCache::new()),
            verifications: Arc::new(AtomicU64::new(0)),
        }
    }

    /// argon2 verifications run so far (the cache's hits don't count).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
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
        if let Some(a) = &account
            && self.cache.check(a.id, &a.password_hash, password)
        {
            return check_state(a.clone(), protocol);
        }
        let hash = match &account {
            Some(a) => a.password_hash.clone(),
            None => dummy_hash().to_string(),
        };
        let secret = password.to_string();
        // argon2id takes ~19 MiB and a core per verification: running more at once than there
        // are cores only makes each slower, and every blocking thread's allocator would keep
        // its 19 MiB afterwards. Queue them instead.
        let _permit = HASHING
            .acquire()
            .await
            .map_err(|e| AuthError::Hash(e.to_string()))?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &secret))
            .await
            .map_err(|e| AuthError::Hash(e.to_string()))?;
        match account {
            Some(a) if ok => {
                self.cache.remember(a.id, &a.password_hash, password);
                check_state(a, protocol)
            }
            _ => Err(AuthError::InvalidCredentials),
        }
    }
}

/// The right password still needs an enabled account with the protocol allowed.
fn check_state(account: Account, protocol: Protocols) -> Result<Account, AuthError> {
    if !account.enabled {
        Err(AuthError::Disabled)
    } else if !account.protocols.contains(protocol) {
        Err(AuthError::ProtocolDisabled)
    } else {
        Ok(account)
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

    #[tokio::test]
    async fn repeated_logins_use_the_cache_until_the_password_changes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        store.add_domain("example.test").await.unwrap();
        let bea = store
            .create_account(NewAccount::new(
                "bea@example.test",
                hash_password("one").unwrap(),
            ))
            .await
            .unwrap();
        let auth = Authenticator::new(store.clone());
        for _ in 0..3 {
            auth.authenticate("bea@example.test", "one", Protocols::IMAP)
                .await
                .unwrap();
        }
        assert_eq!(auth.verifications(), 1, "one argon2 run, then cache hits");
        for _ in 0..2 {
            let wrong = auth
                .authenticate("bea@example.test", "two", Protocols::IMAP)
                .await;
            assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
        }
        assert_eq!(
            auth.verifications(),
            3,
            "wrong passwords are never served from the cache"
        );
        let update = AccountUpdate {
            password_hash: Some(hash_password("two").unwrap()),
            ..Default::default()
        };
        store.update_account(bea.id, update).await.unwrap();
        let old = auth
            .authenticate("bea@example.test", "one", Protocols::IMAP)
            .await;
        assert!(
            matches!(old, Err(AuthError::InvalidCredentials)),
            "the old password stops working at once"
        );
        auth.authenticate("bea@example.test", "two", Protocols::IMAP)
            .await
            .unwrap();
        let disabled = AccountUpdate {
            enabled: Some(false),
            ..Default::default()
        };
        store.update_account(bea.id, disabled).await.unwrap();
        let refused = auth
            .authenticate("bea@example.test", "two", Protocols::IMAP)
            .await;
        assert!(
            matches!(refused, Err(AuthError::Disabled)),
            "a cached password can't open a disabled account"
        );
    }
}
