//! How long the client waits for each step of a session. The defaults are the minimums of
//! RFC 5321 §4.5.3.2; tests use short ones.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening the TCP connection (and the TLS handshake). RFC 5321 names none; 30 s is what
    /// common MTAs use before trying the next MX.
    pub connect: Duration,
    /// The 220 greeting: 5 minutes (§4.5.3.2.1).
    pub greeting: Duration,
    /// EHLO, STARTTLS, MAIL (§4.5.3.2.2) and RCPT (§4.5.3.2.3): 5 minutes.
    pub command: Duration,
    /// The 354 after DATA: 2 minutes (§4.5.3.2.4).
    pub data_init: Duration,
    /// Each block of the body we send: 3 minutes (§4.5.3.2.5).
    pub data_block: Duration,
    /// The reply after the final ".": 10 minutes (§4.5.3.2.6).
    pub data_end: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            greeting: Duration::from_secs(5 * 60),
            command: Duration::from_secs(5 * 60),
            data_init: Duration::from_secs(2 * 60),
            data_block: Duration::from_secs(3 * 60),
            data_end: Duration::from_secs(10 * 60),
        }
    }
}

impl Timeouts {
    /// The same limit for every step (tests).
    pub fn uniform(limit: Duration) -> Self {
        Timeouts {
            connect: limit,
            greeting: limit,
            command: limit,
            data_init: limit,
            data_block: limit,
            data_end: limit,
        }
    }
}
