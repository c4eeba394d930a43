//! Slows and then stops password guessing (RFC 4954 §4 and RFC 9051 §11.1 leave the
//! countermeasures to the server; this is the usual pair: growing delays, then a lockout).
//!
//! Two tables, both in memory, bounded and expiring:
//! - per client address (IPv6 grouped by /64, since one host owns a whole /64): failures in
//!   the window; each failure past `free_failures` answers after a doubling delay, and
//!   `ip_lockout_failures` of them refuse that address for `lockout`;
//! - per account name (known or not, so the table's behaviour reveals nothing): failures from
//!   any address; past `account_lockout_failures` the name is locked for addresses that never
//!   logged in to it successfully. An attacker on one address is stopped by the address lock
//!   long before the account lock, so the real user elsewhere is never locked out by them;
//!   only a spread-out attack locks the account, and then only for unknown addresses.
//!
//! Both tables have fixed-size keys (an address, a digest of the name), so an entry costs the
//! same whatever the client typed, and eviction from a full table spares locked entries, so
//! filling it cannot lift a lockout.
//!
//! Addresses in `trusted` are proxies and webmail servers in front: their own address is never
//! counted or locked (one attacker behind a webmail must not lock out all its users), and they
//! may name the real client (IMAP ID, SMTP XCLIENT), which is then throttled instead.
//!
//! Lockouts outlive a restart: each one is queued for the store as it happens
//! (`take_new_lockouts`) and read back at start (`restore`), with the addresses that had
//! logged in to a locked account, so its owner stays able to.
//!
//! Time is whole seconds from the injected `Clock`; the delays are returned, not slept, so the
//! protocol applies them (and tests check them without waiting).

use mailroom_store::{Clock, Lockout};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Operator settings; the defaults are safe for a public server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Off only for closed test setups.
    pub enabled: bool,
    /// Every failed login waits at least this long before its answer, on every protocol
    /// (Dovecot's auth_failure_delay): a guesser gets no fast answers even while its failures
    /// are still free.
    pub failure_delay: Duration,
    /// Failures (per address) answered after `failure_delay` only: everyone mistypes.
    pub free_failures: u32,
    /// The first delay; it doubles with each further failure.
    pub base_delay: Duration,
    /// The delay never grows past this.
    pub max_delay: Duration,
    /// Failures are counted over this period, from the first one.
    pub window: Duration,
    /// Failures from one address within `window` that lock the address out.
    pub ip_lockout_failures: u32,
    /// Failures for one account (from any addresses) within `window` that lock the account for
    /// addresses without a successful login to it.
    pub account_lockout_failures: u32,
    /// How long a lockout lasts.
    pub lockout: Duration,
    /// How long a successful login keeps an address known to the account.
    pub remember_success: Duration,
    /// Entries per table; when it is full the oldest unlocked ones go first.
    pub max_entries: usize,
    /// Proxies and webmail servers in front (Dovecot's login_trusted_networks).
    pub trusted: Vec<ipnet::IpNet>,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            enabled: true,
            failure_delay: Duration::ZERO,
            free_failures: 2,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            window: Duration::from_secs(15 * 60),
            ip_lockout_failures: 10,
            account_lockout_failures: 50,
            lockout: Duration::from_secs(15 * 60),
            remember_success: Duration::from_secs(30 * 24 * 3600),
            max_entries: 100_000,
            trusted: Vec::new(),
        }
    }
}

/// What a login attempt may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the credentials.
    Allow,
    /// Refuse without checking, answering like a wrong password after `delay`.
    Refuse { delay: Duration },
}

/// Addresses with a successful login remembered per account.
const KNOWN_ADDRESSES: usize = 32;

#[derive(Default)]
struct Failures {
    count: u32,
    /// Start of the counting window (Unix seconds).
    since: i64,
    /// Refused until then (Unix seconds), if locked.
    locked_until: Option<i64>,
    /// Last change, for expiry and eviction.
    touched: i64,
}

impl Failures {
    fn locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| now < t)
    }

    /// Counts one failure; true if this one reached `limit` and locked.
    fn add(&mut self, now: i64, window: i64, limit: u32, lockout: i64) -> bool {
        if self.locked_until.is_some_and(|t| now >= t) || now - self.since >= window {
            *self = Failures::default();
        }
        if self.count == 0 {
            self.since = now;
        }
        self.count = self.count.saturating_add(1);
        self.touched = now;
        if limit > 0 && self.count >= limit && self.locked_until.is_none() {
            self.locked_until = Some(now + lockout);
            return true;
        }
        false
    }

    fn expired(&self, now: i64, window: i64) -> bool {
        !self.locked(now) && now - self.since >= window
    }
}

#[derive(Default)]
struct AccountEntry {
    failures: Failures,
    /// Address → last successful login (Unix seconds).
    known: HashMap<IpKey, i64>,
}

/// An address as counted: IPv4 (also when mapped into IPv6) or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct IpKey(IpAddr);

impl From<IpAddr> for IpKey {
    /// The same grouping the connection limits use, so one client is one client everywhere.
    fn from(ip: IpAddr) -> Self {
        IpKey(mailroom_net::address_key(ip))
    }
}

/// An account name as counted: SHA-256 of its lower-cased form. SMTP and IMAP accept names
/// of several KB; keying on the digest keeps every entry the same small size.
type AccountKey = [u8; 32];

/// How a lockout is kept in the store: `key` is b'i' + the address's octets or b'a' + the
/// account name's digest; an account's `detail` lists the addresses that had logged in to it,
/// each as a length byte and its octets.
const IP_KEY: u8 = b'i';
const ACCOUNT_KEY: u8 = b'a';

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

fn ip_lockout(ip: IpKey, until: i64) -> Lockout {
    let mut key = vec![IP_KEY];
    key.extend(ip_bytes(ip.0));
    Lockout {
        key,
        until,
        detail: Vec::new(),
    }
}

fn account_lockout(account: &AccountKey, until: i64, known: &[IpKey]) -> Lockout {
    let mut key = vec![ACCOUNT_KEY];
    key.extend(account);
    let mut detail = Vec::new();
    for ip in known {
        let bytes = ip_bytes(ip.0);
        detail.push(bytes.len() as u8);
        detail.extend(bytes);
    }
    Lockout { key, until, detail }
}

fn known_addresses(lockout: &Lockout) -> Vec<IpKey> {
    let mut out = Vec::new();
    let mut rest = &lockout.detail[..];
    while let Some((&len, tail)) = rest.split_first() {
        let Some(bytes) = tail.get(..usize::from(len)) else {
            break;
        };
        if let Some(ip) = ip_from_bytes(bytes) {
            out.push(IpKey(ip));
        }
        rest = &tail[usize::from(len)..];
    }
    out
}

struct Tables {
    /// Lockouts not yet handed to the store.
    new_lockouts: Vec<Lockout>,
    ips: HashMap<IpKey, Failures>,
    accounts: HashMap<AccountKey, AccountEntry>,
}

/// The throttle shared by every protocol of the process.
pub struct Throttle {
    config: ThrottleConfig,
    clock: Arc<dyn Clock>,
    tables: Mutex<Tables>,
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

/// Account names are compared as users type them: case-insensitively. The lower-cased copy
/// lives only for this call; the table keeps the digest.
fn account_key(name: &str) -> AccountKey {
    Sha256::digest(name.trim().to_lowercase().as_bytes()).into()
}

impl Throttle {
    pub fn new(config: ThrottleConfig, clock: Arc<dyn Clock>) -> Self {
        Throttle {
            config,
            clock,
            tables: Mutex::new(Tables {
                new_lockouts: Vec::new(),
                ips: HashMap::new(),
                accounts: HashMap::new(),
            }),
        }
    }

    pub fn config(&self) -> &ThrottleConfig {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Before checking credentials: may `peer` try to log in as `account`?
    pub fn check(&self, peer: IpAddr, account: &str) -> Verdict {
        if !self.config.enabled {
            return Verdict::Allow;
        }
        let now = self.clock.now();
        let ip = IpKey::from(peer);
        let trusted = self.is_trusted(peer);
        let tables = self.lock();
        let refuse = Verdict::Refuse {
            delay: self.config.max_delay.max(self.config.failure_delay),
        };
        if !trusted && tables.ips.get(&ip).is_some_and(|f| f.locked(now)) {
            return refuse;
        }
        // A proxy that did not name its client is never "known" to an account: everyone
        // behind it would be.
        if let Some(entry) = tables.accounts.get(&account_key(account))
            && entry.failures.locked(now)
            && (trusted || !self.known(entry, ip, now))
        {
            return refuse;
        }
        Verdict::Allow
    }

    /// Whether `peer` is a proxy or webmail server in front (`trusted`).
    pub fn is_trusted(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.config.trusted.iter().any(|net| net.contains(&peer))
    }

    /// Lockouts since the last call, for the store.
    pub fn take_new_lockouts(&self) -> Vec<Lockout> {
        std::mem::take(&mut self.lock().new_lockouts)
    }

    /// Puts back lockouts the store kept (from before a restart, or from another node);
    /// expired and unreadable ones are skipped. Returns how many were restored.
    pub fn restore(&self, records: &[Lockout]) -> usize {
        let now = self.clock.now();
        let mut tables = self.lock();
        let mut restored = 0;
        for record in records.iter().filter(|r| r.until > now) {
            let locked = |touched| Failures {
                count: 0,
                since: now,
                locked_until: Some(record.until),
                touched,
            };
            match record.key.split_first() {
                Some((&IP_KEY, bytes)) => {
                    let Some(ip) = ip_from_bytes(bytes) else {
                        continue;
                    };
                    tables.ips.insert(IpKey(ip), locked(now));
                }
                Some((&ACCOUNT_KEY, bytes)) => {
                    let Ok(key) = AccountKey::try_from(bytes) else {
                        continue;
                    };
                    let entry = tables.accounts.entry(key).or_default();
                    entry.failures = locked(now);
                    for ip in known_addresses(record) {
                        entry.known.insert(ip, now);
                    }
                }
                _ => continue,
            }
            restored += 1;
        }
        restored
    }

    fn known(&self, entry: &AccountEntry, ip: IpKey, now: i64) -> bool {
        entry
            .known
            .get(&ip)
            .is_some_and(|&at| now - at < secs(self.config.remember_success))
    }

    /// After a failed attempt: counts it and returns how long to wait before answering.
    pub fn failure(&self, peer: IpAddr, account: &str) -> Duration {
        if !self.config.enabled {
            return Duration::ZERO;
        }
        let c = &self.config;
        let now = self.clock.now();
        let (window, lockout) = (secs(c.window), secs(c.lockout));
        let ip = IpKey::from(peer);
        let trusted = self.is_trusted(peer);
        let mut tables = self.lock();
        let max = c.max_entries;
        // A trusted proxy's own address is not counted: its users are many people. Its
        // answers wait the fixed delay; the account's own count still applies.
        let count = if trusted {
            0
        } else {
            make_room(
                &mut tables.ips,
                max,
                |f| f.expired(now, window),
                |f| Worth::of(f.locked(now), false),
                |f| f.touched,
            );
            let failures = tables.ips.entry(ip).or_default();
            let locked = failures.add(now, window, c.ip_lockout_failures, lockout);
            let count = failures.count;
            if locked {
                tracing::warn!(peer = %peer, "too many failed logins: address locked out");
                tables.new_lockouts.push(ip_lockout(ip, now + lockout));
            }
            count
        };
        let keep = secs(c.remember_success);
        make_account_room(&mut tables.accounts, max, now, window, keep);
        let key = account_key(account);
        let entry = tables.accounts.entry(key).or_default();
        if entry
            .failures
            .add(now, window, c.account_lockout_failures, lockout)
        {
            // The name is not logged: it may be a password typed into the user field.
            tracing::warn!("too many failed logins for one account: locked for new addresses");
            let known: Vec<IpKey> = entry
                .known
                .iter()
                .filter(|&(_, &at)| now - at < keep)
                .map(|(ip, _)| *ip)
                .collect();
            let record = account_lockout(&key, now + lockout, &known);
            tables.new_lockouts.push(record);
        }
        self.delay(count)
    }

    /// After a successful login: forgets the address's failures and remembers it for the
    /// account.
    pub fn success(&self, peer: IpAddr, account: &str) {
        if !self.config.enabled {
            return;
        }
        if self.is_trusted(peer) {
            // Neither forgiven nor remembered: the next login through the proxy may be
            // anyone's.
            return;
        }
        let now = self.clock.now();
        let ip = IpKey::from(peer);
        let mut tables = self.lock();
        tables.ips.remove(&ip);
        let keep = secs(self.config.remember_success);
        let window = secs(self.config.window);
        make_account_room(
            &mut tables.accounts,
            self.config.max_entries,
            now,
            window,
            keep,
        );
        let entry = tables.accounts.entry(account_key(account)).or_default();
        if entry.known.len() >= KNOWN_ADDRESSES && !entry.known.contains_key(&ip) {
            entry.known.retain(|_, &mut t| now - t < keep);
            if entry.known.len() >= KNOWN_ADDRESSES
                && let Some(oldest) = entry.known.iter().min_by_key(|(_, t)| **t).map(|(k, _)| *k)
            {
                entry.known.remove(&oldest);
            }
        }
        entry.known.insert(ip, now);
    }

    /// The delay after the `count`th failure: `failure_delay` for the free ones, then base,
    /// 2×base, 4×base… up to the cap, never less than `failure_delay`.
    fn delay(&self, count: u32) -> Duration {
        let c = &self.config;
        let Some(n) = count.checked_sub(c.free_failures + 1) else {
            return c.failure_delay;
        };
        let factor = 1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX);
        c.base_delay
            .saturating_mul(factor)
            .min(c.max_delay)
            .max(c.failure_delay)
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        let t = self.lock();
        (t.ips.len(), t.accounts.len())
    }
}

/// How much an entry is worth keeping when a full table must shed some; the least go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Worth {
    /// Only failures: forgetting them gives an attacker a few free guesses at most.
    Plain,
    /// Remembers addresses the real user logged in from: forgetting them would lock that user
    /// out of a later lockout of the account.
    Known,
    /// Currently locked out: forgetting it would lift the lockout, which is exactly what an
    /// attacker filling the table wants.
    Locked,
}

impl Worth {
    fn of(locked: bool, known: bool) -> Self {
        match (locked, known) {
            (true, _) => Worth::Locked,
            (false, true) => Worth::Known,
            (false, false) => Worth::Plain,
        }
    }
}

/// `make_room` for the account table: an entry expires when its failures have and no
/// successful login is still remembered.
fn make_account_room(
    map: &mut HashMap<AccountKey, AccountEntry>,
    max: usize,
    now: i64,
    window: i64,
    keep: i64,
) {
    let remembers = |e: &AccountEntry| e.known.values().any(|&t| now - t < keep);
    make_room(
        map,
        max,
        |e| e.failures.expired(now, window) && !remembers(e),
        |e| Worth::of(e.failures.locked(now), remembers(e)),
        // A success-only entry has no failure time; its latest login is its age.
        |e| {
            let last_login = e.known.values().copied().max().unwrap_or(i64::MIN);
            e.failures.touched.max(last_login)
        },
    );
}

/// Keeps a table under `max` entries: expired ones go first, then the least recently touched
/// tenth, the least worth first (a full table of live entries is an attack; forgetting the
/// oldest is the least harm).
///
/// Locked entries are never evicted while any unlocked one remains, so an attacker cannot lift
/// a lockout by filling the table. If every entry is locked, the oldest locked ones go anyway:
/// growing without bound would let the same attacker exhaust memory instead, and locking a
/// whole table takes far more failures than the lockouts it would lift.
fn make_room<K: Eq + Hash + Clone, V>(
    map: &mut HashMap<K, V>,
    max: usize,
    expired: impl Fn(&V) -> bool,
    worth: impl Fn(&V) -> Worth,
    touched: impl Fn(&V) -> i64,
) {
    if map.len() < max.max(1) {
        return;
    }
    map.retain(|_, v| !expired(v));
    if map.len() < max.max(1) {
        return;
    }
    let mut ages: Vec<(Worth, i64, K)> = map
        .iter()
        .map(|(k, v)| (worth(v), touched(v), k.clone()))
        .collect();
    let all_locked = ages.iter().all(|(w, _, _)| *w == Worth::Locked);
    if !all_locked {
        ages.retain(|(w, _, _)| *w != Worth::Locked);
    }
    ages.sort_by_key(|(w, t, _)| (*w, *t));
    // A tenth at a time so the scan and sort run once per that many insertions. When fewer
    // than a tenth are unlocked only those go (at least one), and the scan repeats sooner:
    // the price of keeping the locks, paid only under a very large attack.
    let drop = (map.len() / 10).max(1);
    for (_, _, key) in ages.into_iter().take(drop) {
        map.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_store::ManualClock;

    const ATTACKER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const USER_IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7));

    fn throttle(config: ThrottleConfig) -> (Throttle, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(1_000_000));
        (Throttle::new(config, clock.clone()), clock)
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let (t, _) = throttle(ThrottleConfig {
            ip_lockout_failures: 0,
            account_lockout_failures: 0,
            ..Default::default()
        });
        let delays: Vec<u64> = (0..8)
            .map(|_| t.failure(ATTACKER, "ann").as_secs())
            .collect();
        assert_eq!(delays, [0, 0, 1, 2, 4, 8, 8, 8]);
        assert_eq!(t.check(ATTACKER, "ann"), Verdict::Allow, "no lockout set");
    }

    #[test]
    fn every_failure_waits_at_least_the_failure_delay() {
        let (t, _) = throttle(ThrottleConfig {
            failure_delay: Duration::from_secs(2),
            ip_lockout_failures: 0,
            account_lockout_failures: 0,
            ..Default::default()
        });
        let delays: Vec<u64> = (0..7)
            .map(|_| t.failure(ATTACKER, "ann").as_secs())
            .collect();
        assert_eq!(delays, [2, 2, 2, 2, 4, 8, 8]);
    }

    /// A webmail on 10.0.0.5 speaks for many users: its own address is never locked, and
    /// its failures do not make the next user wait longer.
    #[test]
    fn a_trusted_proxy_is_not_locked_out() {
        let proxy = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 5));
        let (t, _) = throttle(ThrottleConfig {
            trusted: vec!["10.0.0.0/24".parse().unwrap()],
            ..Default::default()
        });
        assert!(t.is_trusted(proxy));
        assert!(t.is_trusted("::ffff:10.0.0.5".parse().unwrap()));
        assert!(!t.is_trusted(ATTACKER));
        for _ in 0..30 {
            assert_eq!(t.failure(proxy, "ann"), Duration::ZERO);
        }
        assert_eq!(t.check(proxy, "bob"), Verdict::Allow);
        // The addresses behind it still are, when the proxy names them.
        for _ in 0..10 {
            t.failure(ATTACKER, "bob");
        }
        assert!(matches!(t.check(ATTACKER, "bob"), Verdict::Refuse { .. }));
        assert_eq!(t.check(proxy, "bob"), Verdict::Allow);
    }

    /// What `take_new_lockouts` hands to the store, `restore` puts back after a restart:
    /// the address stays locked, and so does the account, except for its owner's address.
    #[test]
    fn lockouts_survive_a_restart() {
        let config = ThrottleConfig {
            account_lockout_failures: 20,
            ..Default::default()
        };
        let (t, clock) = throttle(config.clone());
        t.success(USER_IP, "ann");
        for _ in 0..10 {
            t.failure(ATTACKER, "bob");
        }
        for i in 0..20u8 {
            t.failure(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, i)), "ann");
        }
        let saved = t.take_new_lockouts();
        assert_eq!(saved.len(), 2, "{saved:?}");
        assert!(t.take_new_lockouts().is_empty(), "handed over once");

        let restarted = Throttle::new(config, clock.clone());
        assert_eq!(restarted.restore(&saved), 2);
        assert!(matches!(
            restarted.check(ATTACKER, "bob"),
            Verdict::Refuse { .. }
        ));
        let stranger = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 99));
        assert!(matches!(
            restarted.check(stranger, "ann"),
            Verdict::Refuse { .. }
        ));
        assert_eq!(restarted.check(USER_IP, "ann"), Verdict::Allow);
        clock.advance(15 * 60);
        assert_eq!(restarted.check(ATTACKER, "bob"), Verdict::Allow);
        let later = Throttle::new(ThrottleConfig::default(), clock);
        assert_eq!(later.restore(&saved), 0, "expired ones are skipped");
    }

    #[test]
    fn success_clears_the_address() {
        let (t, _) = throttle(ThrottleConfig::default());
        for _ in 0..4 {
            t.failure(ATTACKER, "ann");
        }
        t.success(ATTACKER, "ann");
        assert_eq!(t.failure(ATTACKER, "ann"), Duration::ZERO);
    }

    #[test]
    fn an_address_is_locked_out_then_expires() {
        let (t, clock) = throttle(ThrottleConfig::default());
        for _ in 0..9 {
            t.failure(ATTACKER, "ann");
            assert_eq!(t.check(ATTACKER, "ann"), Verdict::Allow);
        }
        t.failure(ATTACKER, "ann");
        let refused = Verdict::Refuse {
            delay: Duration::from_secs(8),
        };
        assert_eq!(t.check(ATTACKER, "ann"), refused);
        assert_eq!(t.check(ATTACKER, "bob"), refused, "every account");
        assert_eq!(t.check(USER_IP, "ann"), Verdict::Allow, "other address");
        clock.advance(15 * 60 - 1);
        assert_eq!(t.check(ATTACKER, "ann"), refused);
        clock.advance(1);
        assert_eq!(t.check(ATTACKER, "ann"), Verdict::Allow);
        assert_eq!(t.failure(ATTACKER, "ann"), Duration::ZERO, "a fresh start");
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let (t, clock) = throttle(ThrottleConfig::default());
        for _ in 0..9 {
            t.failure(ATTACKER, "ann");
        }
        clock.advance(15 * 60);
        t.failure(ATTACKER, "ann");
        assert_eq!(t.check(ATTACKER, "ann"), Verdict::Allow);
    }

    #[test]
    fn a_spread_attack_locks_the_account_for_unknown_addresses_only() {
        let (t, clock) = throttle(ThrottleConfig {
            account_lockout_failures: 20,
            ..Default::default()
        });
        t.success(USER_IP, "Ann");
        for i in 0..20u8 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, i));
            t.failure(ip, "ann");
        }
        let new_ip = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 200));
        assert!(matches!(t.check(new_ip, "ANN"), Verdict::Refuse { .. }));
        assert_eq!(t.check(USER_IP, "ann"), Verdict::Allow, "known address");
        assert_eq!(t.check(new_ip, "bob"), Verdict::Allow, "other account");
        clock.advance(15 * 60);
        assert_eq!(t.check(new_ip, "ann"), Verdict::Allow, "lock expired");
    }

    #[test]
    fn one_attacking_address_never_locks_the_user_out() {
        let (t, _) = throttle(ThrottleConfig::default());
        for _ in 0..1000 {
            if t.check(ATTACKER, "ann") == Verdict::Allow {
                t.failure(ATTACKER, "ann");
            }
        }
        assert!(matches!(t.check(ATTACKER, "ann"), Verdict::Refuse { .. }));
        assert_eq!(t.check(USER_IP, "ann"), Verdict::Allow);
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        let (t, _) = throttle(ThrottleConfig::default());
        for i in 0..10u16 {
            let ip: IpAddr = format!("2001:db8::{i:x}").parse().unwrap();
            t.failure(ip, "ann");
        }
        let same_64: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        assert!(matches!(t.check(same_64, "ann"), Verdict::Refuse { .. }));
        let other_64: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(t.check(other_64, "ann"), Verdict::Allow);
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(IpKey::from(mapped), IpKey::from(ATTACKER));
    }

    #[test]
    fn tables_stay_bounded() {
        let (t, _) = throttle(ThrottleConfig {
            max_entries: 100,
            ..Default::default()
        });
        for i in 0..1000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            t.failure(ip, &format!("user{i}"));
        }
        let (ips, accounts) = t.sizes();
        assert!(ips <= 100 && accounts <= 100, "{ips} {accounts}");
    }

    fn spread_ip(i: u32) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i))
    }

    #[test]
    fn a_full_table_keeps_a_locked_account() {
        let (t, clock) = throttle(ThrottleConfig {
            max_entries: 10,
            account_lockout_failures: 20,
            ..Default::default()
        });
        for i in 0..20 {
            t.failure(spread_ip(i), "ann");
        }
        let new_ip = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 200));
        assert!(matches!(t.check(new_ip, "ann"), Verdict::Refuse { .. }));
        // The attacker now tries to push the lock out with fresh names from fresh addresses;
        // the locked entry is the oldest, so age alone would evict it first.
        clock.advance(1);
        for i in 100..1100 {
            t.failure(spread_ip(i), &format!("user{i}"));
        }
        let (ips, accounts) = t.sizes();
        assert!(ips <= 10 && accounts <= 10, "{ips} {accounts}");
        assert!(
            matches!(t.check(new_ip, "ann"), Verdict::Refuse { .. }),
            "still locked"
        );
    }

    #[test]
    fn a_full_table_keeps_a_locked_address() {
        let (t, clock) = throttle(ThrottleConfig {
            max_entries: 10,
            ..Default::default()
        });
        for _ in 0..10 {
            t.failure(ATTACKER, "ann");
        }
        assert!(matches!(t.check(ATTACKER, "bob"), Verdict::Refuse { .. }));
        clock.advance(1);
        for i in 0..1000 {
            t.failure(spread_ip(i), "ann");
        }
        assert!(t.sizes().0 <= 10);
        assert!(matches!(t.check(ATTACKER, "bob"), Verdict::Refuse { .. }));
    }

    #[test]
    fn a_full_table_keeps_known_addresses_over_plain_failures() {
        let (t, clock) = throttle(ThrottleConfig {
            max_entries: 10,
            account_lockout_failures: 20,
            ..Default::default()
        });
        t.success(USER_IP, "ann");
        clock.advance(1);
        for i in 0..1000 {
            t.failure(spread_ip(i), &format!("user{i}"));
        }
        for i in 2000..2020 {
            t.failure(spread_ip(i), "ann");
        }
        let new_ip = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 200));
        assert!(matches!(t.check(new_ip, "ann"), Verdict::Refuse { .. }));
        assert_eq!(t.check(USER_IP, "ann"), Verdict::Allow, "still known");
    }

    #[test]
    fn a_table_of_locked_entries_still_stays_bounded() {
        let (t, clock) = throttle(ThrottleConfig {
            max_entries: 5,
            ip_lockout_failures: 1,
            account_lockout_failures: 1,
            ..Default::default()
        });
        for i in 0..100 {
            clock.advance(1);
            t.failure(spread_ip(i), &format!("user{i}"));
        }
        let (ips, accounts) = t.sizes();
        assert!(ips <= 5 && accounts <= 5, "{ips} {accounts}");
        assert!(
            matches!(t.check(spread_ip(99), "x"), Verdict::Refuse { .. }),
            "the newest lock is kept"
        );
    }

    #[test]
    fn a_long_name_costs_no_more_than_a_short_one() {
        fn no_heap<T: Copy>(_: &T) {}
        let long = "A".repeat(10 * 1024);
        let key = account_key(&long);
        no_heap(&key);
        assert_eq!(std::mem::size_of_val(&key), 32);
        assert_eq!(key, account_key(&format!(" {} ", long.to_lowercase())));
        assert_ne!(key, account_key("a"));

        let (t, _) = throttle(ThrottleConfig::default());
        t.failure(ATTACKER, &long);
        t.failure(ATTACKER, "ann");
        let tables = t.lock();
        assert_eq!(tables.accounts.len(), 2);
        assert!(tables.accounts.contains_key(&key));
        assert!(tables.accounts.contains_key(&account_key("ANN")));
    }

    #[test]
    fn disabled_counts_nothing() {
        let (t, _) = throttle(ThrottleConfig {
            enabled: false,
            ..Default::default()
        });
        for _ in 0..100 {
            assert_eq!(t.failure(ATTACKER, "ann"), Duration::ZERO);
        }
        assert_eq!(t.check(ATTACKER, "ann"), Verdict::Allow);
    }
}
