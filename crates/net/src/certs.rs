//! The certificates the server presents, chosen by SNI and reloadable without a restart.
//!
//! A default certificate (configured, or self-signed) answers clients that send no name or an
//! unknown one. A directory adds one certificate per name, in either layout:
//! - `<name>.crt` + `<name>.key`
//! - `<name>/fullchain.pem` + `<name>/privkey.pem` (certbot's `live/` directory)
//!
//! and a certificate for `<name>` also answers `*.<name>` (one label deeper), so
//! `example.com.crt` serves `example.com` and `mail.example.com`.
//!
//! `reload` re-reads everything and swaps the set only if every file parses and every key
//! matches its certificate: a half-copied renewal keeps the old certificates working.

use crate::tls::{TlsError, TlsFiles, self_signed};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use tokio_rustls::TlsAcceptor;

/// Where the certificates come from.
#[derive(Debug, Clone)]
pub struct CertSources {
    /// The default certificate; None: a self-signed pair in `self_signed_dir`.
    pub default: Option<TlsFiles>,
    /// Per-name certificates (see the module documentation); None: the default only.
    pub certs_dir: Option<PathBuf>,
    /// Certificates issued by ACME, in the `<name>.crt` layout; `certs_dir` wins for a name
    /// in both. The one for `hostname` is the default when no default is configured.
    pub acme_dir: Option<PathBuf>,
    /// Where a self-signed default is kept (created at first start).
    pub self_signed_dir: PathBuf,
    /// The name a self-signed default is made for.
    pub hostname: String,
}

/// What a (re)load found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// Names with a certificate of their own, sorted.
    pub names: Vec<String>,
}

impl fmt::Display for CertSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.names.is_empty() {
            write!(f, "default certificate only")
        } else {
            write!(
                f,
                "default certificate and {} named: {}",
                self.names.len(),
                self.names.join(", ")
            )
        }
    }
}

/// The current certificates; the TLS acceptor asks it for each handshake.
pub struct CertStore {
    sources: CertSources,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertSet>>,
}

struct CertSet {
    default: Arc<CertifiedKey>,
    /// Lower-case name → certificate.
    named: BTreeMap<String, Arc<CertifiedKey>>,
}

impl CertStore {
    /// Loads every certificate (creating the self-signed default if needed).
    pub fn open(sources: CertSources) -> Result<Arc<Self>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let set = load_set(&sources, &provider)?;
        Ok(Arc::new(CertStore {
            sources,
            provider,
            current: RwLock::new(Arc::new(set)),
        }))
    }

    /// Re-reads the files. On any error the certificates in use stay as they were.
    pub fn reload(&self) -> Result<CertSummary, TlsError> {
        let set = load_set(&self.sources, &self.provider)?;
        let summary = set.summary();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(set);
        Ok(summary)
    }

    /// The names with a certificate of their own.
    pub fn summary(&self) -> CertSummary {
        self.snapshot().summary()
    }

    /// An acceptor that asks this store at every handshake, so a reload reaches every
    /// listener without rebuilding anything. TLS 1.2 and 1.3 only.
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, TlsError> {
        let config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// `acceptor` offering `protocols` by ALPN (HTTP: "h2", "http/1.1"). Only for listeners
    /// of that protocol: a server with ALPN set refuses clients that offer other names.
    pub fn acceptor_with_alpn(
        self: &Arc<Self>,
        protocols: &[&[u8]],
    ) -> Result<TlsAcceptor, TlsError> {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    fn snapshot(&self) -> Arc<CertSet> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for CertStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertStore")
            .field("sources", &self.sources)
            .field("names", &self.summary().names)
            .finish()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.snapshot().pick(client_hello.server_name()))
    }
}

impl CertSet {
    /// The exact name, else the parent name (its wildcard), else the default.
    fn pick(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = server_name else {
            return self.default.clone();
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(key) = self.named.get(&name) {
            return key.clone();
        }
        name.split_once('.')
            .and_then(|(_, parent)| self.named.get(parent))
            .unwrap_or(&self.default)
            .clone()
    }

    fn summary(&self) -> CertSummary {
        CertSummary {
            names: self.named.keys().cloned().collect(),
        }
    }
}

fn load_set(sources: &CertSources, provider: &CryptoProvider) -> Result<CertSet, TlsError> {
    let mut named = BTreeMap::new();
    if let Some(dir) = &sources.certs_dir {
        for (name, files) in scan_dir(dir)? {
            let key = load_pair(&files, provider)?;
            if named.insert(name.clone(), key).is_some() {
                return Err(TlsError::DuplicateName {
                    dir: dir.clone(),
                    name,
                });
            }
        }
    }
    let mut acme_default = None;
    if let Some(dir) = sources.acme_dir.as_ref().filter(|d| d.is_dir()) {
        let hostname = sources.hostname.to_ascii_lowercase();
        for (name, files) in scan_dir(dir)? {
            if name == hostname {
                acme_default = Some(files.clone());
            }
            if let std::collections::btree_map::Entry::Vacant(slot) = named.entry(name) {
                slot.insert(load_pair(&files, provider)?);
            }
        }
    }
    let default_files = match (&sources.default, acme_default) {
        (Some(files), _) => files.clone(),
        (None, Some(issued)) => issued,
        (None, None) => self_signed(&sources.self_signed_dir, &sources.hostname)?,
    };
    let default = load_pair(&default_files, provider)?;
    Ok(CertSet {
        default: Arc::new(default),
        named: named.into_iter().map(|(n, k)| (n, Arc::new(k))).collect(),
    })
}

/// The (name, files) pairs of a certificate directory, in both layouts. Other files (a
/// README, the `.key` halves) are skipped.
fn scan_dir(dir: &Path) -> Result<Vec<(String, TlsFiles)>, TlsError> {
    let read_err = |source| TlsError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if path.is_dir() {
            let cert = path.join("fullchain.pem");
            if cert.is_file() {
                let key = path.join("privkey.pem");
                found.push((file_name.to_ascii_lowercase(), TlsFiles { cert, key }));
            }
        } else if let Some(name) = file_name.strip_suffix(".crt") {
            let key = path.with_file_name(format!("{name}.key"));
            found.push((name.to_ascii_lowercase(), TlsFiles { cert: path, key }));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// A certificate chain and its key, checked to belong together.
pub(crate) fn load_pair(
    files: &TlsFiles,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let pem_err = |path: &Path, what| TlsError::Pem {
        path: path.to_path_buf(),
        what,
    };
    let cert_pem = read(&files.cert)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| pem_err(&files.cert, "certificate"))?;
    if certs.is_empty() {
        return Err(pem_err(&files.cert, "certificate"));
    }
    let key_pem = read(&files.key)?;
    let key =
        PrivateKeyDer::from_pem_slice(&key_pem).map_err(|_| pem_err(&files.key, "private key"))?;
    CertifiedKey::from_der(certs, key, provider).map_err(|source| TlsError::Pair {
        cert: files.cert.clone(),
        source,
    })
}
