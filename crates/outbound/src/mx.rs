//! Where mail for a domain goes: the `Route` trait, the DNS route (MX, then the domain's own
//! address, RFC 5321 §5.1; null MX, RFC 7505) and the smart-host route (`relay`).

use async_trait::async_trait;
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::time::Duration;

/// The SMTP port between MTAs (RFC 5321 §4.5.4.2 … the well-known port 25).
pub const SMTP_PORT: u16 = 25;

/// One host to try, with the addresses to connect to in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host's name (for logs and the TLS SNI); an address literal when there is none.
    pub host: String,
    pub addrs: Vec<SocketAddr>,
}

/// Why no host could be found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The domain can never receive mail (it doesn't exist, or announces null MX); the
    /// recipients fail with this reply code and enhanced status.
    #[error("{text}")]
    Permanent {
        code: u16,
        status: &'static str,
        text: String,
    },
    /// DNS failed for now; the recipients are retried later.
    #[error("{0}")]
    Temporary(String),
}

/// Resolves a recipient domain to the hosts to try, best first. A trait so tests can send
/// everything to a loopback sink and a cluster could route through its own logic.
#[async_trait]
pub trait Route: Send + Sync {
    async fn targets(&self, domain: &str) -> Result<Vec<Target>, RouteError>;

    /// True when every domain goes to the same place (a smart host): the runner then sends
    /// one transaction for all remote recipients instead of one per domain.
    fn single_destination(&self) -> bool {
        false
    }
}

/// Everything goes to one smart host (`relay = "host:port"`).
#[derive(Debug, Clone)]
pub struct RelayRoute {
    host: String,
    port: u16,
}

impl RelayRoute {
    /// Reads `host`, `host:port`, `ip:port` or `[ipv6]:port`; the port defaults to 25.
    pub fn parse(relay: &str) -> Result<Self, String> {
        let relay = relay.trim();
        let (host, port) = if let Some(rest) = relay.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| format!("relay {relay:?}: missing ']'"))?;
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return Err(format!("relay {relay:?}: junk after ']'")),
            };
            (host, port)
        } else if relay.matches(':').count() == 1 {
            let (host, port) = relay.split_once(':').unwrap_or((relay, ""));
            (host, Some(port))
        } else {
            (relay, None)
        };
        if host.is_empty() {
            return Err(format!("relay {relay:?}: no host"));
        }
        let port = match port {
            Some(port) => port
                .parse()
                .map_err(|_| format!("relay {relay:?}: bad port {port:?}"))?,
            None => SMTP_PORT,
        };
        Ok(RelayRoute {
            host: host.to_string(),
            port,
        })
    }
}

#[async_trait]
impl Route for RelayRoute {
    async fn targets(&self, _domain: &str) -> Result<Vec<Target>, RouteError> {
        // An address literal resolves without DNS; a name goes through the system resolver,
        // like any other host the administrator configured.
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((self.host.as_str(), self.port))
            .await
            .map_err(|e| RouteError::Temporary(format!("relay {}: {e}", self.host)))?
            .collect();
        if addrs.is_empty() {
            return Err(RouteError::Temporary(format!(
                "relay {}: no address",
                self.host
            )));
        }
        Ok(vec![Target {
            host: self.host.clone(),
            addrs,
        }])
    }

    fn single_destination(&self) -> bool {
        true
    }
}

async fn addresses(resolver: &TokioResolver, host: &str) -> Result<Vec<SocketAddr>, NetError> {
    let ips = resolver.lookup_ip(fqdn(host)).await?;
    Ok(ips
        .iter()
        .map(|ip| SocketAddr::new(ip, SMTP_PORT))
        .collect())
}

/// Public DNS: MX records by preference, the implicit MX, null MX.
#[derive(Debug, Default)]
pub struct DnsRoute {
    /// From the system configuration: built on first use, so a server relaying everything never
    /// needs /etc/resolv.conf and a broken resolver configuration defers mail instead of
    /// stopping the server. With explicit name servers: built up front.
    resolver: OnceLock<Result<TokioResolver, String>>,
}

impl DnsRoute {
    /// Uses the system resolver configuration (/etc/resolv.conf), read on first lookup.
    pub fn new() -> Self {
        DnsRoute::default()
    }

    /// Asks exactly these name servers instead of the ones in /etc/resolv.conf, with the
    /// resolver's default patience (5 s per try, 2 retries). For tests against a local DNS
    /// responder, and for a site whose mail must be routed by one particular resolver.
    pub fn with_nameservers(servers: Vec<SocketAddr>) -> Self {
        let defaults = ResolverOpts::default();
        Self::with_nameservers_timeout(servers, defaults.timeout, defaults.attempts)
    }

    /// Like [`DnsRoute::with_nameservers`], waiting `timeout` for each try and retrying a
    /// failed query `retries` times, so a silent server costs at most about
    /// `timeout × (retries + 1)` per lookup.
    pub fn with_nameservers_timeout(
        servers: Vec<SocketAddr>,
        timeout: Duration,
        retries: usize,
    ) -> Self {
        // Without a server every lookup would fail anyway; say why once, as a temporary
        // error, like a broken /etc/resolv.conf.
        let resolver = resolver_with_nameservers(&servers, timeout, retries);
        DnsRoute {
            resolver: OnceLock::from(resolver),
        }
    }

    fn resolver(&self) -> Result<&TokioResolver, RouteError> {
        self.resolver
            .get_or_init(system_resolver)
            .as_ref()
            .map_err(|e| RouteError::Temporary(format!("DNS resolver unavailable: {e}")))
    }
}

/// A resolver asking exactly `servers` (UDP, TCP for long answers), waiting `timeout` per try
/// and retrying `retries` times; an empty list is an error rather than a resolver that fails
/// every lookup.
pub fn resolver_with_nameservers(
    servers: &[SocketAddr],
    timeout: Duration,
    retries: usize,
) -> Result<TokioResolver, String> {
    if servers.is_empty() {
        return Err("no name servers configured".to_string());
    }
    let name_servers = servers
        .iter()
        .map(|server| {
            // UDP first; TCP is there for answers too large for UDP (RFC 7766 §5).
            let mut config = NameServerConfig::udp_and_tcp(server.ip());
            for connection in &mut config.connections {
                connection.port = server.port();
            }
            config
        })
        .collect();
    let mut options = ResolverOpts::default();
    options.timeout = timeout;
    options.attempts = retries;
    TokioResolver::builder_with_config(
        ResolverConfig::from_name_servers(name_servers),
        TokioRuntimeProvider::default(),
    )
    .with_options(options)
    .build()
    .map_err(|e| e.to_string())
}

/// The system's resolver (/etc/resolv.conf).
pub fn system_resolver() -> Result<TokioResolver, String> {
    TokioResolver::builder_tokio()
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())
}

/// The hosts to try from a domain's MX records `(preference, exchange)`: best first, the
/// domain itself when there are none (the implicit MX, RFC 5321 §5.1), a permanent failure for
/// null MX (RFC 7505).
pub fn order_exchanges(
    domain: &str,
    mut records: Vec<(u16, String)>,
) -> Result<Vec<String>, RouteError> {
    // RFC 7505 §3: an exchange that is the root "." says the domain takes no mail; §4.3 asks
    // senders to treat it so even beside other records.
    if records
        .iter()
        .any(|(_, exchange)| exchange.is_empty() || exchange == ".")
    {
        return Err(RouteError::Permanent {
            code: 556,
            status: "5.1.10",
            text: format!("{domain} does not accept mail (null MX)"),
        });
    }
    if records.is_empty() {
        return Ok(vec![domain.to_string()]);
    }
    // RFC 5321 §5.1: lowest preference first. Equal preferences keep the DNS server's order,
    // which most servers already rotate.
    records.sort_by_key(|(preference, _)| *preference);
    Ok(records
        .into_iter()
        .map(|(_, exchange)| exchange.trim_end_matches('.').to_string())
        .collect())
}

/// A trailing dot keeps the resolver from trying search domains.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_string()
    } else {
        format!("{name}.")
    }
}

#[async_trait]
impl Route for DnsRoute {
    async fn targets(&self, domain: &str) -> Result<Vec<Target>, RouteError> {
        // An address literal `user@[192.0.2.1]` names the host itself (RFC 5321 §4.1.3).
        if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
            let ip: IpAddr = literal
                .strip_prefix("IPv6:")
                .unwrap_or(literal)
                .parse()
                .map_err(|_| RouteError::Permanent {
                    code: 550,
                    status: "5.1.2",
                    text: format!("bad address literal [{literal}]"),
                })?;
            if !is_public(ip) {
                return Err(non_public(&format!("[{literal}]")));
            }
            return Ok(vec![Target {
                host: literal.to_string(),
                addrs: vec![SocketAddr::new(ip, SMTP_PORT)],
            }]);
        }

        let resolver = self.resolver()?;
        let exchanges = match resolver.mx_lookup(fqdn(domain)).await {
            Ok(lookup) => {
                let records = lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                        _ => None,
                    })
                    .collect();
                order_exchanges(domain, records)?
            }
            Err(e) if e.is_nx_domain() => {
                return Err(RouteError::Permanent {
                    code: 550,
                    status: "5.1.2",
                    text: format!("domain {domain} does not exist"),
                });
            }
            // No MX: the domain itself is the implicit MX (RFC 5321 §5.1).
            Err(e) if e.is_no_records_found() => vec![domain.to_string()],
            Err(e) => {
                return Err(RouteError::Temporary(format!(
                    "MX lookup for {domain}: {e}"
                )));
            }
        };
        let implicit = exchanges == [domain];

        let mut targets = Vec::new();
        let mut last_error = None;
        let mut refused = false;
        for host in exchanges {
            match addresses(resolver, &host).await {
                Ok(addrs) if !addrs.is_empty() => {
                    // Anyone can publish MX or A records naming internal hosts; the queue must
                    // not become a way to reach them.
                    let public: Vec<SocketAddr> =
                        addrs.into_iter().filter(|a| is_public(a.ip())).collect();
                    if public.is_empty() {
                        refused = true;
                    } else {
                        targets.push(Target {
                            host,
                            addrs: public,
                        });
                    }
                }
                Ok(_) => {}
                Err(e) if implicit && (e.is_nx_domain() || e.is_no_records_found()) => {
                    // RFC 5321 §5.1: neither MX nor address records: undeliverable.
                    return Err(RouteError::Permanent {
                        code: 550,
                        status: "5.1.2",
                        text: format!("{domain} has no MX and no address"),
                    });
                }
                Err(e) => last_error = Some(format!("{host}: {e}")),
            }
        }
        if targets.is_empty() && refused && last_error.is_none() {
            return Err(non_public(domain));
        }
        if targets.is_empty() {
            return Err(RouteError::Temporary(
                last_error.unwrap_or_else(|| format!("no address for any MX of {domain}")),
            ));
        }
        Ok(targets)
    }
}

/// Whether the public route may connect to `ip`. Loopback, unspecified, private (RFC 1918),
/// link-local (RFC 3927, RFC 4291 §2.5.6), unique-local (RFC 4193) and multicast addresses are
/// internal or meaningless as a mail server; an IPv4-mapped IPv6 address is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_unspecified()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_unique_local()
                || v6.is_unicast_link_local()
                || v6.is_multicast())
        }
    }
}

/// A destination only reachable through an address we refuse: permanent, since the DNS data
/// or the literal says so on purpose (RFC 3463 §3.5 X.4.4: unable to route).
fn non_public(destination: &str) -> RouteError {
    RouteError::Permanent {
        code: 550,
        status: "5.4.4",
        text: format!("{destination}: refusing to deliver to a non-public address"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_relay_settings() {
        let r = RelayRoute::parse("smtp.example.org:2525").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("smtp.example.org", 2525));
        let r = RelayRoute::parse("smtp.example.org").unwrap();
        assert_eq!(r.port, 25);
        let r = RelayRoute::parse("[::1]:2525").unwrap();
        assert_eq!((r.host.as_str(), r.port), ("::1", 2525));
        let r = RelayRoute::parse("[::1]").unwrap();
        assert_eq!(r.port, 25);
        assert!(RelayRoute::parse(":25").is_err());
        assert!(RelayRoute::parse("host:port").is_err());
        assert!(RelayRoute::parse("[::1]x").is_err());
    }

    #[tokio::test]
    async fn relay_route_sends_every_domain_to_the_smart_host() {
        let route = RelayRoute::parse("127.0.0.1:2525").unwrap();
        let targets = route.targets("example.org").await.unwrap();
        assert_eq!(
            targets,
            vec![Target {
                host: "127.0.0.1".into(),
                addrs: vec!["127.0.0.1:2525".parse().unwrap()],
            }]
        );
        assert!(route.single_destination());
    }

    #[test]
    fn exchanges_by_preference() {
        let records = vec![
            (20, "backup.example.org.".to_string()),
            (10, "mx1.example.org.".to_string()),
            (10, "mx2.example.org.".to_string()),
        ];
        assert_eq!(
            order_exchanges("example.org", records).unwrap(),
            vec!["mx1.example.org", "mx2.example.org", "backup.example.org"]
        );
    }

    #[test]
    fn no_mx_means_the_domain_itself() {
        assert_eq!(
            order_exchanges("example.org", vec![]).unwrap(),
            vec!["example.org"]
        );
    }

    #[test]
    fn null_mx_is_a_permanent_failure() {
        let err = order_exchanges("example.org", vec![(0, ".".to_string())]).unwrap_err();
        assert!(matches!(
            err,
            RouteError::Permanent {
                code: 556,
                status: "5.1.10",
                ..
            }
        ));
        // Even beside other records (RFC 7505 §4.3).
        let mixed = vec![(0, ".".to_string()), (10, "mx.example.org.".to_string())];
        assert!(matches!(
            order_exchanges("example.org", mixed),
            Err(RouteError::Permanent { .. })
        ));
    }

    #[tokio::test]
    async fn address_literals_need_no_dns() {
        let route = DnsRoute::new();
        let targets = route.targets("[192.0.2.1]").await.unwrap();
        assert_eq!(targets[0].addrs, vec!["192.0.2.1:25".parse().unwrap()]);
        let targets = route.targets("[IPv6:2001:db8::1]").await.unwrap();
        assert_eq!(targets[0].addrs, vec!["[2001:db8::1]:25".parse().unwrap()]);
        assert!(matches!(
            route.targets("[not-an-ip]").await,
            Err(RouteError::Permanent { .. })
        ));
    }

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "0.0.0.0",
            "10.0.0.5",
            "172.16.1.1",
            "192.168.1.1",
            "169.254.169.254",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.5",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_public(ip), "{ip} must be refused");
        }
        for ip in ["192.0.2.1", "8.8.8.8", "2001:db8::1", "2a00:1450::1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_public(ip), "{ip} must be allowed");
        }
    }

    #[tokio::test]
    async fn no_name_servers_defers_instead_of_failing() {
        let route = DnsRoute::with_nameservers(vec![]);
        assert_eq!(
            route.targets("example.org").await,
            Err(RouteError::Temporary(
                "DNS resolver unavailable: no name servers configured".into()
            ))
        );
    }

    #[tokio::test]
    async fn internal_address_literals_fail_for_good() {
        let route = DnsRoute::new();
        for literal in ["[10.0.0.5]", "[127.0.0.1]", "[IPv6:::1]", "[IPv6:fe80::1]"] {
            let err = route.targets(literal).await.unwrap_err();
            match err {
                RouteError::Permanent { code, status, text } => {
                    assert_eq!((code, status), (550, "5.4.4"));
                    assert!(text.contains("refusing to deliver to a non-public address"));
                }
                other => panic!("{literal}: {other:?}"),
            }
        }
    }
}
