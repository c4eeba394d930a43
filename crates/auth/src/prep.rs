//! SASLprep (RFC 4013): the one form of a password that hashes, SCRAM keys and logins agree
//! on. SCRAM requires it (RFC 5802 §2.2, Normalize), and clients apply it before they derive
//! their proof: without it, a password typed as "é" in one normalization form on the phone and
//! another on the laptop would log in on one and not the other. Printable ASCII is unchanged,
//! so ASCII passwords hash exactly as before.

use crate::AuthError;
use std::borrow::Cow;

/// The prepared form of a password being set: a password with characters RFC 4013 prohibits
/// (control characters, unassigned code points, ...) is refused with a reason.
pub fn prepare_new(password: &str) -> Result<Cow<'_, str>, AuthError> {
    stringprep::saslprep(password).map_err(|e| AuthError::UnusablePassword(e.to_string()))
}

/// The prepared form of a password presented at login. One that can't be prepared is used as
/// given: it can't match a password set since SASLprep, and it may match one set before.
pub fn prepare_presented(password: &str) -> Cow<'_, str> {
    stringprep::saslprep(password).unwrap_or(Cow::Borrowed(password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_unchanged() {
        for p in [
            "s3cret",
            "correct horse battery staple",
            "!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
        ] {
            assert_eq!(prepare_new(p).unwrap(), p);
        }
    }

    /// RFC 4013 §3 examples, and normalization: composed and decomposed forms agree.
    #[test]
    fn rfc4013_mapping_and_normalization() {
        assert_eq!(prepare_new("I\u{00AD}X").unwrap(), "IX");
        assert_eq!(prepare_new("\u{00AA}").unwrap(), "a");
        assert_eq!(prepare_new("\u{2168}").unwrap(), "IX");
        assert_eq!(prepare_new("pa\u{00A0}ss").unwrap(), "pa ss");
        assert_eq!(
            prepare_new("caf\u{0065}\u{0301}").unwrap(),
            prepare_new("caf\u{00E9}").unwrap()
        );
    }

    #[test]
    fn prohibited_characters_are_refused_when_set() {
        assert!(matches!(
            prepare_new("a\u{0007}b"),
            Err(AuthError::UnusablePassword(_))
        ));
        // At login it is used as given (and so can only match an older hash of it).
        assert_eq!(prepare_presented("a\u{0007}b"), "a\u{0007}b");
    }
}
