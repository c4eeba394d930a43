//! DKIM signing of submitted mail (RFC 6376) and the DNS records a domain publishes so that
//! other servers trust our mail and clients find our services: MX, SPF (RFC 7208), the DKIM
//! key, DMARC (RFC 7489) and the service SRV records (RFC 6186, RFC 8314 §5.1).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::generate::DkimKeyPair;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer};
use std::fmt;
use thiserror::Error;

pub use mailroom_store::DkimKey;

/// RFC 8301 §3.2: at least 1024 bits; 2048 is today's norm and still fits one TXT record.
const RSA_BITS: usize = 2048;

/// The fields we sign (RFC 6376 §5.4.1 lists the ones that SHOULD be signed). A field named
/// here but absent is still covered: nobody can add it later without breaking the signature.
const SIGNED_FIELDS: &[&str] = &[
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Reply-To",
    "In-Reply-To",
    "References",
];

#[derive(Debug, Error)]
pub enum DkimError {
    #[error("generating the key: {0}")]
    Generate(String),
    #[error("the private key is not a PKCS#1 or PKCS#8 RSA key in PEM form: {0}")]
    Key(String),
    #[error("signing: {0}")]
    Sign(String),
}

/// A fresh RSA-2048 key for `selector`, in PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`).
pub fn generate_key(selector: &str) -> Result<DkimKey, DkimError> {
    let pair =
        DkimKeyPair::generate_rsa(RSA_BITS).map_err(|e| DkimError::Generate(e.to_string()))?;
    Ok(DkimKey {
        selector: selector.to_string(),
        private_key_pem: pem("RSA PRIVATE KEY", pair.private_key()),
    })
}

/// Signs `message` for `domain` (relaxed/relaxed, rsa-sha256) and returns the whole
/// `DKIM-Signature: ...\r\n` field, to be put on top of the message.
pub fn sign(message: &[u8], domain: &str, key: &DkimKey) -> Result<String, DkimError> {
    let signer = DkimSigner::from_key(load(key)?)
        .domain(domain)
        .selector(key.selector.as_str())
        .headers(SIGNED_FIELDS.iter().copied())
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed);
    let signature = signer
        .sign(message)
        .map_err(|e| DkimError::Sign(e.to_string()))?;
    Ok(signature.to_header())
}

/// The public key for the `p=` tag: base64 of the DER SubjectPublicKeyInfo, the form every
/// verifier accepts (RFC 6376 §3.6.1; OpenDKIM publishes the same).
pub fn public_key(key: &DkimKey) -> Result<String, DkimError> {
    let pkcs1 = load(key)?.public_key();
    Ok(STANDARD.encode(spki_from_pkcs1(&pkcs1)))
}

fn load(key: &DkimKey) -> Result<RsaKey<Sha256>, DkimError> {
    let (label, der) = unpem(&key.private_key_pem)?;
    let der = match label.as_str() {
        "RSA PRIVATE KEY" => PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)),
        "PRIVATE KEY" => PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der)),
        other => return Err(DkimError::Key(format!("unexpected PEM label {other:?}"))),
    };
    RsaKey::<Sha256>::from_key_der(der).map_err(|e| DkimError::Key(e.to_string()))
}

/// RFC 7468 textual encoding, 64 columns.
fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn unpem(text: &str) -> Result<(String, Vec<u8>), DkimError> {
    let mut label = None;
    let mut body = String::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            label = Some(rest.trim_end_matches('-').to_string());
        } else if line.starts_with("-----END ") {
            break;
        } else if label.is_some() {
            body.push_str(line);
        }
    }
    let label = label.ok_or_else(|| DkimError::Key("no BEGIN line".into()))?;
    let der = STANDARD
        .decode(body)
        .map_err(|e| DkimError::Key(e.to_string()))?;
    Ok((label, der))
}

/// Wraps a PKCS#1 RSAPublicKey in a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7, RFC 3279
/// §2.3.1): `SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING { 0, key } }`.
fn spki_from_pkcs1(pkcs1: &[u8]) -> Vec<u8> {
    const RSA_ALGORITHM: &[u8] = &[
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bit_string = vec![0u8];
    bit_string.extend_from_slice(pkcs1);
    let mut inner = RSA_ALGORITHM.to_vec();
    inner.extend(der_tlv(0x03, &bit_string));
    der_tlv(0x30, &inner)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    Mx,
    Txt,
    Srv,
    Cname,
}

/// One record to publish, in zone-file terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// The owner name, fully qualified, without the trailing dot.
    pub name: String,
    pub kind: RecordType,
    /// The record data: `10 mail.example.com.` for MX, the text for TXT (unquoted),
    /// `priority weight port target.` for SRV.
    pub value: String,
}

impl fmt::Display for DnsRecord {
    /// A zone-file line; TXT text is cut into quoted strings of at most 255 octets
    /// (RFC 1035 §3.3.14; RFC 7208 §3.3 and RFC 6376 §3.6.2.2 join them back).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, data) = match self.kind {
            RecordType::Mx => ("MX", self.value.clone()),
            RecordType::Srv => ("SRV", self.value.clone()),
            RecordType::Cname => ("CNAME", self.value.clone()),
            RecordType::Txt => {
                let parts: Vec<String> = self
                    .value
                    .as_bytes()
                    .chunks(255)
                    .map(|c| format!("\"{}\"", String::from_utf8_lossy(c).replace('"', "\\\"")))
                    .collect();
                ("TXT", parts.join(" "))
            }
        };
        write!(f, "{}. 3600 IN {kind} {data}", self.name)
    }
}

/// The mail records `domain` should publish when its mail is served by `hostname`: MX, SPF,
/// DKIM (left out when there is no key, or it can't be read) and DMARC. The records that let
/// mail programs find the servers (SRV, autoconfig) depend on the listeners and are made by
/// `mailroom-admin`.
pub fn dns_records(domain: &str, hostname: &str, key: Option<&DkimKey>) -> Vec<DnsRecord> {
    let domain = domain.trim_end_matches('.').to_lowercase();
    let host = hostname.trim_end_matches('.');
    let txt = |name: String, value: String| DnsRecord {
        name,
        kind: RecordType::Txt,
        value,
    };
    let mut out = vec![
        DnsRecord {
            name: domain.clone(),
            kind: RecordType::Mx,
            value: format!("10 {host}."),
        },
        // Only our MX hosts send for the domain; anything else fails (RFC 7208 §5.4, §5.1).
        txt(domain.clone(), "v=spf1 mx -all".into()),
    ];
    if let Some(key) = key {
        match public_key(key) {
            Ok(p) => out.push(txt(
                format!("{}._domainkey.{domain}", key.selector),
                format!("v=DKIM1; k=rsa; p={p}"),
            )),
            Err(e) => tracing::warn!(%domain, "no DKIM record: {e}"),
        }
    }
    // Quarantine rather than reject: a forwarded message that breaks DKIM lands in Junk
    // instead of vanishing; aggregate reports go to the domain's own postmaster.
    out.push(txt(
        format!("_dmarc.{domain}"),
        format!("v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}"),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_and_der_lengths() {
        let text = pem("RSA PRIVATE KEY", &[1, 2, 3]);
        assert_eq!(
            unpem(&text).unwrap(),
            ("RSA PRIVATE KEY".into(), vec![1, 2, 3])
        );
        assert_eq!(der_tlv(4, &[0; 3])[..2], [4, 3]);
        assert_eq!(der_tlv(4, &[0; 300])[..4], [4, 0x82, 1, 44]);
        assert!(unpem("nothing").is_err());
    }

    /// Sign, then verify with mail-auth against the published record, from a resolver that
    /// knows only that record.
    #[tokio::test]
    async fn signature_verifies_against_published_key() {
        use mail_auth::{AuthenticatedMessage, DkimResult};
        let key = generate_key("s1").unwrap();
        let message = b"From: Ann <ann@example.test>\r\nTo: bob@remote.example\r\n\
Subject: hi\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\n\r\nhello\r\n";
        let header = sign(message, "example.test", &key).unwrap();
        assert!(header.starts_with("DKIM-Signature: "), "{header}");
        assert!(header.contains("a=rsa-sha256"), "{header}");
        assert!(header.contains("c=relaxed/relaxed"), "{header}");
        let records = dns_records("example.test", "mx.example.test", Some(&key));
        let dkim = records
            .iter()
            .find(|r| r.name == "s1._domainkey.example.test")
            .unwrap();
        assert!(
            dkim.value.starts_with("v=DKIM1; k=rsa; p=MII"),
            "{}",
            dkim.value
        );
        let dns = crate::dns::Dns::offline().unwrap();
        dns.add_txt(&dkim.name, &dkim.value).unwrap();
        let verify = |signed: Vec<u8>| {
            let dns = &dns;
            async move {
                let parsed = AuthenticatedMessage::parse(&signed).unwrap();
                let outputs = dns.resolver.verify_dkim(dns.params(&parsed)).await;
                outputs
                    .iter()
                    .map(|o| o.result().clone())
                    .collect::<Vec<_>>()
            }
        };
        let mut signed = header.clone().into_bytes();
        signed.extend_from_slice(message);
        assert_eq!(verify(signed).await, [DkimResult::Pass]);
        // A changed body no longer verifies.
        let mut tampered = header.into_bytes();
        tampered.extend_from_slice(&message[..message.len() - 4]);
        tampered.extend_from_slice(b"!!\r\n");
        // (mail-auth reports a body hash mismatch as neutral, RFC 6376 §6.1.3 leaves it open)
        let result = verify(tampered).await;
        assert!(
            matches!(result[..], [DkimResult::Fail(_) | DkimResult::Neutral(_)]),
            "{result:?}"
        );
        // PKCS#8 keys are read too.
        let pkcs8 = DkimKey {
            selector: "s2".into(),
            private_key_pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
                .into(),
        };
        assert!(matches!(
            sign(message, "example.test", &pkcs8),
            Err(DkimError::Key(_))
        ));
    }

    #[test]
    fn records_without_key() {
        let records = dns_records("Example.COM.", "mail.example.com", None);
        let lines: Vec<String> = records.iter().map(|r| r.to_string()).collect();
        assert_eq!(lines[0], "example.com. 3600 IN MX 10 mail.example.com.");
        assert_eq!(lines[1], "example.com. 3600 IN TXT \"v=spf1 mx -all\"");
        assert!(lines[2].starts_with("_dmarc.example.com. 3600 IN TXT \"v=DMARC1; p=quarantine;"));
        assert_eq!(records.len(), 3);
    }
}
