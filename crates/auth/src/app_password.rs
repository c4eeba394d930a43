//! App passwords: server-generated secrets, one per device or program, each revocable on its
//! own.
//!
//! Only SHA-256 of a secret is stored, not an argon2 hash. A slow hash exists to make
//! guessing a *human-chosen* password from a stolen hash expensive; these secrets are 80
//! random bits chosen by the server, so even a fast hash leaves 2^80 guesses, beyond any
//! attacker. It also keeps app-password logins cheap (no 19 MiB argon2 run per sync).

use sha2::{Digest, Sha256};

/// 32 symbols (5 bits each): lowercase letters and digits without the look-alikes 0 o 1 l.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
const GROUPS: usize = 4;
const GROUP_LEN: usize = 4;
/// 16 symbols × 5 bits = 80 bits of entropy.
const SYMBOLS: usize = GROUPS * GROUP_LEN;

/// A new secret to show the user once (`abcd-efgh-jkmn-pqrs`) and the hash to store.
pub fn generate() -> Result<(String, String), crate::AuthError> {
    let mut bytes = [0u8; SYMBOLS];
    getrandom::getrandom(&mut bytes).map_err(|e| crate::AuthError::Hash(e.to_string()))?;
    let mut secret = String::with_capacity(SYMBOLS + GROUPS);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % GROUP_LEN == 0 {
            secret.push('-');
        }
        // 256 is a multiple of 32: every symbol is equally likely.
        secret.push(char::from(ALPHABET[usize::from(b % 32)]));
    }
    let hash = hash(&secret);
    Ok((secret, hash))
}

/// The stored form of a typed secret: SHA-256 (hex) of it without separators, lowercased,
/// so "ABCD EFGH…" and "abcd-efgh-…" are the same secret.
pub fn hash(secret: &str) -> String {
    let normalized: String = secret
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let digest = Sha256::digest(normalized.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// True if `candidate` is one of the secrets hashed in `hashes`. Every hash is compared in
/// full and in constant time, so timing tells nothing about which or how much matched.
pub fn matches<'a>(candidate: &str, hashes: impl IntoIterator<Item = &'a str>) -> bool {
    let tag = hash(candidate);
    hashes.into_iter().fold(false, |found, stored| {
        found | constant_time_eq(tag.as_bytes(), stored.as_bytes())
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_shape_and_verify() {
        let (secret, stored) = generate().unwrap();
        assert_eq!(secret.len(), 19, "{secret}");
        assert!(
            secret
                .split('-')
                .all(|g| g.len() == 4 && g.bytes().all(|b| ALPHABET.contains(&b)))
        );
        assert_eq!(stored.len(), 64);
        assert!(matches(&secret, [stored.as_str()]));
        assert!(matches(
            &secret.to_uppercase().replace('-', " "),
            ["x", &stored]
        ));
        assert!(!matches("abcd-efgh-jkmn-pqrs", [stored.as_str()]));
        assert!(!matches(&secret, []));
        let (other, _) = generate().unwrap();
        assert_ne!(secret, other);
    }
}
