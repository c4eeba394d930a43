//! Typed errors for parsing client input and building protocol values.

use thiserror::Error;

/// Why a command (or continuation line) was rejected. Every variant is the
/// client's fault; the server maps it to a tagged (or untagged) BAD.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ParseError {
    #[error("line longer than {limit} octets")]
    LineTooLong { limit: usize },
    #[error("literal of {size} octets exceeds the limit of {limit}")]
    LiteralTooLarge { size: u64, limit: u64 },
    /// RFC 7888 §4: answer with BAD [TOOBIG].
    #[error("non-synchronizing literal of {size} octets exceeds LITERAL- limit of {limit}")]
    NonSyncLiteralTooLarge { size: u64, limit: u64 },
    #[error("command larger than {limit} octets")]
    CommandTooLarge { limit: u64 },
    #[error("tag longer than {limit} octets")]
    TagTooLong { limit: usize },
    #[error("missing or invalid tag")]
    InvalidTag,
    #[error("empty command line")]
    EmptyLine,
    #[error("line not terminated by CRLF")]
    BareLf,
    #[error("unknown command {0:?}")]
    UnknownCommand(String),
    #[error("syntax error at octet {offset}: expected {expected}")]
    Syntax {
        expected: &'static str,
        offset: usize,
    },
    #[error("number out of range at octet {offset}")]
    NumberOutOfRange { offset: usize },
    #[error("invalid date or time at octet {offset}")]
    InvalidDate { offset: usize },
    #[error("invalid base64")]
    InvalidBase64,
    #[error("nesting deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("{0}")]
    Invalid(&'static str),
}

impl ParseError {
    /// True when RFC 7888 / RFC 9051 want the [TOOBIG] response code.
    pub fn is_too_big(&self) -> bool {
        matches!(
            self,
            ParseError::LiteralTooLarge { .. }
                | ParseError::NonSyncLiteralTooLarge { .. }
                | ParseError::LineTooLong { .. }
                | ParseError::CommandTooLarge { .. }
        )
    }
}

/// A value given to a constructor does not satisfy the IMAP grammar.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {kind}: {value:?}")]
pub struct ValueError {
    pub kind: &'static str,
    pub value: String,
}

impl ValueError {
    pub(crate) fn new(kind: &'static str, value: impl AsRef<[u8]>) -> Self {
        ValueError {
            kind,
            value: String::from_utf8_lossy(value.as_ref()).into_owned(),
        }
    }
}
