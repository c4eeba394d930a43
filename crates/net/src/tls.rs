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
        self_signed_dir: dir.to_path_buf(),
        hostname: hostname.to_string(),
    })?
    .acceptor()
}

pub(crate) fn self_signed(dir: &Path, hostname: &str) -> Result<TlsFiles, TlsError> {
    let files = TlsFiles {
        cert: dir.join("self-signed.crt"),
        key: dir.join("self-signed.key"),
    };
    if files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TlsError::Read { path, source }
    };
    std::fs::create_dir_all(dir).map_err(read_err(dir))?;
    let names = vec![hostname.to_string(), "localhost".to_string()];
    let generated =
        rcgen::generate_simple_self_signed(names).map_err(|e| TlsError::Generate(e.to_string()))?;
    write_private(&files.key, generated.signing_key.serialize_pem().as_bytes())
        .map_err(read_err(&files.key))?;
    std::fs::write(&files.cert, generated.cert.pem()).map_err(read_err(&files.cert))?;
    tracing::warn!(
        "no TLS certificate configured: generated a self-signed one at {} (clients will warn)",
        files.cert.display()
    );
    Ok(files)
}

/// Writes a file readable by its owner only (a private key).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
