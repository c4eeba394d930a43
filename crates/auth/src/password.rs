//! argon2id password hashes as PHC strings, of the password's SASLprep form (see `prep`).

use crate::AuthError;
use crate::prep::{prepare_new, prepare_presented};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Hashes a password with argon2id and a random salt (the crate's recommended parameters).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let password = prepare_new(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// True if `password` matches the PHC string `hash`. A malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    let password = prepare_presented(password);
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify_password(&a, "correct horse"));
        assert!(!verify_password(&a, "Correct horse"));
        assert!(!verify_password("garbage", "correct horse"));
    }

    #[test]
    fn normalization_forms_of_one_password_match() {
        let hash = hash_password("caf\u{00E9}").unwrap();
        assert!(verify_password(&hash, "cafe\u{0301}"));
        assert!(!verify_password(&hash, "cafe"));
        assert!(matches!(
            hash_password("tab\there"),
            Err(AuthError::UnusablePassword(_))
        ));
    }
}
