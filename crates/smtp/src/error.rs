//! Everything a command can fail with, grouped by who is at fault, and the one place that turns
//! each into its reply (RFC 5321 §4.2.2, §4.3.2; enhanced codes from RFC 3463).

use crate::proto::{ParseError, Reply};
use mailroom_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SmtpError {
    // The client broke the protocol: these count towards `max_errors`.
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("line too long")]
    LineTooLong,
    #[error("bad sequence of commands: {0}")]
    Sequence(&'static str),

    // The request is refused by policy.
    #[error("relaying denied")]
    RelayDenied,
    #[error("no such user")]
    UnknownUser,
    #[error("mailbox full")]
    OverQuota,
    #[error("too many recipients")]
    TooManyRecipients,
    #[error("message too large")]
    TooLarge,
    #[error("an address is not ASCII but MAIL had no SMTPUTF8")]
    Utf8NotDeclared,
    #[error("no valid recipients")]
    NoRecipients,
    #[error("TLS not available")]
    TlsUnavailable,
    #[error("LMTP needs LHLO")]
    LmtpNeedsLhlo,
    #[error("use EHLO")]
    EhloNeeded,
    #[error("too many errors")]
    TooManyErrors,
    #[error("timeout")]
    Timeout,

    // We failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("delivery failed: {0}")]
    Delivery(String),
}

impl SmtpError {
    /// Protocol errors a client makes; enough of them end the session.
    pub fn counts_as_protocol_error(&self) -> bool {
        matches!(
            self,
            SmtpError::Parse(_)
                | SmtpError::LineTooLong
                | SmtpError::Sequence(_)
                | SmtpError::LmtpNeedsLhlo
                | SmtpError::EhloNeeded
        )
    }

    /// The one mapping from errors to replies.
    pub fn reply(&self) -> Reply {
        match self {
            SmtpError::Parse(ParseError::Unknown) => {
                Reply::new(500, "5.5.1", "Command unrecognized")
            }
            SmtpError::Parse(ParseError::Syntax(why)) => {
                Reply::new(501, "5.5.4", format!("Syntax error: {why}"))
            }
            // RFC 5321 §4.1.1.11: 555 for a MAIL/RCPT parameter we don't know.
            SmtpError::Parse(ParseError::Parameter(p)) => {
                Reply::new(555, "5.5.4", format!("Parameter not recognized: {p}"))
            }
            SmtpError::LineTooLong => Reply::new(500, "5.5.2", "Line too long"),
            SmtpError::Sequence(why) => {
                Reply::new(503, "5.5.1", format!("Bad sequence of commands: {why}"))
            }
            SmtpError::RelayDenied => Reply::new(554, "5.7.1", "Relaying denied"),
            SmtpError::UnknownUser => Reply::new(550, "5.1.1", "No such user here"),
            SmtpError::OverQuota => Reply::new(452, "4.2.2", "Mailbox full"),
            SmtpError::TooManyRecipients => Reply::new(452, "4.5.3", "Too many recipients"),
            SmtpError::TooLarge => Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            ),
            // RFC 6531 §3.5: 553 5.6.7 for a UTF-8 address in a transaction without SMTPUTF8.
            SmtpError::Utf8NotDeclared => Reply::new(
                553,
                "5.6.7",
                "Non-ASCII address needs the SMTPUTF8 parameter on MAIL",
            ),
            SmtpError::NoRecipients => Reply::new(554, "5.5.1", "No valid recipients"),
            SmtpError::TlsUnavailable => {
                Reply::new(454, "4.7.0", "TLS not available or already active")
            }
            SmtpError::LmtpNeedsLhlo => {
                Reply::new(500, "5.5.1", "This is an LMTP server: use LHLO (RFC 2033)")
            }
            SmtpError::EhloNeeded => Reply::new(500, "5.5.1", "This is an SMTP server: use EHLO"),
            SmtpError::TooManyErrors => {
                Reply::new(421, "4.7.0", "Too many errors, closing connection")
            }
            SmtpError::Timeout => Reply::new(421, "4.4.2", "Timeout, closing connection"),
            SmtpError::Store(e) if e.is_client_error() => {
                Reply::new(550, "5.0.0", format!("Refused: {e}"))
            }
            SmtpError::Store(_) | SmtpError::Delivery(_) => {
                Reply::new(451, "4.3.0", "Temporary failure, try again later")
            }
        }
    }
}
