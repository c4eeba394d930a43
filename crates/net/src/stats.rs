//! Counters for `/metrics`: connections per protocol (counted by the accept loop), logins
//! and deliveries (counted by the protocols). Process-wide atomics: counting never waits.

use std::sync::atomic::{AtomicU64, Ordering};

/// The protocols counted, in the order `snapshot` lists them.
pub const PROTOCOLS: [&str; 6] = ["imap", "pop3", "smtp", "lmtp", "submission", "http"];

#[derive(Default)]
struct Counters {
    accepted: AtomicU64,
    refused: AtomicU64,
    open: AtomicU64,
    logins: AtomicU64,
    login_failures: AtomicU64,
    deliveries: AtomicU64,
}

static COUNTERS: [Counters; 6] = [const {
    Counters {
        accepted: AtomicU64::new(0),
        refused: AtomicU64::new(0),
        open: AtomicU64::new(0),
        logins: AtomicU64::new(0),
        login_failures: AtomicU64::new(0),
        deliveries: AtomicU64::new(0),
    }
}; 6];

fn of(protocol: &str) -> Option<&'static Counters> {
    PROTOCOLS
        .iter()
        .position(|p| *p == protocol)
        .map(|i| &COUNTERS[i])
}

/// One protocol's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProtocolStats {
    pub accepted: u64,
    pub refused: u64,
    pub open: u64,
    pub logins: u64,
    pub login_failures: u64,
    pub deliveries: u64,
}

pub fn snapshot() -> Vec<(&'static str, ProtocolStats)> {
    PROTOCOLS
        .iter()
        .zip(COUNTERS.iter())
        .map(|(p, c)| {
            (
                *p,
                ProtocolStats {
                    accepted: c.accepted.load(Ordering::Relaxed),
                    refused: c.refused.load(Ordering::Relaxed),
                    open: c.open.load(Ordering::Relaxed),
                    logins: c.logins.load(Ordering::Relaxed),
                    login_failures: c.login_failures.load(Ordering::Relaxed),
                    deliveries: c.deliveries.load(Ordering::Relaxed),
                },
            )
        })
        .collect()
}

/// A login on `protocol`, good or failed.
pub fn login(protocol: &str, ok: bool) {
    if let Some(c) = of(protocol) {
        let counter = if ok { &c.logins } else { &c.login_failures };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// A message accepted for delivery on `protocol` (per message, not per recipient).
pub fn delivered(protocol: &str) {
    if let Some(c) = of(protocol) {
        c.deliveries.fetch_add(1, Ordering::Relaxed);
    }
}

pub(crate) fn refused(protocol: &str) {
    if let Some(c) = of(protocol) {
        c.refused.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts an accepted connection as open until dropped.
pub(crate) struct OpenConnection(Option<&'static Counters>);

impl OpenConnection {
    pub(crate) fn new(protocol: &str) -> Self {
        let c = of(protocol);
        if let Some(c) = c {
            c.accepted.fetch_add(1, Ordering::Relaxed);
            c.open.fetch_add(1, Ordering::Relaxed);
        }
        OpenConnection(c)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        if let Some(c) = self.0 {
            c.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
