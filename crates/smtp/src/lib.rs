//! Receiving SMTP over the storage API: the inbound MX (RFC 5321) and LMTP (RFC 2033), one
//! engine with two modes. Extensions: PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME
//! (RFC 6152), SMTPUTF8 (RFC 6531), ENHANCEDSTATUSCODES (RFC 2034), CHUNKING (RFC 3030) and
//! STARTTLS (RFC 3207).
//!
//! Choices worth knowing:
//! - Only `<CRLF>.<CRLF>` ends a message, so no sender can make us see a message end (and
//!   commands after it) where a strict relay in front of us did not (SMTP smuggling). Lines
//!   inside DATA that end in a bare LF (RFC 5321 §2.3.8 forbids them; scripts feeding mbox
//!   files send them) are accepted and stored with CRLF. A client that ends DATA with a bare
//!   `LF.LF` waits for the data timeout. Command lines may end in a bare LF. BDAT content is
//!   binary by definition (RFC 3030) and stored as sent.
//! - Every reply comes from one mapping (`error.rs`); the message is durable in the store
//!   before any 250 after DATA/BDAT LAST.
//! - Over quota found at RCPT time is 452 4.2.2 for that recipient. Found only when storing:
//!   LMTP answers 452 for that recipient; SMTP answers 250 if anyone got the message (the
//!   miss is logged: bounces need the outbound queue, which is not built yet).
//!
//! Not here (on purpose, they come with the next piece of work): submission with AUTH, and
//! the outbound queue. AUTH is therefore never advertised, and nothing is ever relayed.

mod connection;
mod delivery;
mod error;
pub mod proto;
mod server;
mod session;
mod trace;

pub use server::{Mode, SmtpConfig, SmtpServer, Timeouts};
