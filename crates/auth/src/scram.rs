//! SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, as a pure state machine:
//! client-first → server-first ([`ClientFirst::server_first`]), client-final → server-final
//! ([`ServerFirst::finish`]). The protocols carry the messages (base64 in their own framing);
//! [`crate::Authenticator`] adds the account lookup and the throttle.
//!
//! No channel binding: only SCRAM-SHA-256 is offered, never -PLUS, so a client's `p=` is
//! refused and `y` (client could bind, thinks we can't) is accepted (RFC 5802 §6).
//! Keys are derived from the password's SASLprep form (RFC 5802 §2.2 Normalize; `prep`), as
//! clients derive their proofs.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// RFC 7677 §4: at least 4096 iterations.
pub const ITERATIONS: u32 = 4096;
const SALT_LEN: usize = 16;
/// RFC 5803 §3 scheme name in the stored form.
const SCHEME: &str = "SCRAM-SHA-256";
/// Longer messages are not SCRAM, they are an attack on our memory.
const MAX_MESSAGE: usize = 4096;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScramError {
    #[error("malformed SCRAM message")]
    Malformed,
    /// RFC 5802 §5.1: `m=` is reserved; a server must fail it.
    #[error("SCRAM extensions are not supported")]
    Extensions,
    #[error("channel binding is not supported")]
    ChannelBindingNotSupported,
    #[error("channel binding data does not match")]
    ChannelBindingMismatch,
    #[error("authorization identity differs from the authentication identity")]
    AuthzidNotAllowed,
    #[error("nonce mismatch")]
    NonceMismatch,
    #[error("invalid proof")]
    InvalidProof,
    #[error("malformed stored SCRAM credentials")]
    BadStoredCredentials,
}

/// What the server keeps per account (RFC 5802 §3): enough to verify a proof and prove
/// itself, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

impl std::fmt::Debug for ScramCredentials {
    // StoredKey and ServerKey let anyone holding them impersonate the server; keep them out
    // of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredentials")
            .field("iterations", &self.iterations)
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl ScramCredentials {
    /// RFC 5802 §3: SaltedPassword = Hi(password, salt, i); ClientKey = HMAC(SaltedPassword,
    /// "Client Key"); StoredKey = H(ClientKey); ServerKey = HMAC(SaltedPassword, "Server Key").
    pub fn derive(password: &str, salt: &[u8], iterations: u32) -> Self {
        let mut salted = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut salted);
        let client_key = hmac(&salted, &[b"Client Key"]);
        ScramCredentials {
            iterations,
            salt: salt.to_vec(),
            stored_key: Sha256::digest(client_key).into(),
            server_key: hmac(&salted, &[b"Server Key"]),
        }
    }

    /// The stored form (RFC 5803 §3):
    /// `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, base64.
    pub fn encode(&self) -> String {
        format!(
            "{SCHEME}${}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }

    pub fn decode(stored: &str) -> Result<Self, ScramError> {
        let bad = || ScramError::BadStoredCredentials;
        let rest = stored
            .strip_prefix(SCHEME)
            .and_then(|r| r.strip_prefix('$'));
        let (params, keys) = rest.and_then(|r| r.split_once('$')).ok_or_else(bad)?;
        let (iterations, salt) = params.split_once(':').ok_or_else(bad)?;
        let (stored_key, server_key) = keys.split_once(':').ok_or_else(bad)?;
        let key = |s: &str| -> Result<[u8; 32], ScramError> {
            B64.decode(s)
                .ok()
                .and_then(|k| k.try_into().ok())
                .ok_or_else(bad)
        };
        let iterations: u32 = iterations.parse().map_err(|_| bad())?;
        if iterations == 0 {
            return Err(bad());
        }
        Ok(ScramCredentials {
            iterations,
            salt: B64.decode(salt).map_err(|_| bad())?,
            stored_key: key(stored_key)?,
            server_key: key(server_key)?,
        })
    }
}

/// Keys for a new password, in the stored form: 4096 iterations, a random 16-byte salt.
pub fn scram_credentials(password: &str) -> Result<String, crate::AuthError> {
    let mut salt = [0u8; SALT_LEN];
    let password = crate::prep::prepare_new(password)?;
    getrandom::getrandom(&mut salt).map_err(|e| crate::AuthError::Hash(e.to_string()))?;
    Ok(ScramCredentials::derive(&password, &salt, ITERATIONS).encode())
}

/// A random server nonce: printable and without ',' (RFC 5802 §7), 18 bytes of entropy.
pub fn server_nonce() -> Result<String, crate::AuthError> {
    let mut bytes = [0u8; 18];
    getrandom::getrandom(&mut bytes).map_err(|e| crate::AuthError::Hash(e.to_string()))?;
    Ok(B64.encode(bytes))
}

/// A parsed client-first-message (RFC 5802 §7).
pub struct ClientFirst {
    gs2_header: String,
    bare: String,
    username: String,
    client_nonce: String,
}

impl std::fmt::Debug for ClientFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientFirst")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Waiting for the client-final-message.
pub struct ServerFirst {
    gs2_header: String,
    nonce: String,
    /// client-first-message-bare "," server-first-message
    auth_prefix: String,
    credentials: ScramCredentials,
}

impl std::fmt::Debug for ServerFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerFirst").finish_non_exhaustive()
    }
}

/// Parses `gs2-header client-first-message-bare`.
pub fn parse_client_first(message: &[u8]) -> Result<ClientFirst, ScramError> {
    if message.len() > MAX_MESSAGE {
        return Err(ScramError::Malformed);
    }
    let text = std::str::from_utf8(message).map_err(|_| ScramError::Malformed)?;
    // gs2-header = gs2-cbind-flag "," [ authzid ] ","
    let (flag, rest) = text.split_once(',').ok_or(ScramError::Malformed)?;
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => return Err(ScramError::ChannelBindingNotSupported),
        _ => return Err(ScramError::Malformed),
    }
    let (authzid, bare) = rest.split_once(',').ok_or(ScramError::Malformed)?;
    let authzid = match authzid {
        "" => None,
        a => Some(decode_saslname(
            a.strip_prefix("a=").ok_or(ScramError::Malformed)?,
        )?),
    };
    let gs2_header = text[..text.len() - bare.len()].to_string();
    if bare.starts_with("m=") {
        return Err(ScramError::Extensions);
    }
    let mut attrs = bare.split(',');
    let username = attrs
        .next()
        .and_then(|a| a.strip_prefix("n="))
        .ok_or(ScramError::Malformed)?;
    let username = decode_saslname(username)?;
    let client_nonce = attrs
        .next()
        .and_then(|a| a.strip_prefix("r="))
        .filter(|n| valid_nonce(n))
        .ok_or(ScramError::Malformed)?;
    // Further optional extensions are ignored (RFC 5802 §5.1).
    if username.is_empty() {
        return Err(ScramError::Malformed);
    }
    if authzid.is_some_and(|a| !a.eq_ignore_ascii_case(&username)) {
        return Err(ScramError::AuthzidNotAllowed);
    }
    Ok(ClientFirst {
        gs2_header,
        bare: bare.to_string(),
        client_nonce: client_nonce.to_string(),
        username,
    })
}

impl ClientFirst {
    /// The authentication identity (saslname decoded).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Builds the server-first-message: `r=<client nonce><server nonce>,s=<salt>,i=<iter>`.
    pub fn server_first(
        self,
        credentials: ScramCredentials,
        server_nonce: &str,
    ) -> (ServerFirst, String) {
        let nonce = format!("{}{server_nonce}", self.client_nonce);
        let message = format!(
            "r={nonce},s={},i={}",
            B64.encode(&credentials.salt),
            credentials.iterations
        );
        let state = ServerFirst {
            gs2_header: self.gs2_header,
            nonce,
            auth_prefix: format!("{},{message}", self.bare),
            credentials,
        };
        (state, message)
    }
}

impl ServerFirst {
    /// Checks the client-final-message (RFC 5802 §7: `c=...,r=...[,ext],p=...`) and returns
    /// the server-final-message `v=<ServerSignature>`.
    pub fn finish(self, message: &[u8]) -> Result<String, ScramError> {
        if message.len() > MAX_MESSAGE {
            return Err(ScramError::Malformed);
        }
        let text = std::str::from_utf8(message).map_err(|_| ScramError::Malformed)?;
        let (without_proof, proof) = text.rsplit_once(",p=").ok_or(ScramError::Malformed)?;
        let mut attrs = without_proof.split(',');
        let binding = attrs
            .next()
            .and_then(|a| a.strip_prefix("c="))
            .ok_or(ScramError::Malformed)?;
        let nonce = attrs
            .next()
            .and_then(|a| a.strip_prefix("r="))
            .ok_or(ScramError::Malformed)?;
        // Without channel binding, c= carries the gs2-header and nothing else.
        let binding = B64.decode(binding).map_err(|_| ScramError::Malformed)?;
        if binding != self.gs2_header.as_bytes() {
            return Err(ScramError::ChannelBindingMismatch);
        }
        if !constant_time_eq(nonce.as_bytes(), self.nonce.as_bytes()) {
            return Err(ScramError::NonceMismatch);
        }
        let proof: [u8; 32] = B64
            .decode(proof)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or(ScramError::Malformed)?;
        let auth_message = format!("{},{without_proof}", self.auth_prefix);
        // RFC 5802 §3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage), and
        // H(ClientKey) must be StoredKey.
        let signature = hmac(&self.credentials.stored_key, &[auth_message.as_bytes()]);
        let mut client_key = [0u8; 32];
        for (k, (p, s)) in client_key.iter_mut().zip(proof.iter().zip(signature)) {
            *k = p ^ s;
        }
        let stored: [u8; 32] = Sha256::digest(client_key).into();
        if !constant_time_eq(&stored, &self.credentials.stored_key) {
            return Err(ScramError::InvalidProof);
        }
        let server_signature = hmac(&self.credentials.server_key, &[auth_message.as_bytes()]);
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

/// The client's side, for tests and tools: the client-final-message answering
/// `server_first`, and the server-final-message a genuine server will send back.
pub fn client_final(
    password: &str,
    gs2_header: &str,
    client_first_bare: &str,
    server_first: &str,
) -> Result<(String, String), ScramError> {
    let mut nonce = None;
    let mut salt = None;
    let mut iterations = None;
    for attr in server_first.split(',') {
        match attr.split_at_checked(2) {
            Some(("r=", v)) => nonce = Some(v),
            Some(("s=", v)) => salt = B64.decode(v).ok(),
            Some(("i=", v)) => iterations = v.parse::<u32>().ok(),
            _ => {}
        }
    }
    let (Some(nonce), Some(salt), Some(iterations)) = (nonce, salt, iterations) else {
        return Err(ScramError::Malformed);
    };
    let password = crate::prep::prepare_presented(password);
    let mut salted = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, iterations, &mut salted);
    let client_key = hmac(&salted, &[b"Client Key"]);
    let stored_key: [u8; 32] = Sha256::digest(client_key).into();
    let server_key = hmac(&salted, &[b"Server Key"]);
    let without_proof = format!("c={},r={nonce}", B64.encode(gs2_header));
    let auth_message = format!("{client_first_bare},{server_first},{without_proof}");
    let signature = hmac(&stored_key, &[auth_message.as_bytes()]);
    let proof: Vec<u8> = client_key
        .iter()
        .zip(signature)
        .map(|(k, s)| k ^ s)
        .collect();
    let server_signature = hmac(&server_key, &[auth_message.as_bytes()]);
    Ok((
        format!("{without_proof},p={}", B64.encode(proof)),
        format!("v={}", B64.encode(server_signature)),
    ))
}

/// RFC 5802 §5.1: in a saslname "," is "=2C" and "=" is "=3D"; any other "=" is an error.
fn decode_saslname(name: &str) -> Result<String, ScramError> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        let escape = rest.get(i..i + 3).ok_or(ScramError::Malformed)?;
        out.push(match escape {
            "=2C" => ',',
            "=3D" => '=',
            _ => return Err(ScramError::Malformed),
        });
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// RFC 5802 §7: printable ASCII except ','.
fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

/// HMAC-SHA-256 over the concatenated parts.
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC takes keys of any length (RFC 2104 §2): the error case does not exist for it.
    #[allow(clippy::expect_used)]
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Credentials for a name that has none (unknown user, or an account without SCRAM keys):
/// the salt is stable per name and server secret, as a real account's is, so the
/// server-first-message looks the same; the keys match no proof, so the exchange fails at
/// client-final exactly like a wrong password (no user enumeration).
pub fn fake_credentials(secret: &[u8], username: &str) -> ScramCredentials {
    let name = username.to_lowercase();
    let salt = hmac(secret, &[b"scram salt\0", name.as_bytes()]);
    ScramCredentials {
        iterations: ITERATIONS,
        salt: salt[..SALT_LEN].to_vec(),
        stored_key: hmac(secret, &[b"scram stored key\0", name.as_bytes()]),
        server_key: hmac(secret, &[b"scram server key\0", name.as_bytes()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677 §3, user "user", password "pencil".
    #[test]
    fn rfc7677_example() {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let credentials = ScramCredentials::derive("pencil", &salt, 4096);
        let first = parse_client_first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO").unwrap();
        assert_eq!(first.username(), "user");
        let (state, server_first) =
            first.server_first(credentials, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
        assert_eq!(
            server_first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let server_final = state
            .finish(
                b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
                  p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
            )
            .unwrap();
        assert_eq!(
            server_final,
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn the_client_side_reproduces_the_rfc_example() {
        let (client_final, server_final) = client_final(
            "pencil",
            "n,,",
            "n=user,r=rOprNGfwEbeRWgbNEkqO",
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        )
        .unwrap();
        assert_eq!(
            client_final,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(
            server_final,
            "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    /// Keys stored for the composed "é" accept a client that typed it decomposed: both sides
    /// derive from the SASLprep form.
    #[test]
    fn keys_and_proofs_use_the_saslprep_form() {
        let stored = ScramCredentials::decode(&scram_credentials("caf\u{00E9}").unwrap()).unwrap();
        let (state, server_first) = parse_client_first(b"n,,n=user,r=abcdef")
            .unwrap()
            .server_first(stored, "ghijkl");
        let (message, expected) =
            client_final("cafe\u{0301}", "n,,", "n=user,r=abcdef", &server_first).unwrap();
        assert_eq!(state.finish(message.as_bytes()), Ok(expected));
    }

    #[test]
    fn wrong_proof_nonce_or_binding_fail() {
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let creds = ScramCredentials::derive("pencil", &salt, 4096);
        let start = || {
            parse_client_first(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
                .unwrap()
                .server_first(creds.clone(), "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0")
                .0
        };
        let nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let proof = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let bad_proof = "AHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        let cases = [
            (
                format!("c=biws,r={nonce},p={bad_proof}"),
                ScramError::InvalidProof,
            ),
            (
                format!("c=biws,r={nonce}x,p={proof}"),
                ScramError::NonceMismatch,
            ),
            (
                format!("c=eSws,r={nonce},p={proof}"),
                ScramError::ChannelBindingMismatch,
            ),
            (format!("c=biws,r={nonce}"), ScramError::Malformed),
            (format!("c=biws,r={nonce},p=short"), ScramError::Malformed),
        ];
        for (message, error) in cases {
            assert_eq!(start().finish(message.as_bytes()), Err(error), "{message}");
        }
    }

    #[test]
    fn client_first_grammar() {
        let ok = parse_client_first(b"y,a=us=3Der,n=us=3Der,r=abc,x=ext").unwrap();
        assert_eq!(ok.username(), "us=er");
        assert_eq!(ok.gs2_header, "y,a=us=3Der,");
        assert_eq!(
            parse_client_first(b"n,,n=a=2Cb,r=x").unwrap().username(),
            "a,b"
        );
        let cases: [(&[u8], ScramError); 8] = [
            (
                b"p=tls-unique,,n=user,r=abc",
                ScramError::ChannelBindingNotSupported,
            ),
            (b"n,,m=x,n=user,r=abc", ScramError::Extensions),
            (b"n,a=bob,n=user,r=abc", ScramError::AuthzidNotAllowed),
            (b"x,,n=user,r=abc", ScramError::Malformed),
            (b"n,,n=user", ScramError::Malformed),
            (b"n,,n=us=er,r=abc", ScramError::Malformed),
            (b"n,,n=,r=abc", ScramError::Malformed),
            (b"n,,n=user,r=", ScramError::Malformed),
        ];
        for (message, error) in cases {
            assert_eq!(
                parse_client_first(message).err(),
                Some(error),
                "{message:?}"
            );
        }
    }

    #[test]
    fn stored_form_round_trips_and_is_redacted() {
        let stored = scram_credentials("pencil").unwrap();
        assert!(stored.starts_with("SCRAM-SHA-256$4096:"), "{stored}");
        let creds = ScramCredentials::decode(&stored).unwrap();
        assert_eq!(creds.salt.len(), 16);
        assert_eq!(creds.encode(), stored);
        assert_ne!(scram_credentials("pencil").unwrap(), stored, "salted");
        let rfc = ScramCredentials::derive(
            "pencil",
            &B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap(),
            4096,
        );
        assert_eq!(ScramCredentials::decode(&rfc.encode()).unwrap(), rfc);
        assert!(!format!("{rfc:?}").contains(&B64.encode(rfc.stored_key)));
        for bad in [
            "",
            "SCRAM-SHA-1$4096:c2FsdA==$AA==:AA==",
            "SCRAM-SHA-256$x:c2FsdA==$AA==:AA==",
            "SCRAM-SHA-256$4096:c2FsdA==$AA==:AA==",
        ] {
            assert!(ScramCredentials::decode(bad).is_err(), "{bad}");
        }
    }

    /// Mutated and truncated messages are errors, never panics (client bytes are hostile).
    #[test]
    fn arbitrary_input_never_panics() {
        let first = b"n,a=user,n=us=3Der,r=rOprNGfwEbeRWgbNEkqO".to_vec();
        let last =
            b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvY,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
                .to_vec();
        let creds = fake_credentials(b"k", "user");
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b",=an rcp2C3D\xff";
        for _ in 0..5000 {
            let (mut a, mut b) = (first.clone(), last.clone());
            for m in [&mut a, &mut b] {
                for _ in 0..(next() % 4) {
                    let i = (next() as usize) % m.len();
                    m[i] = alphabet[(next() as usize) % alphabet.len()];
                }
                let cut = (next() as usize) % (m.len() + 1);
                m.truncate(cut.max(m.len() / 2));
            }
            if let Ok(parsed) = parse_client_first(&a) {
                let (state, _) = parsed.server_first(creds.clone(), "%hvY");
                let _ = state.finish(&b);
            }
        }
    }

    #[test]
    fn fake_credentials_are_stable_per_name() {
        let a = fake_credentials(b"secret", "Who@example.test");
        assert_eq!(a, fake_credentials(b"secret", "who@example.test"));
        assert_ne!(
            a.salt,
            fake_credentials(b"secret", "other@example.test").salt
        );
        assert_ne!(a.salt, fake_credentials(b"other", "who@example.test").salt);
    }
}
