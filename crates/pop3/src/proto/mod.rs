//! POP3 grammar as pure functions: a command line in, a typed command out (RFC 1939 §3-7,
//! RFC 2449 CAPA, RFC 5034 AUTH, RFC 2595 STLS, RFC 6856 UTF8); replies as bytes.

mod command;
mod reply;

pub use command::{Command, ParseError, parse_command};
pub use reply::{RespCode, dot_stuff, err, ok};

/// RFC 2449 §4: a command line, CRLF included, is at most 255 octets. We accept a little more
/// for long SASL initial responses (a base64 PLAIN of a long address and password).
pub const MAX_LINE: usize = 1024;
