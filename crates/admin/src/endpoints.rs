//! Where mail programs reach this server: the one description of the client-facing
//! listeners that DNS records, autoconfig answers and the set-up page are all made from, so
//! none of them can name a port that is not open.

use mailroom_smtp::dkim::{DnsRecord, RecordType};

/// How a connection to an endpoint is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (993, 995, 465; RFC 8314 prefers it).
    Tls,
    /// Plain text upgraded by STARTTLS/STLS (143, 110, 587).
    StartTls,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub port: u16,
    pub security: Security,
}

/// The server's public name and its client-facing endpoints per protocol, implicit TLS
/// first. The web endpoint is where autoconfig and the set-up page are served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientEndpoints {
    pub hostname: String,
    pub imap: Vec<Endpoint>,
    pub pop3: Vec<Endpoint>,
    pub submission: Vec<Endpoint>,
    /// The HTTPS port, if the web side listens with TLS.
    pub https: Option<u16>,
    /// The plain HTTP port, if any.
    pub http: Option<u16>,
}

/// One protocol's listener addresses ("0.0.0.0:993", "[::]:993") as endpoints, one per port.
pub fn endpoints(plain: &[String], implicit_tls: &[String]) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = Vec::new();
    for (addresses, security) in [(implicit_tls, Security::Tls), (plain, Security::StartTls)] {
        for port in addresses.iter().filter_map(|a| port_of(a)) {
            if !out.iter().any(|e| e.port == port) {
                out.push(Endpoint { port, security });
            }
        }
    }
    out
}

/// The port of "host:port", "[v6]:port" or ":port"; port 0 (the system's choice) is no
/// endpoint a client can be told of.
fn port_of(address: &str) -> Option<u16> {
    let (_, port) = address.trim().rsplit_once(':')?;
    port.parse().ok().filter(|&p| p != 0)
}

impl ClientEndpoints {
    /// The endpoint to recommend for a protocol: implicit TLS when there is one.
    pub fn preferred(endpoints: &[Endpoint]) -> Option<Endpoint> {
        endpoints
            .iter()
            .find(|e| e.security == Security::Tls)
            .or_else(|| endpoints.first())
            .copied()
    }

    /// RFC 6186 SRV records (implicit TLS first, RFC 8314 §5.1), then the names mail
    /// programs try for autoconfig (Thunderbird's autoconfig.<domain>, Outlook's
    /// autodiscover.<domain> and its SRV record) when the web side is served.
    pub fn srv_records(&self, domain: &str) -> Vec<DnsRecord> {
        let domain = domain.trim_end_matches('.').to_lowercase();
        let host = self.hostname.trim_end_matches('.');
        let mut out = Vec::new();
        for (list, tls_name, starttls_name) in [
            (&self.submission, "_submissions", "_submission"),
            (&self.imap, "_imaps", "_imap"),
            (&self.pop3, "_pop3s", "_pop3"),
        ] {
            for endpoint in list {
                let (service, priority) = match endpoint.security {
                    Security::Tls => (tls_name, 0),
                    Security::StartTls => (starttls_name, 10),
                };
                out.push(DnsRecord {
                    name: format!("{service}._tcp.{domain}"),
                    kind: RecordType::Srv,
                    value: format!("{priority} 1 {} {host}.", endpoint.port),
                });
            }
        }
        if self.https.is_some() || self.http.is_some() {
            for name in ["autoconfig", "autodiscover"] {
                out.push(DnsRecord {
                    name: format!("{name}.{domain}"),
                    kind: RecordType::Cname,
                    value: format!("{host}."),
                });
            }
        }
        if let Some(port) = self.https {
            out.push(DnsRecord {
                name: format!("_autodiscover._tcp.{domain}"),
                kind: RecordType::Srv,
                value: format!("0 1 {port} {host}."),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn endpoints_come_from_the_listeners() {
        let imap = endpoints(
            &strings(&["0.0.0.0:143", "[::]:143"]),
            &strings(&["0.0.0.0:993"]),
        );
        assert_eq!(
            imap,
            [
                Endpoint {
                    port: 993,
                    security: Security::Tls
                },
                Endpoint {
                    port: 143,
                    security: Security::StartTls
                }
            ]
        );
        assert_eq!(ClientEndpoints::preferred(&imap).map(|e| e.port), Some(993));
        assert!(endpoints(&strings(&["127.0.0.1:0"]), &[]).is_empty());
    }

    #[test]
    fn srv_records_name_only_open_ports() {
        let ends = ClientEndpoints {
            hostname: "mail.example.com".into(),
            imap: endpoints(&[], &strings(&["0.0.0.0:9993"])),
            submission: endpoints(&strings(&["0.0.0.0:587"]), &[]),
            https: Some(443),
            ..ClientEndpoints::default()
        };
        let lines: Vec<String> = ends
            .srv_records("Example.COM")
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            lines,
            [
                "_submission._tcp.example.com. 3600 IN SRV 10 1 587 mail.example.com.",
                "_imaps._tcp.example.com. 3600 IN SRV 0 1 9993 mail.example.com.",
                "autoconfig.example.com. 3600 IN CNAME mail.example.com.",
                "autodiscover.example.com. 3600 IN CNAME mail.example.com.",
                "_autodiscover._tcp.example.com. 3600 IN SRV 0 1 443 mail.example.com.",
            ]
        );
    }
}
