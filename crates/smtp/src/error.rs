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
    #[error("a line of the message ended in a bare CR or LF")]
    BareLineEnd,
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
    #[error("too many refused recipients")]
    TooManyRecipientErrors,
    #[error("XCLIENT from an address that is not a trusted proxy")]
    XclientRefused,
    #[error("commands sent too fast for too long")]
    TooFast,
    #[error("timeout")]
    Timeout,

    // Authentication (RFC 4954) and what an authenticated user may send (RFC 6409).
    #[error("authentication required")]
    AuthRequired,
    #[error("encryption required for AUTH")]
    EncryptionRequired,
    #[error("authentication failed")]
    AuthFailed,
    #[error("authentication cancelled")]
    AuthCancelled,
    #[error("malformed SASL response")]
    AuthMalformed,
    #[error("unknown SASL mechanism")]
    UnknownMechanism,
    #[error("authentication temporarily unavailable")]
    AuthUnavailable,
    #[error("too many authentication failures")]
    TooManyAuthFailures,
    #[error("too many sessions of this account from this address")]
    AccountBusy,
    #[error("sender address not owned by the authenticated user")]
    SenderNotOwned,
    #[error("null sender on submission")]
    NullSender,
    #[error("From header address not owned by the authenticated user")]
    FromNotOwned,
    #[error("rejected by the DMARC policy of {0}")]
    DmarcReject(String),

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
                | SmtpError::AuthFailed
                | SmtpError::AuthMalformed
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
            // RFC 5321 §2.3.8: lines end in CRLF; Postfix's smtpd_forbid_bare_newline = reject
            // answers the same way.
            SmtpError::BareLineEnd => Reply::new(
                550,
                "5.6.0",
                "Message refused: a line ended in a bare CR or LF, lines must end with CRLF",
            ),
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
            SmtpError::TooManyRecipientErrors => Reply::new(
                421,
                "4.7.0",
                "Too many unknown recipients, closing connection",
            ),
            // Postfix's answer to an XCLIENT it does not take from this client.
            SmtpError::XclientRefused => Reply::new(550, "5.7.0", "Insufficient authorization"),
            SmtpError::Timeout => Reply::new(421, "4.4.2", "Timeout, closing connection"),
            SmtpError::TooFast => Reply::new(
                421,
                "4.7.0",
                "Too many commands, slow down; closing connection",
            ),
            // RFC 4954 §6 gives the codes of this group.
            SmtpError::AuthRequired => Reply::new(530, "5.7.0", "Authentication required"),
            SmtpError::EncryptionRequired => Reply::new(
                538,
                "5.7.11",
                "Encryption required for requested authentication mechanism",
            ),
            SmtpError::AuthFailed => Reply::new(535, "5.7.8", "Authentication credentials invalid"),
            SmtpError::AuthCancelled => Reply::new(501, "5.7.0", "Authentication cancelled"),
            SmtpError::AuthMalformed => Reply::new(501, "5.5.2", "Cannot decode the SASL response"),
            SmtpError::UnknownMechanism => {
                Reply::new(504, "5.5.4", "Unrecognized authentication type")
            }
            SmtpError::AuthUnavailable => {
                Reply::new(454, "4.7.0", "Temporary authentication failure")
            }
            SmtpError::AccountBusy => Reply::new(
                421,
                "4.7.0",
                "Too many sessions of this account from your address, closing connection",
            ),
            SmtpError::TooManyAuthFailures => Reply::new(
                421,
                "4.7.0",
                "Too many authentication failures, closing connection",
            ),
            // RFC 6409 §6.1: the MSA may refuse a sender the user is not entitled to.
            SmtpError::SenderNotOwned => Reply::new(
                553,
                "5.7.1",
                "Sender address not owned by the authenticated user",
            ),
            // RFC 5321 §4.5.5: <> is for notifications; a user sends from an address.
            SmtpError::NullSender => Reply::new(553, "5.7.1", "Use your own address as the sender"),
            SmtpError::FromNotOwned => Reply::new(
                553,
                "5.7.1",
                "From header missing or not owned by the authenticated user",
            ),
            // RFC 7489 §6.7 (and §10.3 for the code).
            SmtpError::DmarcReject(domain) => Reply::new(
                550,
                "5.7.1",
                format!("Rejected by the DMARC policy of {domain}"),
            ),
            // RFC 3463 4.3.1: the sender keeps the message and tries again later.
            SmtpError::Store(StoreError::StorageFull) => {
                Reply::new(452, "4.3.1", "Insufficient system storage")
            }
            SmtpError::Store(e) if e.is_client_error() => {
                Reply::new(550, "5.0.0", format!("Refused: {e}"))
            }
            SmtpError::Store(_) | SmtpError::Delivery(_) => {
                Reply::new(451, "4.3.0", "Temporary failure, try again later")
            }
        }
    }
}
