//! Authentication: argon2id password hashes, app passwords, SCRAM keys, throttling of
//! failures, and the check protocols run at login.

pub mod app_password;
mod cache;
mod password;
mod prep;
pub mod sasl;
pub mod scram;
mod scram_login;
pub mod throttle;

pub use password::{hash_password, verify_password};
pub use scram::{ScramCredentials, scram_credentials};
pub use scram_login::ScramExchange;
pub use throttle::{ThrottleConfig, Verdict};

use cache::AuthCache;
use mailroom_store::{Account, Clock, Directory, Protocols, StoreError, SystemClock};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use thiserror::Error;
use throttle::Throttle;

#[derive(Debug, Error)]
pub enum AuthError {
    /// Unknown user, wrong password and a throttled (locked-out) client all look the same to
    /// the client (no user enumeration). The protocol waits `delay` before answering.
    #[error("invalid credentials")]
    InvalidCredentials { delay: Duration },
    #[error("the account is disabled")]
    Disabled,
    #[error("this protocol is not enabled for the account")]
    ProtocolDisabled,
    /// A malformed first SASL message (before any credential was checked).
    #[error(transparent)]
    Sasl(scram::ScramError),
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// A new password with characters SASLprep (RFC 4013) prohibits.
    #[error("the password can't be used: {0}")]
    UnusablePassword(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthError {
    /// How long the protocol waits before answering this failure.
    pub fn delay(&self) -> Duration {
        match self {
            AuthError::InvalidCredentials { delay } => *delay,
            _ => Duration::ZERO,
        }
    }
}

/// Checks credentials against the store's accounts.
#[derive(Clone)]
pub struct Authenticator {
    directory: Arc<dyn Directory>,
    cache: Arc<AuthCache>,
    throttle: Arc<Throttle>,
    /// Derives SCRAM's fake salts for unknown names; random per process unless configured.
    secret: Arc<[u8; 32]>,
    verifications: Arc<AtomicU64>,
}

impl Authenticator {
    /// With the default throttle on the system clock.
    pub fn new(directory: Arc<dyn Directory>) -> Self {
        Authenticator {
            directory,
            cache: Arc::new(AuthCache::new()),
            throttle: Arc::new(Throttle::new(
                ThrottleConfig::default(),
                Arc::new(SystemClock),
            )),
            secret: Arc::new(random_secret()),
            verifications: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A persistent server secret: keeps SCRAM's fake salts for unknown names the same across
    /// restarts, as real salts are (a salt that changes at each restart would tell an observer
    /// the name doesn't exist).
    pub fn with_secret(mut self, secret: &[u8]) -> Self {
        self.secret = Arc::new(scram::hmac(b"mailroom scram secret", &[secret]));
        self
    }

    /// Replaces the throttle (operator settings; a `ManualClock` in tests).
    pub fn with_throttle(mut self, config: ThrottleConfig, clock: Arc<dyn Clock>) -> Self {
        self.throttle = Arc::new(Throttle::new(config, clock));
        self
    }

    /// argon2 verifications run so far (the cache's hits don't count).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Verifies `address`/`password` for `protocol`, from `peer`. Users log in with their full
    /// address. The argon2 work runs on the blocking pool; an unknown address is verified
    /// against a dummy hash so it takes as long as a wrong password. A throttled peer is
    /// refused without any check, with the same error as a wrong password.
    pub async fn authenticate(
        &self,
        address: &str,
        password: &str,
        protocol: Protocols,
        peer: IpAddr,
    ) -> Result<Account, AuthError> {
        if let Verdict::Refuse { delay } = self.throttle.check(peer, address) {
            return Err(AuthError::InvalidCredentials { delay });
        }
        match self.verify(address, password, true).await? {
            Some(account) => {
                // Only a login that goes through clears the address's failures: the right
                // password for a disabled account, or one without this protocol, is still
                // refused and must not reset the count for whoever is guessing from there.
                let account = check_state(account, protocol)?;
                self.throttle.success(peer, address);
                Ok(account)
            }
            None => Err(self.failed(peer, address).await),
        }
    }

    /// Signing in to the web pages (self-service, the web admin): the account's own password
    /// only, never an app password (a device's secret must not be able to change the
    /// password or make more of them), throttled like every other login; any enabled
    /// account may, whatever protocols it has.
    pub async fn authenticate_web(
        &self,
        address: &str,
        password: &str,
        peer: IpAddr,
    ) -> Result<Account, AuthError> {
        if let Verdict::Refuse { delay } = self.throttle.check(peer, address) {
            return Err(AuthError::InvalidCredentials { delay });
        }
        match self.verify(address, password, false).await? {
            Some(account) if !account.enabled => Err(AuthError::Disabled),
            Some(account) => {
                self.throttle.success(peer, address);
                Ok(account)
            }
            None => Err(self.failed(peer, address).await),
        }
    }

    /// Counts a failure and returns the error to answer with; a lockout it causes is saved
    /// in the store so a restart does not lift it.
    async fn failed(&self, peer: IpAddr, address: &str) -> AuthError {
        let delay = self.throttle.failure(peer, address);
        for lockout in self.throttle.take_new_lockouts() {
            if let Err(e) = self.directory.save_lockout(lockout).await {
                tracing::warn!("a login lockout was not saved (it holds until a restart): {e}");
            }
        }
        AuthError::InvalidCredentials { delay }
    }

    /// Puts back the lockouts saved before a restart (at server start). Returns how many.
    pub async fn restore_lockouts(&self, now: i64) -> Result<usize, StoreError> {
        let saved = self.directory.active_lockouts(now).await?;
        Ok(self.throttle.restore(&saved))
    }

    /// Whether `peer` is a proxy or webmail server in front (`[auth] trusted_networks`): it
    /// may name the client it speaks for (IMAP ID, SMTP XCLIENT), and its own address is not
    /// locked out.
    pub fn is_trusted(&self, peer: IpAddr) -> bool {
        self.throttle.is_trusted(peer)
    }

    /// The account if `password` is its password (or, with `app_passwords`, one of its app
    /// passwords); `None` for a wrong password or an unknown address.
    async fn verify(
        &self,
        address: &str,
        password: &str,
        app_passwords: bool,
    ) -> Result<Option<Account>, AuthError> {
        let account = self.directory.account_by_address(address).await?;
        if let Some(a) = &account
            && app_passwords
        {
            // App passwords first: one SHA-256 and a query, read fresh each time so a revoked
            // one stops working at once.
            let apps = self.directory.app_passwords(a.id).await?;
            if app_password::matches(password, apps.iter().map(|p| p.secret_hash.as_str())) {
                return Ok(account);
            }
        }
        if let Some(a) = &account
            && self.cache.check(a.id, &a.password_hash, password)
        {
            return Ok(account);
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
                Ok(Some(a))
            }
            _ => Ok(None),
        }
    }
}

/// The right password still needs an enabled account with the protocol allowed.
pub(crate) fn check_state(account: Account, protocol: Protocols) -> Result<Account, AuthError> {
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

fn random_secret() -> [u8; 32] {
    let mut secret = [0u8; 32];
    // Without the OS's randomness the fake salts are still per-name; only stable across
    // servers, which reveals no more than an unset secret.
    let _ = getrandom::getrandom(&mut secret);
    secret
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a real password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_store::{AccountUpdate, NewAccount};
    use mailroom_store_sqlite::SqliteStore;

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

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
            .authenticate("ANN@example.test", "s3cret", Protocols::IMAP, PEER)
            .await;
        assert_eq!(ok.unwrap().id, ann.id);
        let wrong = auth
            .authenticate("ann@example.test", "nope", Protocols::IMAP, PEER)
            .await;
        assert!(matches!(wrong, Err(AuthError::InvalidCredentials { .. })));
        let unknown = auth
            .authenticate("who@example.test", "s3cret", Protocols::IMAP, PEER)
            .await;
        assert!(matches!(unknown, Err(AuthError::InvalidCredentials { .. })));
        let pop = auth
            .authenticate("ann@example.test", "s3cret", Protocols::POP3, PEER)
            .await;
        assert!(matches!(pop, Err(AuthError::ProtocolDisabled)));
        let update = AccountUpdate {
            enabled: Some(false),
            ..Default::default()
        };
        store.update_account(ann.id, update).await.unwrap();
        let disabled = auth
            .authenticate("ann@example.test", "s3cret", Protocols::IMAP, PEER)
            .await;
        assert!(matches!(disabled, Err(AuthError::Disabled)));
    }

    #[tokio::test]
    async fn a_refused_right_password_keeps_the_address_failures() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        store.add_domain("example.test").await.unwrap();
        let mut new = NewAccount::new("ann@example.test", hash_password("s3cret").unwrap());
        new.protocols = Protocols::IMAP;
        let ann = store.create_account(new).await.unwrap();
        let config = ThrottleConfig {
            free_failures: 0,
            ..Default::default()
        };
        let clock = Arc::new(mailroom_store::ManualClock::new(1_000_000));
        let auth = Authenticator::new(store.clone()).with_throttle(config, clock);
        let wrong = |auth: &Authenticator| {
            let auth = auth.clone();
            async move {
                auth.authenticate("ann@example.test", "nope", Protocols::IMAP, PEER)
                    .await
                    .unwrap_err()
                    .delay()
                    .as_secs()
            }
        };

        assert_eq!(wrong(&auth).await, 1);
        let pop = auth
            .authenticate("ann@example.test", "s3cret", Protocols::POP3, PEER)
            .await;
        assert!(matches!(pop, Err(AuthError::ProtocolDisabled)));
        assert_eq!(wrong(&auth).await, 2, "not cleared by a protocol refusal");
        let update = AccountUpdate {
            enabled: Some(false),
            ..Default::default()
        };
        store.update_account(ann.id, update).await.unwrap();
        let disabled = auth
            .authenticate("ann@example.test", "s3cret", Protocols::IMAP, PEER)
            .await;
        assert!(matches!(disabled, Err(AuthError::Disabled)));
        assert_eq!(wrong(&auth).await, 4, "not cleared by a disabled account");
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
            auth.authenticate("bea@example.test", "one", Protocols::IMAP, PEER)
                .await
                .unwrap();
        }
        assert_eq!(auth.verifications(), 1, "one argon2 run, then cache hits");
        for _ in 0..2 {
            let wrong = auth
                .authenticate("bea@example.test", "two", Protocols::IMAP, PEER)
                .await;
            assert!(matches!(wrong, Err(AuthError::InvalidCredentials { .. })));
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
            .authenticate("bea@example.test", "one", Protocols::IMAP, PEER)
            .await;
        assert!(
            matches!(old, Err(AuthError::InvalidCredentials { .. })),
            "the old password stops working at once"
        );
        auth.authenticate("bea@example.test", "two", Protocols::IMAP, PEER)
            .await
            .unwrap();
        let disabled = AccountUpdate {
            enabled: Some(false),
            ..Default::default()
        };
        store.update_account(bea.id, disabled).await.unwrap();
        let refused = auth
            .authenticate("bea@example.test", "two", Protocols::IMAP, PEER)
            .await;
        assert!(
            matches!(refused, Err(AuthError::Disabled)),
            "a cached password can't open a disabled account"
        );
    }
}
