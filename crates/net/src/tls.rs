//! The server's TLS configuration: certificate and key from configured PEM files, or a
//! self-signed certificate generated at first start so TLS works with zero set-up.

use crate::certs::{CertSources, CertStore};
use std::path::{Path, PathBuf};
use thiserror::Error;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no usable {what}")]
    Pem { path: PathBuf, what: &'static str },
    #[error("generating a self-signed certificate: {0}")]
    Generate(String),
    #[error("{cert} and its key don't belong together: {source}")]
    Pair {
        cert: PathBuf,
        source: rustls::Error,
    },
    #[error("{dir} holds two certificates for {name}")]
    DuplicateName { dir: PathBuf, name: String },
    #[error("the certificate and key don't make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Paths to a PEM certificate chain and its private key.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Builds the acceptor from `configured` files, or from a self-signed pair in `dir` (created
/// for `hostname` if missing). TLS 1.2 and 1.3 only. For per-name certificates and reloads,
/// use [`CertStore`](crate::CertStore) directly.
pub fn load_or_create_tls(
    configured: Option<&TlsFiles>,
    dir: &Path,
    hostname: &str,
) -> Result<TlsAcceptor, TlsError> {
    CertStore::open(CertSources {
        default: configured.cloned(),
        certs_dir: None,
        acme_dir: None,
        self_signed_dir: dir.to_path_buf(),
        hostname: hostname.to_string(),
    })?
    .acceptor()
}

/// How long a generated certificate is valid: about what public CAs issue, so a client that
/// pinned it meets a change once a year at most.
const SELF_SIGNED_DAYS: i64 = 365;
/// A certificate this close to its end is replaced: a generated one at start, an ACME one at
/// its next check (Let's Encrypt's advice: a third of its 90 days).
pub(crate) const RENEW_DAYS_BEFORE: i64 = 30;

/// Whether `cert` ends within `RENEW_DAYS_BEFORE` days of `now` (Unix seconds).
pub(crate) fn renewal_due(cert: &x509_parser::certificate::X509Certificate<'_>, now: i64) -> bool {
    cert.validity().not_after.timestamp() - now < RENEW_DAYS_BEFORE * 86_400
}

/// The self-signed pair in `dir`, made for `hostname` when there is none, when the one there
/// names another host, or when it ends within `RENEW_DAYS_BEFORE` days.
pub(crate) fn self_signed(dir: &Path, hostname: &str) -> Result<TlsFiles, TlsError> {
    let files = TlsFiles {
        cert: dir.join("self-signed.crt"),
        key: dir.join("self-signed.key"),
    };
    let now = time::OffsetDateTime::now_utc();
    if files.cert.exists() && files.key.exists() {
        match std::fs::read(&files.cert) {
            Ok(pem) => match still_good(&pem, hostname, now) {
                Ok(()) => return Ok(files),
                Err(why) => tracing::warn!("replacing the self-signed certificate: {why}"),
            },
            Err(e) => tracing::warn!("replacing the self-signed certificate: {e}"),
        }
    }
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TlsError::Read { path, source }
    };
    std::fs::create_dir_all(dir).map_err(read_err(dir))?;
    let (cert, key) = generate(hostname, now)?;
    write_private(&files.key, key.as_bytes()).map_err(read_err(&files.key))?;
    std::fs::write(&files.cert, cert).map_err(read_err(&files.cert))?;
    tracing::warn!(
        "no TLS certificate configured: generated a self-signed one for {hostname} at {} \
         (clients will warn; valid {SELF_SIGNED_DAYS} days, renewed at start before it ends)",
        files.cert.display()
    );
    Ok(files)
}

/// A certificate (PEM) and its key (PEM) for `hostname` (and localhost), CN = `hostname`,
/// valid from a day before `now` (clocks differ) for `SELF_SIGNED_DAYS`.
fn generate(hostname: &str, now: time::OffsetDateTime) -> Result<(String, String), TlsError> {
    let generate_err = |e: rcgen::Error| TlsError::Generate(e.to_string());
    let mut names = vec![hostname.to_string()];
    if hostname != "localhost" {
        names.push("localhost".to_string());
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(generate_err)?;
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, hostname);
    name.push(rcgen::DnType::OrganizationName, "Mailroom (self-signed)");
    params.distinguished_name = name;
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    let key = rcgen::KeyPair::generate().map_err(generate_err)?;
    let cert = params.self_signed(&key).map_err(generate_err)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Why a generated certificate must be replaced, if it must.
fn still_good(pem: &[u8], hostname: &str, now: time::OffsetDateTime) -> Result<(), String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).map_err(|e| format!("unreadable: {e}"))?;
    let cert = pem.parse_x509().map_err(|e| format!("unreadable: {e}"))?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default();
    if !cn.eq_ignore_ascii_case(hostname) {
        return Err(format!("it names {cn:?}, not {hostname:?}"));
    }
    if renewal_due(&cert, now.unix_timestamp()) {
        return Err(format!("it ends within {RENEW_DAYS_BEFORE} days"));
    }
    Ok(())
}

/// Writes a file readable by its owner only (a private key).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        load_or_create_tls(None, dir.path(), "mail.example.test").unwrap();
        let first = std::fs::read(dir.path().join("self-signed.crt")).unwrap();
        load_or_create_tls(None, dir.path(), "mail.example.test").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("self-signed.crt")).unwrap(),
            first
        );
        let files = TlsFiles {
            cert: dir.path().join("self-signed.crt"),
            key: dir.path().join("self-signed.key"),
        };
        load_or_create_tls(Some(&files), dir.path(), "ignored").unwrap();
    }

    #[test]
    fn self_signed_names_the_host_for_a_year_and_is_renewed_near_its_end() {
        let dir = tempfile::tempdir().unwrap();
        self_signed(dir.path(), "mail.example.test").unwrap();
        let pem = std::fs::read(dir.path().join("self-signed.crt")).unwrap();
        let (_, parsed) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let cert = parsed.parse_x509().unwrap();
        let cn = cert.subject().iter_common_name().next().unwrap();
        assert_eq!(cn.as_str().unwrap(), "mail.example.test");
        let validity = cert.validity();
        let days = (validity.not_after.timestamp() - validity.not_before.timestamp()) / 86_400;
        assert_eq!(days, SELF_SIGNED_DAYS + 1);
        let now = time::OffsetDateTime::now_utc();
        assert!(still_good(&pem, "mail.example.test", now).is_ok());
        assert!(still_good(&pem, "other.example.test", now).is_err());
        let near_end = now + time::Duration::days(SELF_SIGNED_DAYS - RENEW_DAYS_BEFORE + 1);
        assert!(still_good(&pem, "mail.example.test", near_end).is_err());

        // Another hostname: a new certificate.
        self_signed(dir.path(), "mx.example.test").unwrap();
        assert_ne!(
            std::fs::read(dir.path().join("self-signed.crt")).unwrap(),
            pem
        );
    }

    #[test]
    fn bad_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "not pem").unwrap();
        let files = TlsFiles {
            cert: junk.clone(),
            key: junk,
        };
        assert!(matches!(
            load_or_create_tls(Some(&files), dir.path(), "x"),
            Err(TlsError::Pem { .. })
        ));
    }
}
