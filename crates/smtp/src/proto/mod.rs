//! SMTP/LMTP grammar as pure functions: a command line in, a typed command out (RFC 5321 §4.1,
//! RFC 2033 §4.1, RFC 3030 BDAT, RFC 3207 STARTTLS, RFC 4954 AUTH, RFC 3461 DSN parameters);
//! replies as bytes (RFC 5321 §4.2, RFC 2034). Fuzzed by `fuzz/fuzz_targets/smtp_command.rs`.
//!
//! Why not the `smtp-proto` crate named in stack.md: it is not in this machine's crate cache and
//! could not be checked against rustc 1.95 within this piece of work, while what we need from
//! it is small (the verbs, two paths and a handful of parameters). The text of DATA is decoded
//! by [`data::DataDecoder`], where the end of data and dot-stuffing are decided.

mod command;
pub mod data;
pub mod dsn;
mod reply;

pub use command::{BodyType, Command, MailParams, ParseError, Path, Xclient, parse_command};
pub use data::BareLineEnds;
pub use dsn::{Notify, Orcpt, RcptParams, Ret};
pub use reply::Reply;

/// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF; RFC 1869 §4.1.2
/// lets each extension raise that (SIZE, SMTPUTF8, BODY…), so we allow a generous 1024.
pub const MAX_COMMAND_LINE: usize = 1024;

/// RFC 5321 §4.5.3.1.3: a path is at most 256 octets.
pub const MAX_PATH: usize = 256;
