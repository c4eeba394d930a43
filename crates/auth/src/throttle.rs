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
//! Time is whole seconds from the injected `Clock`; the delays are returned, not slept, so the
//! protocol applies them (and tests check them without waiting).

use mailroom_store::Clock;
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
    /// Failures (per address) answered without delay: everyone mistypes.
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
    /// Entries per table; the oldest go first when it is full.
    pub max_entries: usize,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        ThrottleConfig {
            enabled: true,
            free_failures: 2,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            window: Duration::from_secs(15 * 60),
            ip_lockout_failures: 10,
            account_lockout_failures: 50,
            lockout: Duration::from_secs(15 * 60),
            remember_success: Duration::from_secs(30 * 24 * 3600),
            max_entries: 100_000,
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
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => IpKey(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpKey(IpAddr::V4(v4)),
                None => {
                    let bits = u128::from(v6) & !((1u128 << 64) - 1);
                    IpKey(IpAddr::V6(bits.into()))
                }
            },
        }
    }
}

struct Tables {
    ips: HashMap<IpKey, Failures>,
    accounts: HashMap<String, AccountEntry>,
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

/// Account names are compared as users type them: case-insensitively.
fn account_key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Throttle {
    pub fn new(config: ThrottleConfig, clock: Arc<dyn Clock>) -> Self {
        Throttle {
            config,
            clock,
            tables: Mutex::new(Tables {
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
        let tables = self.lock();
        let refuse = Verdict::Refuse {
            delay: self.config.max_delay,
        };
        if tables.ips.get(&ip).is_some_and(|f| f.locked(now)) {
            return refuse;
        }
        if let Some(entry) = tables.accounts.get(&account_key(account))
            && entry.failures.locked(now)
            && !self.known(entry, ip, now)
        {
            return refuse;
        }
        Verdict::Allow
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
        let mut tables = self.lock();
        let max = c.max_entries;
        make_room(
            &mut tables.ips,
            max,
            |f| f.expired(now, window),
            |f| f.touched,
        );
        let failures = tables.ips.entry(ip).or_default();
        if failures.add(now, window, c.ip_lockout_failures, lockout) {
            tracing::warn!(peer = %peer, "too many failed logins: address locked out");
        }
        let count = failures.count;
        let keep = secs(c.remember_success);
        make_room(
            &mut tables.accounts,
            max,
            |e| e.failures.expired(now, window) && e.known.values().all(|&t| now - t >= keep),
            |e| e.failures.touched,
        );
        let entry = tables.accounts.entry(account_key(account)).or_default();
        if entry
            .failures
            .add(now, window, c.account_lockout_failures, lockout)
        {
            // The name is not logged: it may be a password typed into the user field.
            tracing::warn!("too many failed logins for one account: locked for new addresses");
        }
        self.delay(count)
    }

    /// After a successful login: forgets the address's failures and remembers it for the
    /// account.
    pub fn success(&self, peer: IpAddr, account: &str) {
        if !self.config.enabled {
            return;
        }
        let now = self.clock.now();
        let ip = IpKey::from(peer);
        let mut tables = self.lock();
        tables.ips.remove(&ip);
        let keep = secs(self.config.remember_success);
        let window = secs(self.config.window);
        make_room(
            &mut tables.accounts,
            self.config.max_entries,
            |e| e.failures.expired(now, window) && e.known.values().all(|&t| now - t >= keep),
            |e| e.failures.touched,
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

    /// The delay after the `count`th failure: none for the free ones, then base, 2×base, 4×base…
    /// up to the cap.
    fn delay(&self, count: u32) -> Duration {
        let c = &self.config;
        let Some(n) = count.checked_sub(c.free_failures + 1) else {
            return Duration::ZERO;
        };
        let factor = 1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX);
        c.base_delay.saturating_mul(factor).min(c.max_delay)
    }

    #[cfg(test)]
    fn sizes(&self) -> (usize, usize) {
        let t = self.lock();
        (t.ips.len(), t.accounts.len())
    }
}

/// Keeps a table under `max` entries: expired ones go first, then the least recently touched
/// tenth (a full table of live entries is an attack; forgetting the oldest is the least harm).
fn make_room<K: Eq + Hash + Clone, V>(
    map: &mut HashMap<K, V>,
    max: usize,
    expired: impl Fn(&V) -> bool,
    touched: impl Fn(&V) -> i64,
) {
    if map.len() < max.max(1) {
        return;
    }
    map.retain(|_, v| !expired(v));
    if map.len() < max.max(1) {
        return;
    }
    let mut ages: Vec<(i64, K)> = map.iter().map(|(k, v)| (touched(v), k.clone())).collect();
    ages.sort_by_key(|(t, _)| *t);
    let drop = (map.len() / 10).max(1);
    for (_, key) in ages.into_iter().take(drop) {
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
