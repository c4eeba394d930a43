//! Certificates from an ACME CA (RFC 8555: Let's Encrypt, or any other), by the HTTP-01
//! challenge answered on the `[http]` listener. Issued pairs are written as `<name>.crt` +
//! `<name>.key` into their own directory, which [`crate::CertStore`] reads like `certs_dir`;
//! a reload then serves them on every listener without a restart.
//!
//! The protocol is instant-acme's; what is here is the policy: one account per directory
//! URL kept on disk, one order per group of names (so one domain whose DNS is not ready does
//! not hold up the others), renewal 30 days before the end.

use crate::tls::{renewal_due, write_private};
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AcmeError {
    #[error("ACME server {directory}: {message}")]
    Protocol { directory: String, message: String },
    #[error("certificate for {name}: {message}")]
    Order { name: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where to get certificates and where to keep them.
#[derive(Debug, Clone)]
pub struct AcmeConfig {
    /// The CA's directory URL.
    pub directory: String,
    /// Contact URLs for the account (`mailto:…`), for the CA's expiry warnings.
    pub contact: Vec<String>,
    /// A PEM root to trust for the CA's own HTTPS (a private or test CA); None: the system's.
    pub ca_root: Option<PathBuf>,
    /// The account credentials and the issued pairs.
    pub dir: PathBuf,
}

/// The key authorizations of challenges in progress, by token: what
/// `/.well-known/acme-challenge/{token}` answers.
#[derive(Debug, Clone, Default)]
pub struct Challenges(Arc<RwLock<HashMap<String, String>>>);

impl Challenges {
    pub fn answer(&self, token: &str) -> Option<String> {
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned()
    }

    fn set(&self, token: &str, key_authorization: &str) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(token.to_string(), key_authorization.to_string());
    }

    fn clear(&self, token: &str) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token);
    }
}

/// Orders and renews certificates.
pub struct AcmeClient {
    config: AcmeConfig,
    challenges: Challenges,
    account: tokio::sync::OnceCell<Account>,
}

impl AcmeClient {
    pub fn new(config: AcmeConfig, challenges: Challenges) -> Self {
        AcmeClient {
            config,
            challenges,
            account: tokio::sync::OnceCell::new(),
        }
    }

    /// Makes sure `names` (the first is the file name) have a certificate that lasts more than
    /// `tls::RENEW_DAYS_BEFORE` days and covers them all; orders one if not. True if it did.
    pub async fn ensure(&self, names: &[String]) -> Result<bool, AcmeError> {
        let Some(first) = names.first() else {
            return Ok(false);
        };
        let cert_path = self.config.dir.join(format!("{first}.crt"));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Ok(pem) = std::fs::read(&cert_path)
            && still_good(&pem, names, now)
        {
            return Ok(false);
        }
        let account = self.account.get_or_try_init(|| self.open_account()).await?;
        let (chain, key) = self.order(account, names).await?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| AcmeError::Io { path, source }
        };
        // The key first: until the certificate follows, a reload finds the old certificate
        // with a key that does not match and keeps everything as it was.
        let key_path = self.config.dir.join(format!("{first}.key"));
        write_private(&key_path, key.as_bytes()).map_err(io(&key_path))?;
        let tmp = self.config.dir.join(format!(".{first}.crt.new"));
        std::fs::write(&tmp, chain).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &cert_path).map_err(io(&cert_path))?;
        tracing::info!(names = %names.join(", "), "ACME: certificate issued");
        Ok(true)
    }

    /// The account for this directory: read back, or registered and saved.
    async fn open_account(&self) -> Result<Account, AcmeError> {
        let protocol = |message: String| AcmeError::Protocol {
            directory: self.config.directory.clone(),
            message,
        };
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| AcmeError::Io { path, source }
        };
        std::fs::create_dir_all(&self.config.dir).map_err(io(&self.config.dir))?;
        let path = self.config.dir.join(account_file(&self.config.directory));
        let builder = || match &self.config.ca_root {
            Some(root) => Account::builder_with_root(root),
            None => Account::builder(),
        };
        if let Ok(bytes) = std::fs::read(&path)
            && let Ok(credentials) = serde_json::from_slice::<AccountCredentials>(&bytes)
        {
            let builder = builder().map_err(|e| protocol(e.to_string()))?;
            return builder
                .from_credentials(credentials)
                .await
                .map_err(|e| protocol(e.to_string()));
        }
        let contact: Vec<&str> = self.config.contact.iter().map(String::as_str).collect();
        let (account, credentials) = builder()
            .map_err(|e| protocol(e.to_string()))?
            .create(
                &NewAccount {
                    contact: &contact,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                self.config.directory.clone(),
                None,
            )
            .await
            .map_err(|e| protocol(format!("registering an account: {e}")))?;
        let json = serde_json::to_vec(&credentials)
            .map_err(|e| protocol(format!("saving the account: {e}")))?;
        write_private(&path, &json).map_err(io(&path))?;
        tracing::info!(directory = %self.config.directory, "ACME: account registered");
        Ok(account)
    }

    /// One order, HTTP-01 for each name: the chain (PEM) and its new key (PEM).
    async fn order(
        &self,
        account: &Account,
        names: &[String],
    ) -> Result<(String, String), AcmeError> {
        let failed = |message: String| AcmeError::Order {
            name: names.join(", "),
            message,
        };
        let identifiers: Vec<Identifier> =
            names.iter().map(|n| Identifier::Dns(n.clone())).collect();
        let mut order = account
            .new_order(&NewOrder::new(&identifiers))
            .await
            .map_err(|e| failed(format!("new order: {e}")))?;
        let mut tokens = Vec::new();
        let ready = async {
            let mut authorizations = order.authorizations();
            while let Some(authorization) = authorizations.next().await {
                let mut authorization =
                    authorization.map_err(|e| failed(format!("authorization: {e}")))?;
                match authorization.status {
                    AuthorizationStatus::Pending => {}
                    AuthorizationStatus::Valid => continue,
                    other => return Err(failed(format!("authorization is {other:?}"))),
                }
                let mut challenge = authorization
                    .challenge(ChallengeType::Http01)
                    .ok_or_else(|| failed("the CA offers no HTTP-01 challenge".into()))?;
                self.challenges
                    .set(&challenge.token, challenge.key_authorization().as_str());
                tokens.push(challenge.token.clone());
                challenge
                    .set_ready()
                    .await
                    .map_err(|e| failed(format!("challenge: {e}")))?;
            }
            order
                .poll_ready(&RetryPolicy::default())
                .await
                .map_err(|e| failed(format!("validation: {e}")))
        }
        .await;
        for token in &tokens {
            self.challenges.clear(token);
        }
        let status = ready?;
        if status != OrderStatus::Ready {
            let why = order
                .state()
                .error
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default();
            return Err(failed(format!(
                "validation ended {status:?} {why} (do the names lead to this server's [http] port 80?)"
            )));
        }
        let generate = |e: rcgen::Error| failed(format!("making the key: {e}"));
        let key = rcgen::KeyPair::generate().map_err(generate)?;
        let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(generate)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        let csr = params.serialize_request(&key).map_err(generate)?;
        order
            .finalize_csr(csr.der())
            .await
            .map_err(|e| failed(format!("finalize: {e}")))?;
        let chain = order
            .poll_certificate(&RetryPolicy::default())
            .await
            .map_err(|e| failed(format!("certificate: {e}")))?;
        Ok((chain, key.serialize_pem()))
    }
}

/// `account-acme-v02.api.letsencrypt.org.json`: one account per CA, so changing the directory
/// URL registers anew instead of presenting one CA's account to another.
fn account_file(directory: &str) -> String {
    let host: String = directory
        .split("://")
        .nth(1)
        .unwrap_or(directory)
        .split('/')
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("account-{host}.json")
}

/// A certificate that covers every name and lasts past the renewal window.
fn still_good(pem: &[u8], names: &[String], now: i64) -> bool {
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(pem) else {
        return false;
    };
    let Ok(cert) = pem.parse_x509() else {
        return false;
    };
    if renewal_due(&cert, now) {
        return false;
    }
    let covered: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => {
                        Some(d.to_ascii_lowercase())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    names
        .iter()
        .all(|n| covered.contains(&n.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(names: &[&str], days: i64) -> String {
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(days);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn renewal_when_near_the_end_or_a_name_is_missing() {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let names = vec![
            "mail.example.com".to_string(),
            "autoconfig.example.com".to_string(),
        ];
        let both = cert(&["mail.example.com", "autoconfig.example.com"], 90);
        assert!(still_good(both.as_bytes(), &names, now));
        let ending = cert(&["mail.example.com", "autoconfig.example.com"], 20);
        assert!(!still_good(ending.as_bytes(), &names, now));
        let one = cert(&["mail.example.com"], 90);
        assert!(!still_good(one.as_bytes(), &names, now));
        assert!(!still_good(b"not a certificate", &names, now));
    }

    #[test]
    fn one_account_file_per_ca() {
        assert_eq!(
            account_file("https://acme-v02.api.letsencrypt.org/directory"),
            "account-acme-v02.api.letsencrypt.org.json"
        );
        assert_eq!(
            account_file("https://127.0.0.1:14000/dir"),
            "account-127.0.0.1_14000.json"
        );
    }

    #[test]
    fn challenges_answer_only_while_in_progress() {
        let c = Challenges::default();
        c.set("tok", "tok.thumb");
        assert_eq!(c.answer("tok").as_deref(), Some("tok.thumb"));
        c.clear("tok");
        assert_eq!(c.answer("tok"), None);
    }
}
