//! A TLS client configuration for opportunistic TLS, where the server's certificate is
//! deliberately NOT verified.
//!
//! Only for these uses:
//! - STARTTLS to other mail servers (RFC 3207). Between MTAs, STARTTLS without authentication is
//!   opportunistic security (RFC 7435 §1.3, §3): it defeats passive eavesdroppers, and an active
//!   attacker could strip the STARTTLS offer anyway, so refusing an unverifiable certificate
//!   would only push the mail to plaintext (or, worse, delay it) with no gain. Most MX hosts
//!   present self-signed or mismatched certificates. Authenticated transport needs a policy
//!   saying the receiver supports it (MTA-STS, RFC 8461; DANE, RFC 7672); those are not
//!   implemented yet.
//! - Tests talking to a server with a self-signed certificate, looking at which certificate was
//!   sent rather than whether it is trusted.
//!
//! Never for anything where the user expects the peer to be authenticated (submission or IMAP
//! clients, MTA-STS/DANE-protected delivery): against an active attacker this gives no
//! protection at all. Handshake signatures are still checked, so the session key is bound to
//! the certificate the server presented.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// A client configuration (ring, safe default protocol versions, no client certificate) that
/// accepts any server certificate but verifies the handshake signatures. See the module comment
/// for when that is safe.
pub fn opportunistic_client_config() -> Result<Arc<ClientConfig>, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Accepts any certificate chain; checks handshake signatures with the provider's algorithms.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
