//! Implicit TLS and the STARTTLS upgrade with a real rustls client that trusts only the
//! self-signed certificate the server generated.

use mailroom_net::{MailStream, load_or_create_tls};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsConnector;

fn client_for(cert_path: &std::path::Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_path).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

#[tokio::test]
async fn implicit_tls_and_starttls() {
    let dir = tempfile::tempdir().unwrap();
    let acceptor = load_or_create_tls(None, dir.path(), "mail.example.test").unwrap();
    let connector = client_for(&dir.path().join("self-signed.crt"));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();

    let server = tokio::spawn(async move {
        // First connection: implicit TLS.
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = MailStream::accept_tls(tcp, &acceptor).await.unwrap();
        assert!(tls.is_tls());
        tls.write_all(b"* OK secure\r\n").await.unwrap();
        tls.flush().await.unwrap();
        // Second connection: plain, then STARTTLS.
        let (tcp, _) = listener.accept().await.unwrap();
        let mut plain = MailStream::Plain(tcp);
        plain
            .write_all(b"* OK plain, say STARTTLS\r\n")
            .await
            .unwrap();
        let mut line = [0u8; 10];
        plain.read_exact(&mut line).await.unwrap();
        assert_eq!(&line, b"STARTTLS\r\n");
        let mut upgraded = plain.starttls(&acceptor).await.unwrap();
        upgraded.write_all(b"* OK upgraded\r\n").await.unwrap();
        upgraded.flush().await.unwrap();
        assert!(
            upgraded.starttls(&acceptor).await.is_err(),
            "no second upgrade"
        );
    });

    let name = ServerName::try_from("mail.example.test").unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let mut tls = BufReader::new(connector.connect(name.clone(), tcp).await.unwrap());
    let mut line = String::new();
    tls.read_line(&mut line).await.unwrap();
    assert_eq!(line, "* OK secure\r\n");

    let mut tcp = BufReader::new(TcpStream::connect(addr).await.unwrap());
    line.clear();
    tcp.read_line(&mut line).await.unwrap();
    assert_eq!(line, "* OK plain, say STARTTLS\r\n");
    tcp.get_mut().write_all(b"STARTTLS\r\n").await.unwrap();
    let mut tls = BufReader::new(connector.connect(name, tcp.into_inner()).await.unwrap());
    line.clear();
    tls.read_line(&mut line).await.unwrap();
    assert_eq!(line, "* OK upgraded\r\n");
    server.await.unwrap();
}

/// A client that asks for STARTTLS and then never starts the handshake is let go after
/// `STARTTLS_HANDSHAKE` (paused clock: the wait takes no real time).
#[tokio::test(start_paused = true)]
async fn starttls_handshake_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let acceptor = load_or_create_tls(None, dir.path(), "mail.example.test").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _silent = TcpStream::connect(addr).await.unwrap();
    let (tcp, _) = listener.accept().await.unwrap();
    let started = tokio::time::Instant::now();
    let result = MailStream::Plain(tcp).starttls(&acceptor).await;
    let error = result.err().expect("the handshake cannot succeed");
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(started.elapsed(), mailroom_net::STARTTLS_HANDSHAKE);
}
