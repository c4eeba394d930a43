//! The resolver behind the inbound SPF, DKIM and DMARC checks: mail-auth's resolver with our
//! own answer cache in front. The cache is also how tests give it answers, without the
//! network: `Dns::offline()` knows only what is put in and answers "no such record" for
//! everything else; `Dns::unreachable()` has no name server, so every lookup the cache can't
//! answer fails at once as a DNS error, which the checks report as `temperror` (RFC 7208
//! §2.6.6, RFC 6376 §6.1.2, RFC 7489 §6.6.3) — never a hang.

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::resolver::ToFqdn;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::hickory_resolver::system_conf::read_system_conf;
use mail_auth::spf::Spf;
use mail_auth::{MX, MessageAuthenticator, Parameters, RecordSet, ResolverCache, Txt};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use thiserror::Error;

/// Past this many entries a cache drops what expired, then everything if still full: the
/// cache is a help, and a flood of distinct names must not grow it without bound.
const MAX_CACHE_ENTRIES: usize = 10_000;

/// Each query waits this long per attempt; a whole check is bounded by `CHECK_TIMEOUT`.
const QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The bound on SPF + DKIM + DMARC together for one message; past it the results are
/// temperror and the message is accepted as for any other DNS failure.
pub(crate) const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Error)]
pub enum DnsError {
    #[error("reading the system resolver configuration: {0}")]
    SystemConfig(String),
    #[error("building the resolver: {0}")]
    Resolver(String),
    #[error("not a TXT record we can use (SPF, DKIM key or DMARC): {0}")]
    Record(String),
}

/// A resolver and its answer cache.
pub struct Dns {
    pub(crate) resolver: MessageAuthenticator,
    pub(crate) txt: MapCache<Box<str>, Txt>,
    pub(crate) mx: MapCache<Box<str>, RecordSet<MX>>,
    pub(crate) ipv4: MapCache<Box<str>, RecordSet<Ipv4Addr>>,
    pub(crate) ipv6: MapCache<Box<str>, RecordSet<Ipv6Addr>>,
    pub(crate) ptr: MapCache<IpAddr, RecordSet<Box<str>>>,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dns").finish_non_exhaustive()
    }
}

impl Dns {
    /// The system's resolvers (/etc/resolv.conf), with short per-query timeouts.
    pub fn system() -> Result<Self, DnsError> {
        let (config, mut options) =
            read_system_conf().map_err(|e| DnsError::SystemConfig(e.to_string()))?;
        options.timeout = QUERY_TIMEOUT;
        options.attempts = 2;
        let resolver = MessageAuthenticator::new(config, options)
            .map_err(|e| DnsError::Resolver(e.to_string()))?;
        Ok(Dns::with_resolver(resolver))
    }

    /// A closed world: what was put in with `add_*` exists, every other name does not
    /// (NXDOMAIN for TXT, no address, no MX).
    pub fn offline() -> Result<Self, DnsError> {
        let mut dns = Dns::unreachable()?;
        let nxdomain =
            mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(ResponseCode::NXDomain));
        dns.txt.miss = Some(Txt::Error(nxdomain));
        dns.mx.miss = Some(record_set(vec![]));
        dns.ipv4.miss = Some(record_set(vec![]));
        dns.ipv6.miss = Some(record_set(vec![]));
        dns.ptr.miss = Some(record_set(vec![]));
        Ok(dns)
    }

    /// No name server: what was put in with `add_*` is known, every other lookup fails as a
    /// resolver error (what a DNS outage looks like).
    pub fn unreachable() -> Result<Self, DnsError> {
        let mut options = ResolverOpts::default();
        options.timeout = QUERY_TIMEOUT;
        options.attempts = 1;
        let config = ResolverConfig::from_parts(None, vec![], vec![]);
        let resolver = MessageAuthenticator::new(config, options)
            .map_err(|e| DnsError::Resolver(e.to_string()))?;
        Ok(Dns::with_resolver(resolver))
    }

    fn with_resolver(resolver: MessageAuthenticator) -> Self {
        Dns {
            resolver,
            txt: MapCache::default(),
            mx: MapCache::default(),
            ipv4: MapCache::default(),
            ipv6: MapCache::default(),
            ptr: MapCache::default(),
        }
    }

    /// A TXT record that never expires: SPF (`v=spf1`), DMARC (`v=DMARC1`, at `_dmarc.`) or
    /// a DKIM key (at `<selector>._domainkey.`).
    pub fn add_txt(&self, name: &str, record: &str) -> Result<(), DnsError> {
        let bytes = record.as_bytes();
        let bad = |e: mail_auth::Error| DnsError::Record(e.to_string());
        let txt: Txt = if record.starts_with("v=spf1") {
            Spf::parse(bytes).map_err(bad)?.into()
        } else if record.starts_with("v=DMARC1") {
            Dmarc::parse(bytes).map_err(bad)?.into()
        } else {
            DomainKey::parse(bytes).map_err(bad)?.into()
        };
        self.txt.put(name.to_fqdn().into_owned().into(), txt);
        Ok(())
    }

    /// A and AAAA records that never expire.
    pub fn add_ip(&self, name: &str, ips: &[IpAddr]) {
        let key: Box<str> = name.to_fqdn().into_owned().into();
        let v4: Vec<Ipv4Addr> = ips
            .iter()
            .filter_map(|ip| match ip {
                IpAddr::V4(ip) => Some(*ip),
                IpAddr::V6(_) => None,
            })
            .collect();
        let v6: Vec<Ipv6Addr> = ips
            .iter()
            .filter_map(|ip| match ip {
                IpAddr::V6(ip) => Some(*ip),
                IpAddr::V4(_) => None,
            })
            .collect();
        self.ipv4.put(key.clone(), record_set(v4));
        self.ipv6.put(key, record_set(v6));
    }

    /// An MX record set that never expires.
    pub fn add_mx(&self, name: &str, preference: u16, exchanges: &[&str]) {
        let mx = MX {
            exchanges: exchanges
                .iter()
                .map(|e| Box::<str>::from(e.to_fqdn().as_ref()))
                .collect(),
            preference,
        };
        self.mx
            .put(name.to_fqdn().into_owned().into(), record_set(vec![mx]));
    }

    /// mail-auth's lookup parameters with our caches in front of its resolver.
    #[allow(clippy::type_complexity)]
    pub(crate) fn params<P>(
        &self,
        params: P,
    ) -> Parameters<
        '_,
        P,
        MapCache<Box<str>, Txt>,
        MapCache<Box<str>, RecordSet<MX>>,
        MapCache<Box<str>, RecordSet<Ipv4Addr>>,
        MapCache<Box<str>, RecordSet<Ipv6Addr>>,
        MapCache<IpAddr, RecordSet<Box<str>>>,
    > {
        Parameters::new(params)
            .with_txt_cache(&self.txt)
            .with_mx_cache(&self.mx)
            .with_ipv4_cache(&self.ipv4)
            .with_ipv6_cache(&self.ipv6)
            .with_ptr_cache(&self.ptr)
    }
}

fn record_set<T>(items: Vec<T>) -> RecordSet<T> {
    RecordSet {
        rrset: items.into(),
        dnssec_status: mail_auth::DnssecStatus::Indeterminate,
    }
}

/// A bounded map honouring each answer's TTL; `None` as expiry means "put in by hand".
pub struct MapCache<K, V> {
    entries: Mutex<HashMap<K, (V, Option<Instant>)>>,
    /// The answer for a name not in the map, in a closed world (`Dns::offline`).
    miss: Option<V>,
}

impl<K, V> Default for MapCache<K, V> {
    fn default() -> Self {
        MapCache {
            entries: Mutex::new(HashMap::new()),
            miss: None,
        }
    }
}

impl<K: Hash + Eq, V: Clone> MapCache<K, V> {
    fn put(&self, key: K, value: V) {
        if let Ok(mut map) = self.entries.lock() {
            map.insert(key, (value, None));
        }
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for MapCache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.entries.lock().ok()?;
        match map.get(name) {
            Some((_, Some(at))) if *at <= Instant::now() => self.miss.clone(),
            Some((value, _)) => Some(value.clone()),
            None => self.miss.clone(),
        }
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.entries.lock().ok()?.remove(name).map(|(v, _)| v)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        let Ok(mut map) = self.entries.lock() else {
            return;
        };
        if map.len() >= MAX_CACHE_ENTRIES {
            let now = Instant::now();
            map.retain(|_, (_, expires)| expires.is_none_or(|at| at > now));
            if map.len() >= MAX_CACHE_ENTRIES {
                map.retain(|_, (_, expires)| expires.is_none());
            }
        }
        map.insert(key, (value, Some(valid_until)));
    }
}
