//! The SASL mechanisms every protocol offers, as pure functions of the client's bytes
//! (RFC 4616 PLAIN; LOGIN as Outlook and others still send it). Protocols handle the
//! base64 and the continuation lines of their own framing.

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SaslError {
    #[error("malformed {0} response")]
    Malformed(&'static str),
    #[error("authorization identity differs from the authentication identity")]
    AuthzidNotAllowed,
}

/// Credentials a client presented.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    // Never print a password, not even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Decodes a PLAIN response: `[authzid] NUL authcid NUL passwd` (RFC 4616 §2). An authzid
/// naming someone else (acting as another user) is refused; there are no admin proxies yet.
pub fn decode_plain(response: &[u8]) -> Result<Credentials, SaslError> {
    let mut fields = response.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(SaslError::Malformed("PLAIN"));
    };
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| SaslError::Malformed("PLAIN"));
    let (authzid, username, password) = (text(authzid)?, text(authcid)?, text(password)?);
    if username.is_empty() || password.is_empty() {
        return Err(SaslError::Malformed("PLAIN"));
    }
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(&username) {
        return Err(SaslError::AuthzidNotAllowed);
    }
    Ok(Credentials { username, password })
}

/// The prompts of the LOGIN mechanism, base64-encoded as sent: "Username:" and "Password:".
pub const LOGIN_USERNAME_PROMPT: &str = "VXNlcm5hbWU6";
pub const LOGIN_PASSWORD_PROMPT: &str = "UGFzc3dvcmQ6";

/// A decoded LOGIN field (user name or password): any UTF-8, not empty.
pub fn decode_login_field(field: &[u8]) -> Result<String, SaslError> {
    match String::from_utf8(field.to_vec()) {
        Ok(s) if !s.is_empty() => Ok(s),
        _ => Err(SaslError::Malformed("LOGIN")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain() {
        let ok = decode_plain(b"\0ann@example.test\0pw").unwrap();
        assert_eq!(
            (ok.username.as_str(), ok.password.as_str()),
            ("ann@example.test", "pw")
        );
        assert!(decode_plain(b"ANN@example.test\0ann@example.test\0pw").is_ok());
        assert_eq!(
            decode_plain(b"bob\0ann\0pw"),
            Err(SaslError::AuthzidNotAllowed)
        );
        for bad in [
            &b""[..],
            b"ann\0pw",
            b"\0\0pw",
            b"\0ann\0",
            b"\0ann\0pw\0x",
            b"\0\xff\0pw",
        ] {
            assert_eq!(
                decode_plain(bad),
                Err(SaslError::Malformed("PLAIN")),
                "{bad:?}"
            );
        }
        assert!(!format!("{ok:?}").contains("pw\""));
    }

    #[test]
    fn login_fields() {
        assert_eq!(decode_login_field(b"ann").unwrap(), "ann");
        assert!(decode_login_field(b"").is_err());
    }
}
