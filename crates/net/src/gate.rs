//! Connection limits per listener: how many sessions run at once in total and how many come
//! from one address. A permit is held for a session's whole life and released on drop, so no
//! path (panic, early return, aborted task) can leak a slot.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Limits of one protocol's listeners (the plain and the implicit-TLS port share them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Sessions at once, from everyone. Loopback counts too: a local relay gone mad must not
    /// exhaust file descriptors either.
    pub total: usize,
    /// Sessions at once from one IPv4 address or one IPv6 /64; 0 means no per-address limit.
    pub per_ip: usize,
}

impl Default for ConnectionLimits {
    /// 1000 sessions per protocol is far below a default file-descriptor limit once raised
    /// for a server; 20 per address leaves room for a household or an office behind one NAT
    /// (each IMAP client opens several connections) while stopping one host from taking all.
    fn default() -> Self {
        ConnectionLimits {
            total: 1000,
            per_ip: 20,
        }
    }
}

/// Why a connection was turned away; each protocol words its own answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener runs as many sessions as it may.
    Total,
    /// This address already holds its share.
    PerAddress,
}

/// Counts open sessions; `try_enter` hands out permits.
#[derive(Debug)]
pub struct ConnectionGate {
    limits: ConnectionLimits,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
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
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut open = self.gate.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_address.get_mut(&self.address) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                // Forget addresses without sessions, so the map can't grow without bound.
                open.by_address.remove(&self.address);
            }
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
        assert!(gate.lock().by_address.is_empty());
        assert_eq!(gate.open_connections(), 0);
    }
}
