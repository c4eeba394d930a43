//! Connection limits per listener, on Dovecot's model so that an office behind one NAT address
//! works while one host still cannot take the server:
//! - `total`: sessions at once, from everyone;
//! - `per_ip`: sessions from one address that have **not logged in** (yet, or ever: the MX and
//!   LMTP never log in), which is what a flood of half-open connections holds;
//! - `per_user_ip`: sessions of one account from one address once logged in (Dovecot's
//!   `mail_max_userip_connections`), so fifty Thunderbirds of ten users behind one address
//!   all log in.
//!
//! A permit is held for a session's whole life and released on drop, so no path (panic,
//! early return, aborted task) can leak a slot; a login moves it from the address's count to
//! the (account, address) count.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Limits of one protocol's listeners (the plain and the implicit-TLS port share them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Sessions at once, from everyone. Loopback counts too: a local relay gone mad must not
    /// exhaust file descriptors either.
    pub total: usize,
    /// Sessions at once from one IPv4 address or one IPv6 /64 that have not logged in; 0
    /// means no such limit.
    pub per_ip: usize,
    /// Logged-in sessions at once of one account from one address; 0 means no such limit.
    pub per_user_ip: usize,
}

impl Default for ConnectionLimits {
    /// 1000 sessions per protocol is far below a default file-descriptor limit once raised
    /// for a server. 50 connections not logged in from one address is more than an office's
    /// mail programs open at once in the morning and far fewer than a flood; 10 per account
    /// and address is Dovecot's default (a laptop, a phone and a tablet with a few each).
    fn default() -> Self {
        ConnectionLimits {
            total: 1000,
            per_ip: 50,
            per_user_ip: 10,
        }
    }
}

/// Why a connection was turned away; each protocol words its own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener runs as many sessions as it may.
    Total,
    /// This address already holds its share of sessions not logged in.
    PerAddress,
}

/// A login refused by the gate: this account already has its share of sessions from this
/// address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many sessions of this account from this address")]
pub struct TooManyForAccount;

/// Counts open sessions; `try_enter` hands out permits.
#[derive(Debug)]
pub struct ConnectionGate {
    limits: ConnectionLimits,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    /// Sessions not logged in, by address.
    by_address: HashMap<IpAddr, usize>,
    /// Logged-in sessions by (address, account).
    by_user: HashMap<(IpAddr, String), usize>,
}

fn decrement<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = map.get_mut(key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            // Forget keys without sessions, so the maps can't grow without bound.
            map.remove(key);
        }
    }
}

impl ConnectionGate {
    pub fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(ConnectionGate {
            limits,
            open: Mutex::new(Open::default()),
        })
    }

    pub fn limits(&self) -> ConnectionLimits {
        self.limits
    }

    /// A permit for a session from `ip`, or why there is none.
    pub fn try_enter(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionPermit, Refusal> {
        let address = address_key(ip);
        let mut open = self.lock();
        if open.total >= self.limits.total.max(1) {
            return Err(Refusal::Total);
        }
        let from_address = open.by_address.get(&address).copied().unwrap_or(0);
        if self.limits.per_ip > 0 && from_address >= self.limits.per_ip {
            return Err(Refusal::PerAddress);
        }
        open.total += 1;
        open.by_address.insert(address, from_address + 1);
        Ok(ConnectionPermit {
            gate: self.clone(),
            address,
            user: None,
        })
    }

    /// Sessions open now.
    pub fn open_connections(&self) -> usize {
        self.lock().total
    }

    /// The counters stay consistent even if a holder panicked: every update is one step.
    fn lock(&self) -> MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One session's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct ConnectionPermit {
    gate: Arc<ConnectionGate>,
    address: IpAddr,
    /// The account (lower-cased address) once logged in.
    user: Option<String>,
}

impl ConnectionPermit {
    /// The session logged in as `user`: it leaves the address's count of sessions not logged
    /// in and joins the account's count from this address, unless that is full (then
    /// nothing changes and the session should refuse the login).
    pub fn logged_in(&mut self, user: &str) -> Result<(), TooManyForAccount> {
        let key = (self.address, user.to_lowercase());
        let mut open = self.gate.lock();
        if self.user.as_deref() == Some(key.1.as_str()) {
            return Ok(());
        }
        let count = open.by_user.get(&key).copied().unwrap_or(0);
        if self.gate.limits.per_user_ip > 0 && count >= self.gate.limits.per_user_ip {
            return Err(TooManyForAccount);
        }
        match self.user.take() {
            Some(old) => decrement(&mut open.by_user, &(self.address, old)),
            None => decrement(&mut open.by_address, &self.address),
        }
        open.by_user.insert(key.clone(), count + 1);
        self.user = Some(key.1);
        Ok(())
    }

    /// The session is no longer logged in (IMAP UNAUTHENTICATE): it counts for its address
    /// again.
    pub fn logged_out(&mut self) {
        let Some(user) = self.user.take() else {
            return;
        };
        let mut open = self.gate.lock();
        decrement(&mut open.by_user, &(self.address, user));
        *open.by_address.entry(self.address).or_insert(0) += 1;
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut open = self.gate.lock();
        open.total = open.total.saturating_sub(1);
        match self.user.take() {
            Some(user) => decrement(&mut open.by_user, &(self.address, user)),
            None => decrement(&mut open.by_address, &self.address),
        }
    }
}

/// What "one address" means: an IPv4 address (IPv4-mapped IPv6 included), or an IPv6 /64,
/// because one host usually owns a whole /64 and could otherwise pick a fresh address for
/// every connection.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn per_address_limit_refuses_and_drop_releases() {
        let gate = ConnectionGate::new(ConnectionLimits {
            total: 100,
            per_ip: 2,
            per_user_ip: 0,
        });
        let first = gate.try_enter(ip("192.0.2.1")).unwrap();
        let _second = gate.try_enter(ip("192.0.2.1")).unwrap();
        assert_eq!(
            gate.try_enter(ip("192.0.2.1")).unwrap_err(),
            Refusal::PerAddress
        );
        // Another address is unaffected.
        let _other = gate.try_enter(ip("192.0.2.2")).unwrap();
        drop(first);
        let _third = gate.try_enter(ip("192.0.2.1")).unwrap();
        assert_eq!(gate.open_connections(), 3);
    }

    #[test]
    fn total_limit_counts_loopback_too() {
        let gate = ConnectionGate::new(ConnectionLimits {
            total: 2,
            per_ip: 0,
            per_user_ip: 0,
        });
        let a = gate.try_enter(ip("127.0.0.1")).unwrap();
        let _b = gate.try_enter(ip("::1")).unwrap();
        assert_eq!(gate.try_enter(ip("127.0.0.1")).unwrap_err(), Refusal::Total);
        drop(a);
        assert!(gate.try_enter(ip("127.0.0.1")).is_ok());
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let gate = ConnectionGate::new(ConnectionLimits {
            total: 100,
            per_ip: 1,
            per_user_ip: 0,
        });
        let _a = gate.try_enter(ip("2001:db8::1")).unwrap();
        assert_eq!(
            gate.try_enter(ip("2001:db8::2")).unwrap_err(),
            Refusal::PerAddress
        );
        let _b = gate.try_enter(ip("2001:db8:0:1::1")).unwrap();
        let _c = gate.try_enter(ip("192.0.2.7")).unwrap();
        assert_eq!(
            gate.try_enter(ip("::ffff:192.0.2.7")).unwrap_err(),
            Refusal::PerAddress
        );
    }

    #[test]
    fn released_addresses_are_forgotten() {
        let gate = ConnectionGate::new(ConnectionLimits::default());
        drop(gate.try_enter(ip("192.0.2.1")).unwrap());
        let mut permit = gate.try_enter(ip("192.0.2.1")).unwrap();
        permit.logged_in("ann@example.test").unwrap();
        drop(permit);
        assert!(gate.lock().by_address.is_empty());
        assert!(gate.lock().by_user.is_empty());
        assert_eq!(gate.open_connections(), 0);
    }

    /// An office behind one NAT address: ten users with five sessions each log in, while the
    /// address's sessions that never log in are still bounded.
    #[test]
    fn fifty_logged_in_sessions_from_one_address_and_no_flood() {
        let gate = ConnectionGate::new(ConnectionLimits::default());
        let office = ip("198.51.100.7");
        let mut sessions = Vec::new();
        for user in 0..10 {
            for _ in 0..5 {
                let mut permit = gate.try_enter(office).unwrap();
                permit
                    .logged_in(&format!("user{user}@example.test"))
                    .unwrap();
                sessions.push(permit);
            }
        }
        let mut half_open = Vec::new();
        let refused = (0..1000)
            .filter(|_| match gate.try_enter(office) {
                Ok(p) => {
                    half_open.push(p);
                    false
                }
                Err(r) => {
                    assert_eq!(r, Refusal::PerAddress);
                    true
                }
            })
            .count();
        assert_eq!(half_open.len(), 50);
        assert_eq!(refused, 950);
        assert_eq!(gate.open_connections(), 100);
    }

    #[test]
    fn one_account_from_one_address_is_bounded_and_logout_counts_again() {
        let gate = ConnectionGate::new(ConnectionLimits {
            total: 100,
            per_ip: 3,
            per_user_ip: 2,
        });
        let a = ip("192.0.2.1");
        let mut first = gate.try_enter(a).unwrap();
        let mut second = gate.try_enter(a).unwrap();
        let mut third = gate.try_enter(a).unwrap();
        first.logged_in("Ann@Example.test").unwrap();
        second.logged_in("ann@example.test").unwrap();
        assert_eq!(
            third.logged_in("ann@example.test").unwrap_err(),
            TooManyForAccount
        );
        // Refused: it still counts as not logged in; another account is fine.
        third.logged_in("bob@example.test").unwrap();
        // The same account from another address is fine too.
        let mut elsewhere = gate.try_enter(ip("192.0.2.2")).unwrap();
        elsewhere.logged_in("ann@example.test").unwrap();
        first.logged_out();
        let _fourth = gate.try_enter(a).unwrap();
        let _fifth = gate.try_enter(a).unwrap();
        // first (logged out) and two new ones: the address's three.
        assert_eq!(gate.try_enter(a).unwrap_err(), Refusal::PerAddress);
    }
}
