//! The persistent outbound SMTP queue runner: delivers mail that users submitted to other
//! servers, and bounces what can't be delivered.
//!
//! It depends only on the storage API (`mailroom-store`): the queue itself lives in the store
//! (`OutboundQueue`), so it survives restarts and is shared by every node; a lease per message
//! (`queue:<id>`, `Leases`) keeps two nodes from sending the same message.
//!
//! # Wiring (for the binary)
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use mailroom_outbound::{OutboundConfig, QueueRunner};
//! # async fn wire(store: Arc<dyn mailroom_store::Store>) -> mailroom_outbound::Result<()> {
//! let mut config = OutboundConfig::new("mail.example.com"); // EHLO name, MAILER-DAEMON@…
//! config.relay = None;                      // or Some("smarthost:25".into())
//! let clock = Arc::new(mailroom_store::SystemClock);
//! let runner = QueueRunner::new(store, clock, config)?; // Err: bad relay or timeouts
//! let wake = runner.notifier();             // submission calls wake.notify_one() after enqueue
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let task = tokio::spawn(runner.run(async { let _ = stopped.await; }));
//! // … at shutdown:
//! let _ = stop.send(());
//! let _ = task.await;
//! # Ok(()) }
//! ```
//!
//! `QueueRunner::run_once` does one pass and returns a [`RunReport`]; `mailroom queue retry`
//! can call `OutboundQueue::retry_now` then `run_once`.
//!
//! [`OutboundConfig`] fields: `hostname`, `relay`, `max_age` (5 days), `timeouts`
//! ([`Timeouts`]: connect 30 s and the RFC 5321 §4.5.3.2 values), `tls` (opportunistic
//! STARTTLS, on), `interval` (60 s), `batch_size` (100), `lease_ttl` (1 h), `domain_timeout` (15 min per
//! domain and pass), `node_id` (default
//! `hostname`; must differ between nodes sharing a store) and `route` (a [`mx::Route`] override;
//! otherwise `relay`, otherwise DNS MX).
//!
//! # What one pass does
//!
//! 1. `due_messages(now)`, then per message: take the lease, re-read it, pick the pending
//!    recipients due now.
//! 2. Recipients the directory resolves (`Directory::resolve_recipient`) are delivered into
//!    their INBOX with `Messages::deliver`, never over the network; an unknown address in a
//!    local domain fails at once (550 5.1.1).
//! 3. The others are grouped by domain (or all together through a relay), routed ([`mx`]) and
//!    sent by the hand-written SMTP [`client`], which returns one result per recipient.
//! 4. Temporary failures are retried after 1 m, 5 m, 15 m, 30 m, 1 h, 2 h, then every 4 h
//!    ([`schedule`]) until `max_age`, when they fail (status 4.4.7).
//! 5. Permanent failures get one bounce ([`dsn`], RFC 3464) to the sender, queued with
//!    `enqueue` *before* the outcome is recorded with `record_attempt` (a crash in between
//!    gives at most a second bounce, never none). The null sender is never bounced.
//! 6. The DSN parameters (RFC 3461) queued with the message are honoured: NOTIFY, ORCPT, RET
//!    and ENVID go to a next hop that advertises DSN (which then reports itself); without
//!    DSN, a recipient's NOTIFY=SUCCESS gets a "relayed" report from us, and a local
//!    delivery's a "delivered" one. NOTIFY=NEVER, or a list without FAILURE, means no bounce
//!    for that recipient; a report repeats ENVID and each ORCPT and returns the whole
//!    message only for a failure with RET=FULL.
//!
//! All times come from the store's [`mailroom_store::Clock`], so tests drive the schedule with
//! a `ManualClock` instead of sleeping.

pub mod client;
mod config;
mod conn;
pub mod data;
pub mod dsn;
pub mod ehlo;
mod error;
mod local;
pub mod mx;
pub mod reply;
mod runner;
pub mod schedule;
mod timeouts;
pub mod tls;
pub mod xtext;

pub use config::OutboundConfig;
pub use error::{OutboundError, Result};
pub use runner::{QueueRunner, RunReport};
pub use timeouts::Timeouts;
