//! Remembers successful verifications for a short while, as Dovecot's auth_cache does: a mail
//! client that logs in for every sync would otherwise pay ~20 ms of argon2id and 19 MiB each
//! time. An entry is keyed by the account and holds a keyed hash of the password that worked
//! (never the password) together with the stored argon2 hash it was checked against, so a
//! password change invalidates it at once. Failures are never cached: every wrong password
//! still costs a full verification.

use mailroom_store::AccountId;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const TTL: Duration = Duration::from_secs(300);
/// The cache is emptied when it reaches this many accounts (no one needs an LRU for this).
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    stored_hash: String,
    secret_tag: [u8; 32],
    expires: Instant,
}

pub struct AuthCache {
    /// Per-process random key: the tags mean nothing outside this process.
    key: [u8; 32],
    entries: Mutex<HashMap<AccountId, Entry>>,
}

impl AuthCache {
    pub fn new() -> Self {
        let mut key = [0u8; 32];
        // Without the OS's randomness the cache still works; the key is then only as secret
        // as this process's memory, which is where the entries live anyway.
        let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key));
        AuthCache {
            key,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn tag(&self, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// True if this password was verified for the account, against the same stored hash,
    /// less than the TTL ago.
    pub fn check(&self, account: AccountId, stored_hash: &str, password: &str) -> bool {
        let tag = self.tag(password);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&account).is_some_and(|e| {
            e.expires > Instant::now()
                && e.stored_hash == stored_hash
                && constant_time_eq(&e.secret_tag, &tag)
        })
    }

    pub fn remember(&self, account: AccountId, stored_hash: &str, password: &str) {
        let entry = Entry {
            stored_hash: stored_hash.to_string(),
            secret_tag: self.tag(password),
            expires: Instant::now() + TTL,
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(account, entry);
    }
}

impl Default for AuthCache {
    fn default() -> Self {
        Self::new()
    }
}

fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_only_for_the_same_password_and_stored_hash() {
        let cache = AuthCache::new();
        let a = AccountId(1);
        assert!(!cache.check(a, "$argon2id$one", "pw"));
        cache.remember(a, "$argon2id$one", "pw");
        assert!(cache.check(a, "$argon2id$one", "pw"));
        assert!(
            !cache.check(a, "$argon2id$one", "other"),
            "another password"
        );
        assert!(
            !cache.check(a, "$argon2id$two", "pw"),
            "the password was changed"
        );
        assert!(
            !cache.check(AccountId(2), "$argon2id$one", "pw"),
            "another account"
        );
    }
}
