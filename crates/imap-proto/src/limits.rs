//! Hard limits enforced by the framer (habit 6): exceeding one is a typed
//! [`ParseError`](crate::ParseError), never a panic or an unbounded buffer.

/// RFC 7162 §4 asks servers to accept command lines of at least 8192 octets
/// (long UID sets from CONDSTORE/QRESYNC clients); Dovecot takes 64 KiB, and clients send
/// that much (an ID with long values, a UID set of a large mailbox).
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// The lines of one command together, literal data not counted: what parsing and every
/// command's work grow with (a SEARCH of many literal strings), far below the literal limit,
/// which is for message data.
pub const DEFAULT_MAX_TEXT: u64 = 256 * 1024;

/// Largest literal accepted by default (an APPEND of a 64 MiB message).
pub const DEFAULT_MAX_LITERAL: u64 = 64 * 1024 * 1024;

/// Largest whole command (all lines and literals). Bounds MULTIAPPEND and
/// any command made of many small non-synchronizing literals.
pub const DEFAULT_MAX_COMMAND: u64 = 2 * DEFAULT_MAX_LITERAL;

/// Tags are opaque to the server; anything longer than this is abuse.
pub const DEFAULT_MAX_TAG: usize = 64;

/// RFC 7888 §4: a server advertising LITERAL- accepts non-synchronizing
/// literals only up to 4096 octets.
pub const LITERAL_MINUS_MAX: u64 = 4096;

/// Nesting depth of parenthesised SEARCH keys / NOT chains. Parsing is
/// recursive, so client input must not be able to exhaust the stack.
pub const MAX_NESTING: usize = 32;

/// The limits one connection runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line (excluding literal data and the CRLF).
    pub max_line: usize,
    /// Largest literal of any kind.
    pub max_literal: u64,
    /// Largest command, lines and literals together.
    pub max_command: u64,
    /// The command's lines together (literal data not counted).
    pub max_text: u64,
    /// Longest tag.
    pub max_tag: usize,
    /// `Some(n)` when only LITERAL- is offered: non-synchronizing literals
    /// above `n` octets are rejected with [TOOBIG]. `None` for LITERAL+.
    pub max_non_sync_literal: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: DEFAULT_MAX_LINE,
            max_literal: DEFAULT_MAX_LITERAL,
            max_command: DEFAULT_MAX_COMMAND,
            max_text: DEFAULT_MAX_TEXT,
            max_tag: DEFAULT_MAX_TAG,
            max_non_sync_literal: None,
        }
    }
}

impl Limits {
    /// Limits for a server that advertises LITERAL- rather than LITERAL+.
    pub fn literal_minus() -> Self {
        Limits {
            max_non_sync_literal: Some(LITERAL_MINUS_MAX),
            ..Limits::default()
        }
    }
}
