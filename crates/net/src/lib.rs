//! Network plumbing shared by every protocol: binding listeners, the accept loop with its
//! connection limits, the per-connection command rate, the server's certificates (configured,
//! self-signed or per name by SNI, reloadable), implicit TLS and the STARTTLS upgrade, the one
//! [`Connection`] type every protocol reads and writes through (server and client side); and
//! the client side of opportunistic TLS ([`tls_client`]).

pub mod acme;
mod certs;
mod conn;
pub mod deflate;
mod gate;
mod rate;
mod serve;
pub mod stats;
mod stream;
mod tls;
pub mod tls_client;

pub use certs::{CertSources, CertStore, CertSummary};
pub use conn::{Connection, Line, WRITE_CHUNK, WRITE_TIMEOUT};
pub use gate::{
    ConnectionGate, ConnectionLimits, ConnectionPermit, Refusal, TooManyForAccount, address_key,
};
pub use rate::{RateConfig, RateLimit, Throttled};
pub use serve::{Accepted, ServeOptions, TlsMode, serve};
pub use stream::{MailStream, STARTTLS_HANDSHAKE};
pub use tls::{TlsError, TlsFiles, load_or_create_tls};
pub use tokio_rustls::TlsAcceptor;

use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds every address of a listener list (e.g. `["0.0.0.0:143", "[::]:143"]`).
pub async fn bind_all(addrs: &[String]) -> std::io::Result<Vec<TcpListener>> {
    let mut out = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let listener = TcpListener::bind(addr.as_str())
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        out.push(listener);
    }
    Ok(out)
}

/// Loopback clients may send passwords without TLS (RFC 8314 lets local set-ups skip it).
pub fn is_loopback(peer: &SocketAddr) -> bool {
    match peer.ip() {
        std::net::IpAddr::V4(ip) => ip.is_loopback(),
        std::net::IpAddr::V6(ip) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_addresses() {
        for (addr, expected) in [
            ("127.0.0.1:1", true),
            ("127.9.9.9:1", true),
            ("[::1]:1", true),
            ("[::ffff:127.0.0.1]:1", true),
            ("192.0.2.1:1", false),
            ("[2001:db8::1]:1", false),
        ] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(is_loopback(&addr), expected, "{addr}");
        }
    }
}
