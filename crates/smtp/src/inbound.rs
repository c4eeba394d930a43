//! Email authentication of inbound mail on the MX: SPF (RFC 7208) for the client IP, HELO
//! and MAIL FROM; DKIM (RFC 6376) signatures; DMARC (RFC 7489) alignment and policy. The
//! outcome becomes an Authentication-Results field (RFC 8601). DNS trouble of any kind gives
//! `temperror` results and the message is accepted; only a DMARC `p=reject` failure refuses.

use crate::dns::{CHECK_TIMEOUT, Dns};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DmarcResult};
use std::net::IpAddr;

/// What the checks decided for one message.
#[derive(Debug)]
pub struct Verdict {
    /// The whole `Authentication-Results: ...\r\n` field.
    pub header: String,
    /// DMARC failed and the domain asks for rejection (RFC 7489 §6.3 p=reject).
    pub dmarc_reject: bool,
    /// The From domain DMARC was evaluated for (empty if none).
    pub domain: String,
}

pub struct Check<'a> {
    pub hostname: &'a str,
    pub peer: IpAddr,
    pub helo: &'a str,
    /// The MAIL FROM address; empty for the null sender.
    pub mail_from: &'a str,
}

impl Check<'_> {
    /// The results of one method (`;\r\n\tmethod=...`), without the authserv-id that
    /// mail-auth's Display puts first.
    fn part(&self, results: AuthenticationResults<'_>) -> String {
        let text = results.to_string();
        text.get(self.hostname.len()..)
            .unwrap_or_default()
            .to_string()
    }

    /// Runs the checks, bounded in time; a timeout gives temperror throughout.
    pub async fn run(&self, dns: &Dns, message: &[u8]) -> Verdict {
        match tokio::time::timeout(CHECK_TIMEOUT, self.verify(dns, message)).await {
            Ok(verdict) => verdict,
            Err(_) => {
                tracing::info!(peer = %self.peer, "email authentication checks timed out");
                Verdict {
                    header: format!(
                        "Authentication-Results: {};\r\n\tspf=temperror;\r\n\tdkim=temperror;\r\n\tdmarc=temperror\r\n",
                        self.hostname
                    ),
                    dmarc_reject: false,
                    domain: String::new(),
                }
            }
        }
    }

    async fn verify(&self, dns: &Dns, message: &[u8]) -> Verdict {
        // RFC 7208 §2.4: with a null MAIL FROM the HELO identity is checked
        // (`verify_spf` does both in order).
        let spf = dns
            .resolver
            .verify_spf(dns.params(SpfParameters::verify(
                self.peer,
                self.helo,
                self.hostname,
                self.mail_from,
            )))
            .await;
        let mut results = AuthenticationResults::new(self.hostname);
        results = if self.mail_from.is_empty() {
            results.with_spf_ehlo_result(&spf, self.peer, self.helo)
        } else {
            results.with_spf_mailfrom_result(&spf, self.peer, self.mail_from, self.helo)
        };
        let Some(parsed) = parse_off_the_workers(message) else {
            // No header section to check DKIM or DMARC against.
            return Verdict {
                header: results.to_header(),
                dmarc_reject: false,
                domain: String::new(),
            };
        };
        let dkim = dns.resolver.verify_dkim(dns.params(&parsed)).await;
        // RFC 7489 §4.1: SPF's domain for alignment is MAIL FROM's, or HELO's for `<>`.
        let spf_domain = match self.mail_from.rsplit_once('@') {
            Some((_, domain)) => domain,
            None => self.helo,
        };
        let dmarc = dns
            .resolver
            .verify_dmarc(dns.params(DmarcParameters {
                message: &parsed,
                dkim_output: &dkim,
                dkim2_output: None,
                rfc5321_mail_from_domain: spf_domain,
                spf_output: &spf,
            }))
            .await;
        let header_from = parsed.from.first().map(String::as_str).unwrap_or("");
        // mail-auth writes nothing for a message without signatures; RFC 8601 §2.7.1 has
        // "none" for that.
        let mut header = results.to_header();
        header.truncate(header.trim_end().len());
        let dkim_part = if dkim.is_empty() {
            ";\r\n\tdkim=none".to_string()
        } else {
            self.part(
                AuthenticationResults::new(self.hostname).with_dkim_results(&dkim, header_from),
            )
        };
        header.push_str(&dkim_part);
        header.push_str(
            &self.part(AuthenticationResults::new(self.hostname).with_dmarc_result(&dmarc)),
        );
        header.push_str("\r\n");
        let dmarc_reject =
            dmarc.policy() == Policy::Reject && matches!(dmarc.result(), DmarcResult::Fail(_));
        Verdict {
            header,
            dmarc_reject,
            domain: dmarc.domain().to_string(),
        }
    }
}

/// Parsing hashes the body once per DKIM signature: for a large message that is CPU time an
/// async worker must not spend while other sessions wait on it. The parse borrows the message
/// (it can't move to the CPU pool), so on the multi-threaded runtime the worker hands its other
/// tasks to the rest while it parses (`block_in_place`).
fn parse_off_the_workers(message: &[u8]) -> Option<AuthenticatedMessage<'_>> {
    const IN_PLACE_ABOVE: usize = 256 * 1024;
    let multi = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if message.len() > IN_PLACE_ABOVE && multi {
        tokio::task::block_in_place(|| AuthenticatedMessage::parse(message))
    } else {
        AuthenticatedMessage::parse(message)
    }
}
