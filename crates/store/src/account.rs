use crate::error::{Result, StoreError};
use crate::ids::{AccountId, DomainId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub id: DomainId,
    pub name: String,
    pub created_at: i64,
    /// Limits new accounts of the domain get unless they are given their own.
    pub default_quota_bytes: Option<u64>,
    pub default_quota_messages: Option<u64>,
    /// Days deleted mail stays recoverable in this domain; None: the server's setting.
    pub recovery_days: Option<u32>,
    /// The key outgoing mail from the domain is DKIM-signed with (RFC 6376); kept in the store
    /// so every node signs with the same key.
    pub dkim: Option<DkimKey>,
}

/// A domain's DKIM signing key: the selector names the DNS record `<selector>._domainkey`.
#[derive(Clone, PartialEq, Eq)]
pub struct DkimKey {
    pub selector: String,
    /// The private key, PEM (PKCS#1 or PKCS#8).
    pub private_key_pem: String,
}

impl fmt::Debug for DkimKey {
    // A private key never goes into a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimKey")
            .field("selector", &self.selector)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// A partial change to a domain's settings; `None` leaves a field as it is, `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default)]
pub struct DomainUpdate {
    pub default_quota_bytes: Option<Option<u64>>,
    pub default_quota_messages: Option<Option<u64>>,
    pub recovery_days: Option<Option<u32>>,
    pub dkim: Option<Option<DkimKey>>,
}

/// Which protocols an account may log in with. Stored as a bit set so new protocols don't need a
/// schema change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocols(pub u32);

impl Protocols {
    pub const IMAP: Protocols = Protocols(1);
    pub const POP3: Protocols = Protocols(2);
    pub const SUBMISSION: Protocols = Protocols(4);
    pub const ALL: Protocols = Protocols(7);
    const NAMES: [(Protocols, &'static str); 3] = [
        (Protocols::IMAP, "imap"),
        (Protocols::POP3, "pop3"),
        (Protocols::SUBMISSION, "submission"),
    ];

    pub fn contains(self, other: Protocols) -> bool {
        self.0 & other.0 == other.0
    }
}

impl Default for Protocols {
    fn default() -> Self {
        Protocols::ALL
    }
}

impl fmt::Display for Protocols {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Self::NAMES
            .iter()
            .filter(|(p, _)| self.contains(*p))
            .map(|(_, n)| *n)
            .collect();
        f.write_str(&names.join(","))
    }
}

impl FromStr for Protocols {
    type Err = StoreError;

    /// Parses a comma-separated list such as `imap,pop3`.
    fn from_str(s: &str) -> Result<Self> {
        let mut bits = 0;
        for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let (p, _) = Self::NAMES
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(word))
                .ok_or_else(|| StoreError::invalid("protocol", word))?;
            bits |= p.0;
        }
        Ok(Protocols(bits))
    }
}

/// What POP3 does with mail a client has downloaded (RFC 2449 EXPIRE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Pop3Policy {
    /// Messages stay until the client deletes them (the RFC 1939 default).
    #[default]
    LeaveOnServer,
    /// Messages retrieved in a session are removed at QUIT even without DELE (EXPIRE 0).
    DeleteAfterDownload,
}

impl Pop3Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Pop3Policy::LeaveOnServer => "keep",
            Pop3Policy::DeleteAfterDownload => "delete",
        }
    }
}

impl FromStr for Pop3Policy {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "keep" | "leave" | "leave-on-server" => Ok(Pop3Policy::LeaveOnServer),
            "delete" | "delete-after-download" => Ok(Pop3Policy::DeleteAfterDownload),
            other => Err(StoreError::invalid("POP3 policy", other)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub address: String,
    pub domain: DomainId,
    /// A PHC string (argon2id); the store never sees a plain password.
    pub password_hash: String,
    /// SCRAM-SHA-256 keys derived from the same password (RFC 5803 form), so SCRAM logins work
    /// without the plain password; None for accounts whose password was set before SCRAM.
    pub scram_sha256: Option<String>,
    /// None means no limit.
    pub quota_bytes: Option<u64>,
    pub quota_messages: Option<u64>,
    pub protocols: Protocols,
    /// None: the server's configured default applies.
    pub pop3_policy: Option<Pop3Policy>,
    pub enabled: bool,
    /// May sign in to the web admin and manage the whole server.
    pub admin: bool,
    /// Bytes and messages in mailboxes, kept exact in the same transaction as every change.
    /// The recovery area does not count.
    pub used_bytes: u64,
    pub used_messages: u64,
    pub created_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub address: String,
    pub password_hash: String,
    pub scram_sha256: Option<String>,
    pub quota_bytes: Option<u64>,
    pub quota_messages: Option<u64>,
    pub protocols: Protocols,
    pub pop3_policy: Option<Pop3Policy>,
}

impl NewAccount {
    pub fn new(address: impl Into<String>, password_hash: impl Into<String>) -> Self {
        NewAccount {
            address: address.into(),
            password_hash: password_hash.into(),
            scram_sha256: None,
            quota_bytes: None,
            quota_messages: None,
            protocols: Protocols::ALL,
            pop3_policy: None,
        }
    }
}

/// A partial change to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AccountUpdate {
    pub password_hash: Option<String>,
    /// Set together with `password_hash`; Some(None) drops the keys (SCRAM off).
    pub scram_sha256: Option<Option<String>>,
    pub quota_bytes: Option<Option<u64>>,
    pub quota_messages: Option<Option<u64>>,
    pub protocols: Option<Protocols>,
    /// Some(None) returns the account to the server's default.
    pub pop3_policy: Option<Option<Pop3Policy>>,
    pub enabled: Option<bool>,
    pub admin: Option<bool>,
}

/// A named extra password of an account (one per phone or program), revocable on its own.
/// Secrets are generated by the server, so only a fast hash of them is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppPassword {
    pub account: AccountId,
    pub name: String,
    pub secret_hash: String,
    pub created_at: i64,
}

/// A login lockout kept across restarts and shared by every node: what is locked (`key`, the
/// authenticator's encoding, opaque to the store), until when (Unix seconds), and what the
/// authenticator needs to restore it (`detail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub key: Vec<u8>,
    pub until: i64,
    pub detail: Vec<u8>,
}

/// A bearer token of the HTTP API: the server's administrators' (no account), or one
/// account's, good only for that account's own self-service. Only a hash of the secret is
/// kept; the secret is shown once when the token is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    pub secret_hash: String,
    pub account: Option<AccountId>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub address: String,
    pub account: AccountId,
    pub target: String,
}

/// Splits and normalises `local@domain`: the domain is lower-cased, the local part kept as
/// given (RFC 5321 §2.4) but compared case-insensitively by the store.
pub fn split_address(address: &str) -> Result<(String, String)> {
    let address = address.trim();
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or_else(|| StoreError::invalid("address", "missing @"))?;
    if !is_dot_atom(local) {
        return Err(StoreError::invalid(
            "address",
            format!(
                "{address} (the part before @ may hold letters, digits and !#$%&'*+-/=?^_`{{|}}~, with single dots between)"
            ),
        ));
    }
    Ok((local.to_string(), normalize_domain(domain)?))
}

/// RFC 5322 §3.2.3 dot-atom (UTF-8 letters too, RFC 6531), at most 64 octets (RFC 5321
/// §4.5.3.1.1): what every mail program can type and send to. Quoted local parts are
/// refused for new addresses.
fn is_dot_atom(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    !local.is_empty()
        && local.len() <= 64
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || SPECIALS.contains(c)
                        || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
                })
        })
}

pub fn normalize_domain(domain: &str) -> Result<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
        });
    if valid {
        Ok(domain)
    } else {
        Err(StoreError::invalid("domain", domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_and_print() {
        let p: Protocols = "imap, POP3".parse().unwrap();
        assert!(p.contains(Protocols::IMAP) && p.contains(Protocols::POP3));
        assert!(!p.contains(Protocols::SUBMISSION));
        assert_eq!(p.to_string(), "imap,pop3");
        assert!("gopher".parse::<Protocols>().is_err());
    }

    #[test]
    fn addresses() {
        assert_eq!(
            split_address(" Bob@Example.TEST ").unwrap(),
            ("Bob".to_string(), "example.test".to_string())
        );
        for good in [
            "o'brien+tag@example.test",
            "first.last@example.test",
            "jörg@example.test",
        ] {
            assert!(split_address(good).is_ok(), "{good}");
        }
        for bad in [
            "bob",
            "@example.test",
            "bob@",
            "bo b@example.test",
            "bob@-x.test",
            "bob@a..b",
            "bad@@example.test",
            ".bob@example.test",
            "bob.@example.test",
            "b..ob@example.test",
            "b(o)b@example.test",
            "\"bob\"@example.test",
        ] {
            assert!(split_address(bad).is_err(), "{bad}");
        }
    }
}
