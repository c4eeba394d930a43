//! The runner's settings.

use crate::timeouts::Timeouts;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// How the queue runner works. `OutboundConfig::new(hostname)` gives the defaults.
#[derive(Clone)]
pub struct OutboundConfig {
    /// Our host name: EHLO, Reporting-MTA and MAILER-DAEMON@hostname in bounces.
    pub hostname: String,
    /// Send everything through this smart host (`host`, `host:port`, `[v6]:port`) instead of
    /// looking up MX records. No authentication: the relay must accept us by address.
    pub relay: Option<String>,
    /// A message still undelivered this long after it was queued is bounced (default 5 days;
    /// RFC 5321 §4.5.4.1 suggests at least 4–5 days).
    pub max_age: Duration,
    /// Per-step SMTP timeouts (RFC 5321 §4.5.3.2 defaults).
    pub timeouts: Timeouts,
    /// Use STARTTLS when the server offers it (opportunistic, unverified: RFC 7435).
    pub tls: bool,
    /// How often the runner looks for due messages when nobody wakes it.
    pub interval: Duration,
    /// At most this many messages per run.
    pub batch_size: usize,
    /// Messages in delivery at once.
    pub max_messages: usize,
    /// Connections at once to one destination (a recipient domain, or the smart host).
    pub max_per_destination: usize,
    /// How long a node holds a message's lease while delivering it. The lease is renewed
    /// before each domain, so it must outlast one domain's delivery (`domain_timeout`).
    pub lease_ttl: Duration,
    /// The most one domain's delivery (routing plus every host tried) may take in a pass; past
    /// it the domain's recipients are deferred as a temporary failure. Keeps one slow or
    /// hostile domain from stalling the runner, and must stay well under `lease_ttl` so the
    /// lease never expires mid-session.
    pub domain_timeout: Duration,
    /// This node's name as holder of queue leases (default: `hostname`). Must differ between
    /// nodes sharing a store; stable across restarts so a restarted node takes back its own
    /// leases at once.
    pub node_id: String,
    /// Overrides where mail goes (tests route to a loopback sink). When None: `relay` if set,
    /// else DNS.
    pub route: Option<Arc<dyn crate::mx::Route>>,
}

impl OutboundConfig {
    pub fn new(hostname: impl Into<String>) -> Self {
        let hostname = hostname.into();
        OutboundConfig {
            node_id: hostname.clone(),
            hostname,
            relay: None,
            max_age: Duration::from_secs(5 * 24 * 60 * 60),
            timeouts: Timeouts::default(),
            tls: true,
            interval: Duration::from_secs(60),
            batch_size: 100,
            max_messages: 20,
            max_per_destination: 5,
            lease_ttl: Duration::from_secs(60 * 60),
            domain_timeout: Duration::from_secs(15 * 60),
            route: None,
        }
    }
}

impl fmt::Debug for OutboundConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundConfig")
            .field("hostname", &self.hostname)
            .field("relay", &self.relay)
            .field("max_age", &self.max_age)
            .field("timeouts", &self.timeouts)
            .field("tls", &self.tls)
            .field("interval", &self.interval)
            .field("batch_size", &self.batch_size)
            .field("max_messages", &self.max_messages)
            .field("max_per_destination", &self.max_per_destination)
            .field("lease_ttl", &self.lease_ttl)
            .field("domain_timeout", &self.domain_timeout)
            .field("node_id", &self.node_id)
            .field("route", &self.route.as_ref().map(|_| "custom"))
            .finish()
    }
}
