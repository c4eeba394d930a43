//! Signed-in sessions of the web pages, without server-side state: the cookie carries the
//! account id and an expiry, sealed by an HMAC over them and the account's password hash
//! with the server's secret. So sessions survive a restart, work on every node sharing the
//! secret, and all end when the password changes. Forms carry a CSRF token derived from the
//! cookie; the cookie is also SameSite=Strict.

use hmac::{Hmac, Mac};
use mailroom_store::Account;
use sha2::Sha256;

pub(crate) const COOKIE: &str = "mailroom_session";

/// The parts of a session cookie, before its seal is checked against the account.
pub(crate) struct Claim {
    pub account: i64,
    pub expires: i64,
    seal: String,
}

fn mac(secret: &[u8], parts: &[&[u8]]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        // HMAC takes keys of any length: this arm does not happen.
        return String::new();
    };
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn seal(secret: &[u8], account: i64, expires: i64, password_hash: &str) -> String {
    mac(
        secret,
        &[
            b"session",
            &account.to_be_bytes(),
            &expires.to_be_bytes(),
            password_hash.as_bytes(),
        ],
    )
}

/// The cookie value for `account`, valid until `expires` (Unix seconds).
pub(crate) fn issue(secret: &[u8], account: &Account, expires: i64) -> String {
    let id = account.id.0;
    format!(
        "{id}.{expires}.{}",
        seal(secret, id, expires, &account.password_hash)
    )
}

/// Reads a cookie value (not yet checked).
pub(crate) fn claim(value: &str) -> Option<Claim> {
    let mut parts = value.split('.');
    let account = parts.next()?.parse().ok()?;
    let expires = parts.next()?.parse().ok()?;
    let seal = parts.next()?.to_string();
    parts.next().is_none().then_some(Claim {
        account,
        expires,
        seal,
    })
}

/// True when the claim is sealed for this account's current password and not expired.
pub(crate) fn valid(secret: &[u8], claim: &Claim, account: &Account, now: i64) -> bool {
    let expected = seal(secret, claim.account, claim.expires, &account.password_hash);
    claim.account == account.id.0
        && now < claim.expires
        && constant_time_eq(expected.as_bytes(), claim.seal.as_bytes())
}

/// The CSRF token forms of this session carry.
pub(crate) fn csrf(secret: &[u8], cookie: &str) -> String {
    mac(secret, &[b"csrf", cookie.as_bytes()])
}

pub(crate) fn csrf_ok(secret: &[u8], cookie: &str, token: &str) -> bool {
    constant_time_eq(csrf(secret, cookie).as_bytes(), token.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie header value that sets (or, with `value` None, clears) the session.
pub(crate) fn set_cookie(value: Option<&str>, tls: bool, lifetime_secs: i64) -> String {
    let secure = if tls { "; Secure" } else { "" };
    match value {
        Some(v) => format!(
            "{COOKIE}={v}; Path=/; HttpOnly; SameSite=Strict; Max-Age={lifetime_secs}{secure}"
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_store::{AccountId, DomainId, Protocols};

    fn account(hash: &str) -> Account {
        Account {
            id: AccountId(7),
            address: "ann@example.com".into(),
            domain: DomainId(1),
            password_hash: hash.into(),
            scram_sha256: None,
            quota_bytes: None,
            quota_messages: None,
            protocols: Protocols::ALL,
            pop3_policy: None,
            enabled: true,
            admin: false,
            used_bytes: 0,
            used_messages: 0,
            created_at: 0,
        }
    }

    #[test]
    fn a_session_holds_until_it_expires_or_the_password_changes() {
        let ann = account("$argon2id$one");
        let cookie = issue(b"k", &ann, 1000);
        let c = claim(&cookie).unwrap();
        assert!(valid(b"k", &c, &ann, 999));
        assert!(!valid(b"k", &c, &ann, 1000), "expired");
        assert!(!valid(b"other key", &c, &ann, 10));
        assert!(
            !valid(b"k", &c, &account("$argon2id$two"), 10),
            "new password"
        );
        let forged = format!("8.1000.{}", cookie.rsplit('.').next().unwrap());
        let f = claim(&forged).unwrap();
        let mut bob = account("$argon2id$one");
        bob.id = AccountId(8);
        assert!(!valid(b"k", &f, &bob, 10), "a seal is for one account");
        assert!(claim("7.1000").is_none());
        assert!(claim("x.1000.ab").is_none());
        let token = csrf(b"k", &cookie);
        assert!(csrf_ok(b"k", &cookie, &token));
        assert!(!csrf_ok(b"k", "another cookie", &token));
    }
}
