//! The Authenticator against a real store: app passwords, SCRAM, throttling.

use mailroom_auth::{
    AuthError, Authenticator, ThrottleConfig, app_password, hash_password, scram, scram_credentials,
};
use mailroom_store::{Account, AccountUpdate, Directory, ManualClock, NewAccount, Protocols};
use mailroom_store_sqlite::SqliteStore;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

const USER_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));
const ATTACKER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

struct Fixture {
    store: Arc<SqliteStore>,
    auth: Authenticator,
    clock: Arc<ManualClock>,
    ann: Account,
    _dir: tempfile::TempDir,
}

async fn fixture(config: ThrottleConfig, scram_keys: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    store.add_domain("example.test").await.unwrap();
    let mut new = NewAccount::new("ann@example.test", hash_password("s3cret").unwrap());
    if scram_keys {
        new.scram_sha256 = Some(scram_credentials("s3cret").unwrap());
    }
    let ann = store.create_account(new).await.unwrap();
    let clock = Arc::new(ManualClock::new(1_000_000));
    let auth = Authenticator::new(store.clone()).with_throttle(config, clock.clone());
    Fixture {
        store,
        auth,
        clock,
        ann,
        _dir: dir,
    }
}

/// A whole SCRAM exchange as a client would run it; the server-final on success.
async fn scram_login(
    auth: &Authenticator,
    user: &str,
    password: &str,
    peer: IpAddr,
) -> Result<String, AuthError> {
    let bare = format!("n={user},r=clientnonce123");
    let (exchange, server_first) = auth
        .scram_start(format!("n,,{bare}").as_bytes(), peer)
        .await?;
    let (client_final, expected) =
        scram::client_final(password, "n,,", &bare, &server_first).unwrap();
    let (_, server_final) = auth
        .scram_finish(exchange, client_final.as_bytes(), Protocols::IMAP, peer)
        .await?;
    assert_eq!(
        server_final, expected,
        "the server proves it knows the keys"
    );
    Ok(server_final)
}

#[tokio::test]
async fn app_passwords_log_in_until_revoked() {
    let f = fixture(ThrottleConfig::default(), false).await;
    let (secret, stored) = app_password::generate().unwrap();
    f.store
        .add_app_password(f.ann.id, "phone", &stored)
        .await
        .unwrap();
    let ok = f
        .auth
        .authenticate("ann@example.test", &secret, Protocols::IMAP, USER_IP)
        .await
        .unwrap();
    assert_eq!(ok.id, f.ann.id);
    assert_eq!(f.auth.verifications(), 0, "no argon2 for an app password");
    f.auth
        .authenticate("ann@example.test", "s3cret", Protocols::IMAP, USER_IP)
        .await
        .expect("the account password still works");
    f.store
        .remove_app_password(f.ann.id, "phone")
        .await
        .unwrap();
    let revoked = f
        .auth
        .authenticate("ann@example.test", &secret, Protocols::IMAP, USER_IP)
        .await;
    assert!(matches!(revoked, Err(AuthError::InvalidCredentials { .. })));
}

#[tokio::test]
async fn scram_logs_in_with_the_stored_keys() {
    let f = fixture(ThrottleConfig::default(), true).await;
    scram_login(&f.auth, "ann@example.test", "s3cret", USER_IP)
        .await
        .unwrap();
    let wrong = scram_login(&f.auth, "ann@example.test", "nope", USER_IP).await;
    assert!(matches!(wrong, Err(AuthError::InvalidCredentials { .. })));
    let malformed = f
        .auth
        .scram_start(b"p=tls-unique,,n=ann,r=x", USER_IP)
        .await;
    assert!(matches!(malformed, Err(AuthError::Sasl(_))));
}

#[tokio::test]
async fn scram_unknown_users_and_accounts_without_keys_fail_like_a_wrong_password() {
    let f = fixture(ThrottleConfig::default(), false).await;
    let no_keys = scram_login(&f.auth, "ann@example.test", "s3cret", USER_IP).await;
    assert!(matches!(no_keys, Err(AuthError::InvalidCredentials { .. })));
    let unknown = scram_login(&f.auth, "who@example.test", "s3cret", USER_IP).await;
    assert!(matches!(unknown, Err(AuthError::InvalidCredentials { .. })));
    // The fake salt is stable, as a real one is.
    let salt = |server_first: String| server_first.split(',').nth(1).unwrap().to_string();
    let mut salts = Vec::new();
    for _ in 0..2 {
        let (_, first) = f
            .auth
            .scram_start(b"n,,n=who@example.test,r=abc", USER_IP)
            .await
            .unwrap();
        assert!(first.ends_with(",i=4096"), "{first}");
        salts.push(salt(first));
    }
    assert_eq!(salts[0], salts[1]);
}

#[tokio::test]
async fn a_locked_out_address_fails_even_with_the_right_password_while_others_log_in() {
    let config = ThrottleConfig {
        ip_lockout_failures: 4,
        ..Default::default()
    };
    let f = fixture(config, true).await;
    let mut delays = Vec::new();
    for _ in 0..4 {
        let e = f
            .auth
            .authenticate("ann@example.test", "guess", Protocols::IMAP, ATTACKER)
            .await
            .unwrap_err();
        delays.push(e.delay().as_secs());
    }
    assert_eq!(delays, [0, 0, 1, 2]);
    let before = f.auth.verifications();
    let locked = f
        .auth
        .authenticate("ann@example.test", "s3cret", Protocols::IMAP, ATTACKER)
        .await;
    assert!(matches!(
        locked,
        Err(AuthError::InvalidCredentials { delay }) if delay == Duration::from_secs(8)
    ));
    assert_eq!(
        f.auth.verifications(),
        before,
        "no argon2 run when locked out"
    );
    let scram = scram_login(&f.auth, "ann@example.test", "s3cret", ATTACKER).await;
    assert!(matches!(scram, Err(AuthError::InvalidCredentials { .. })));
    f.auth
        .authenticate("ann@example.test", "s3cret", Protocols::IMAP, USER_IP)
        .await
        .expect("the user's own address is unaffected");
    scram_login(&f.auth, "ann@example.test", "s3cret", USER_IP)
        .await
        .unwrap();
    f.clock.advance(15 * 60);
    f.auth
        .authenticate("ann@example.test", "s3cret", Protocols::IMAP, ATTACKER)
        .await
        .expect("the lockout expired");
}

#[tokio::test]
async fn scram_failures_are_throttled_too() {
    let config = ThrottleConfig {
        ip_lockout_failures: 3,
        ..Default::default()
    };
    let f = fixture(config, true).await;
    for _ in 0..3 {
        let e = scram_login(&f.auth, "ann@example.test", "guess", ATTACKER).await;
        assert!(matches!(e, Err(AuthError::InvalidCredentials { .. })));
    }
    let locked = f
        .auth
        .authenticate("ann@example.test", "s3cret", Protocols::IMAP, ATTACKER)
        .await;
    assert!(matches!(locked, Err(AuthError::InvalidCredentials { .. })));
}

#[tokio::test]
async fn scram_on_a_disabled_account_keeps_the_address_failures() {
    let config = ThrottleConfig {
        free_failures: 0,
        ..Default::default()
    };
    let f = fixture(config, true).await;
    let guess = async || {
        scram_login(&f.auth, "ann@example.test", "guess", ATTACKER)
            .await
            .unwrap_err()
            .delay()
    };
    assert_eq!(guess().await, Duration::from_secs(1));
    let update = AccountUpdate {
        enabled: Some(false),
        ..Default::default()
    };
    f.store.update_account(f.ann.id, update).await.unwrap();
    let disabled = scram_login(&f.auth, "ann@example.test", "s3cret", ATTACKER).await;
    assert!(matches!(disabled, Err(AuthError::Disabled)));
    assert_eq!(
        guess().await,
        Duration::from_secs(2),
        "the right password for a disabled account clears nothing"
    );
}
