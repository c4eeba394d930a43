//! Certificates chosen by SNI, and reloads: a rustls client over an in-memory pipe asks for a
//! name and looks at the certificate it was shown.

use mailroom_net::tls_client::opportunistic_client_config;
use mailroom_net::{CertSources, CertStore, TlsError, TlsFiles};
use rustls::pki_types::ServerName;
use std::path::Path;
use std::sync::Arc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// A certificate for `name`, written as `cert` + `key`; returns its DER form.
fn write_cert(name: &str, cert: &Path, key: &Path) -> Vec<u8> {
    let generated = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    if let Some(dir) = cert.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(cert, generated.cert.pem()).unwrap();
    std::fs::write(key, generated.signing_key.serialize_pem()).unwrap();
    generated.cert.der().to_vec()
}

struct Setup {
    dir: tempfile::TempDir,
    default: Vec<u8>,
    a: Vec<u8>,
    b: Vec<u8>,
    store: Arc<CertStore>,
}

/// Default "default.test"; "a.test" in the flat layout, "b.test" in certbot's.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let default = write_cert(
        "default.test",
        &root.join("default.crt"),
        &root.join("default.key"),
    );
    let certs = root.join("certs");
    let a = write_cert(
        "a.test",
        &certs.join("a.test.crt"),
        &certs.join("a.test.key"),
    );
    let b = write_cert(
        "b.test",
        &certs.join("b.test/fullchain.pem"),
        &certs.join("b.test/privkey.pem"),
    );
    let store = CertStore::open(CertSources {
        default: Some(TlsFiles {
            cert: root.join("default.crt"),
            key: root.join("default.key"),
        }),
        certs_dir: Some(certs),
        acme_dir: None,
        self_signed_dir: root.join("self"),
        hostname: "unused.test".into(),
    })
    .unwrap();
    Setup {
        dir,
        default,
        a,
        b,
        store,
    }
}

/// The certificate the server shows a client asking for `sni` (None: no SNI at all).
async fn presented(acceptor: &TlsAcceptor, sni: Option<&str>) -> Vec<u8> {
    // Any certificate is accepted: the tests look at which one was sent, not whether it is
    // trusted.
    let mut config = Arc::unwrap_or_clone(opportunistic_client_config().unwrap());
    config.enable_sni = sni.is_some();
    let name = ServerName::try_from(sni.unwrap_or("no-sni.invalid").to_string()).unwrap();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let connector = TlsConnector::from(Arc::new(config));
    let (client, server) = tokio::join!(
        connector.connect(name, client_io),
        acceptor.accept(server_io)
    );
    server.unwrap();
    let client = client.unwrap();
    client.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test]
async fn names_pick_their_certificate_and_others_get_the_default() {
    let s = setup();
    let acceptor = s.store.acceptor().unwrap();
    assert_eq!(presented(&acceptor, Some("a.test")).await, s.a);
    assert_eq!(presented(&acceptor, Some("B.Test")).await, s.b);
    // A certificate for a name also answers one label deeper.
    assert_eq!(presented(&acceptor, Some("mail.a.test")).await, s.a);
    assert_eq!(presented(&acceptor, Some("c.test")).await, s.default);
    assert_eq!(presented(&acceptor, None).await, s.default);
    assert_eq!(s.store.summary().names, ["a.test", "b.test"]);
}

#[tokio::test]
async fn reload_picks_up_a_replaced_certificate() {
    let s = setup();
    let acceptor = s.store.acceptor().unwrap();
    let certs = s.dir.path().join("certs");
    let renewed = write_cert(
        "a.test",
        &certs.join("a.test.crt"),
        &certs.join("a.test.key"),
    );
    // Nothing changes until the reload.
    assert_eq!(presented(&acceptor, Some("a.test")).await, s.a);
    let summary = s.store.reload().unwrap();
    assert_eq!(summary.names, ["a.test", "b.test"]);
    assert_eq!(presented(&acceptor, Some("a.test")).await, renewed);
    assert_eq!(presented(&acceptor, Some("b.test")).await, s.b);
}

#[tokio::test]
async fn a_broken_file_keeps_the_old_certificates() {
    let s = setup();
    let acceptor = s.store.acceptor().unwrap();
    let certs = s.dir.path().join("certs");
    std::fs::write(certs.join("b.test/fullchain.pem"), "not a certificate").unwrap();
    assert!(matches!(s.store.reload(), Err(TlsError::Pem { .. })));
    assert_eq!(presented(&acceptor, Some("b.test")).await, s.b);

    // A renewal half copied: the new certificate with the old key.
    write_cert(
        "b.test",
        &certs.join("b.test/fullchain.pem"),
        &s.dir.path().join("elsewhere.key"),
    );
    assert!(matches!(s.store.reload(), Err(TlsError::Pair { .. })));
    assert_eq!(presented(&acceptor, Some("b.test")).await, s.b);
    assert_eq!(presented(&acceptor, Some("a.test")).await, s.a);
}

#[tokio::test]
async fn a_certificate_without_its_key_is_an_error() {
    let s = setup();
    let certs = s.dir.path().join("certs");
    write_cert(
        "c.test",
        &certs.join("c.test.crt"),
        &s.dir.path().join("c.key"),
    );
    assert!(matches!(s.store.reload(), Err(TlsError::Read { .. })));
    assert_eq!(s.store.summary().names, ["a.test", "b.test"]);
}

/// ACME's directory: its certificates join the named ones, an administrator's own in
/// `certs_dir` win for the same name, and the hostname's becomes the default when none is
/// configured (instead of a self-signed one).
#[tokio::test]
async fn issued_certificates_join_and_the_hostnames_is_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let certs = root.join("certs");
    let own = write_cert(
        "a.test",
        &certs.join("a.test.crt"),
        &certs.join("a.test.key"),
    );
    let acme = root.join("acme");
    let _shadowed = write_cert("a.test", &acme.join("a.test.crt"), &acme.join("a.test.key"));
    let host = write_cert(
        "mail.test",
        &acme.join("mail.test.crt"),
        &acme.join("mail.test.key"),
    );
    let domain = write_cert(
        "autoconfig.b.test",
        &acme.join("autoconfig.b.test.crt"),
        &acme.join("autoconfig.b.test.key"),
    );
    let store = CertStore::open(CertSources {
        default: None,
        certs_dir: Some(certs),
        acme_dir: Some(acme),
        self_signed_dir: root.join("self"),
        hostname: "mail.test".into(),
    })
    .unwrap();
    let acceptor = store.acceptor().unwrap();
    assert_eq!(presented(&acceptor, Some("a.test")).await, own);
    assert_eq!(
        presented(&acceptor, Some("autoconfig.b.test")).await,
        domain
    );
    assert_eq!(presented(&acceptor, None).await, host);
    assert_eq!(presented(&acceptor, Some("other.test")).await, host);
    assert!(
        !root.join("self").exists(),
        "no self-signed certificate was needed"
    );
}
