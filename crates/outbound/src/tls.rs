//! Opportunistic TLS for STARTTLS (RFC 3207) to other mail servers.
//!
//! The server's certificate is deliberately NOT verified: STARTTLS between MTAs without an
//! MTA-STS or DANE policy is opportunistic security (RFC 7435). The reasoning, and the verifier,
//! live in [`mailroom_net::tls_client`].

use rustls::pki_types::ServerName;
use std::net::IpAddr;
use tokio_rustls::TlsConnector;

/// A TLS connector that accepts any server certificate (see the module comment for why).
pub fn opportunistic_connector() -> Result<TlsConnector, rustls::Error> {
    Ok(TlsConnector::from(
        mailroom_net::tls_client::opportunistic_client_config()?,
    ))
}

/// The name sent as SNI: the MX host name when it is one, else the address we connected to.
pub fn server_name(host: &str, ip: IpAddr) -> ServerName<'static> {
    let host = host.trim_end_matches('.');
    ServerName::try_from(host.to_string()).unwrap_or_else(|_| ServerName::from(ip))
}
