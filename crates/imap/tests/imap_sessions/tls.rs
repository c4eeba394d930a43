//! STARTTLS (RFC 9051 §6.2.1) and implicit TLS (RFC 8314) with a self-signed certificate.

use crate::common;
use common::*;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// Accepts the server's self-signed certificate.
fn connector() -> TlsConnector {
    TlsConnector::from(mailroom_net::tls_client::opportunistic_client_config().unwrap())
}

async fn read_line(tcp: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        let n = tokio::time::timeout(WAIT, tcp.read(&mut byte))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed");
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap().trim_end().to_string()
}

#[tokio::test]
async fn starttls_discards_pipelined_commands() {
    let srv = start_tls(false).await;
    let mut tcp = TcpStream::connect(srv.addr).await.unwrap();
    let greeting = read_line(&mut tcp).await;
    assert!(greeting.contains(" STARTTLS "), "{greeting}");
    // A command injected after STARTTLS in the same packet must never run.
    tcp.write_all(b"a STARTTLS\r\nb LOGOUT\r\n").await.unwrap();
    assert_eq!(read_line(&mut tcp).await, "a OK begin TLS negotiation now");
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector().connect(name, tcp).await.unwrap();
    let mut c = Client::raw(Box::new(tls));
    let caps = c.cmd("c CAPABILITY").await;
    assert_eq!(caps.len(), 2, "{caps:?}");
    assert!(!caps[0].contains("STARTTLS"), "{caps:?}");
    assert_eq!(c.cmd("d STARTTLS").await, ["d BAD TLS is already active"]);
    assert!(c.cmd(&format!("e LOGIN {USER} {PASS}")).await[0].starts_with("e OK"));
}

#[tokio::test]
async fn implicit_tls() {
    let srv = start_tls(true).await;
    let tcp = TcpStream::connect(srv.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector().connect(name, tcp).await.unwrap();
    let (mut c, greeting) = Client::over(Box::new(tls)).await;
    assert!(greeting.starts_with("* OK [CAPABILITY"), "{greeting}");
    assert!(!greeting.contains("STARTTLS"));
    assert!(c.cmd(&format!("a LOGIN {USER} {PASS}")).await[0].starts_with("a OK"));
}
