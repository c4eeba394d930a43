//! SMTP over the storage API, one engine with three modes: the inbound MX (RFC 5321), LMTP
//! (RFC 2033) and message submission (RFC 6409, RFC 8314). Extensions: PIPELINING (RFC 2920),
//! SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), ENHANCEDSTATUSCODES (RFC 2034),
//! CHUNKING (RFC 3030), DSN (RFC 3461), STARTTLS (RFC 3207) and, on submission only, AUTH
//! PLAIN/LOGIN (RFC 4954).
//!
//! Choices worth knowing:
//! - Only `<CRLF>.<CRLF>` ends a message, so no sender can make us see a message end (and
//!   commands after it) where a strict relay in front of us did not (SMTP smuggling,
//!   `proto/data.rs`). Bare CR and LF in a message (RFC 5321 §2.3.8 forbids them; scripts and
//!   old programs send them) are stored as CRLF, in DATA and in BDAT, or the whole message is
//!   refused with 550 5.6.0 (`SmtpConfig::bare_line_ends`). So nothing we store or relay
//!   holds a line end another server could read differently. A client that ends DATA with
//!   a bare `LF.LF` waits for the data timeout. Inside a message only the size limit applies,
//!   never a line length. Command lines may end in a bare LF; a bare CR never ends one.
//! - Every reply comes from one mapping (`error.rs`); the message is durable in the store
//!   (or the outbound queue) before any 250 after DATA/BDAT LAST.
//! - Over quota found at RCPT time is 452 4.2.2 for that recipient. Found only when storing:
//!   LMTP answers 452 for that recipient; SMTP answers 250 if anyone got the message and the
//!   sender gets a bounce (RFC 3464) for the others (`bounce.rs`; never to `<>`).
//! - DSN (RFC 3461): as the final delivery agent (MX, LMTP, submission's local recipients) we
//!   honour NOTIFY: SUCCESS sends the sender a "delivered" report (headers only), NEVER or a
//!   list without FAILURE suppresses the bounce above; ORCPT and ENVID are repeated in the
//!   reports, RET=FULL returns the whole message with a failure. Over LMTP failures are the
//!   client's to report (it has our reply per recipient). Submission accepts the parameters
//!   for remote recipients but does not relay them: the outbound queue doesn't carry them yet,
//!   so the next hop applies its defaults.
//! - The MX never relays and never offers AUTH. It checks SPF, DKIM and DMARC when given a
//!   resolver (`SmtpServer::with_dns`) and records them in Authentication-Results (RFC 8601),
//!   dropping any that claim our name; only DMARC p=reject refuses (550 5.7.1). DNS trouble
//!   gives temperror and the message is accepted.
//! - Submission requires AUTH before MAIL, offered only over TLS, loopback, or where the
//!   operator allows plaintext; the envelope sender and the From addresses must belong to the
//!   user (account address or alias). Local recipients are delivered at once, others go to
//!   the outbound queue; the message is DKIM-signed with its domain's key (`dkim.rs`).

mod bounce;
mod delivery;
pub mod dkim;
mod dns;
mod error;
mod headers;
mod inbound;
pub mod proto;
mod server;
mod session;
mod trace;

pub use dkim::{DkimError, DnsRecord, RecordType, dns_records, generate_key, sign};
pub use dns::{Dns, DnsError};
pub use server::{Mode, SmtpConfig, SmtpServer, Timeouts};
