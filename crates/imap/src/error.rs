//! Typed session errors grouped by who is at fault, and the one function that maps them to
//! IMAP's answers (habit 7).

use mailroom_imap_proto::response::{Code, Completion, Response, StatusKind, Text};
use mailroom_imap_proto::{ParseError, Tag};
use mailroom_store::StoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub(crate) enum ImapError {
    /// The command is malformed or not valid in this state: tagged BAD.
    #[error("{0}")]
    Bad(String),
    /// Well-formed but refused: tagged NO, with an optional response code.
    #[error("{1}")]
    No(Option<Code>, String),
    /// The storage layer failed or refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The session ends: untagged BYE (RFC 9051 §7.1.5), never tagged.
    #[error("{1}")]
    Bye(Option<Code>, String),
}

impl ImapError {
    pub(crate) fn bad(text: impl Into<String>) -> Self {
        ImapError::Bad(text.into())
    }

    pub(crate) fn no(text: impl Into<String>) -> Self {
        ImapError::No(None, text.into())
    }

    pub(crate) fn no_code(code: Code, text: impl Into<String>) -> Self {
        ImapError::No(Some(code), text.into())
    }
}

/// The only place that turns an error into protocol output.
pub(crate) fn error_response(tag: Option<Tag>, error: &ImapError) -> Response {
    let (status, code, text) = match error {
        ImapError::Bad(text) => (Completion::Bad, None, text.clone()),
        ImapError::No(code, text) => (Completion::No, code.clone(), text.clone()),
        ImapError::Store(e) => store_answer(e),
        ImapError::Bye(code, text) => {
            return Response::untagged(StatusKind::Bye, code.clone(), Text::sanitized(text));
        }
    };
    match tag {
        Some(tag) => Response::tagged(tag, status, code, Text::sanitized(&text)),
        None => Response::untagged(
            match status {
                Completion::Ok => StatusKind::Ok,
                Completion::No => StatusKind::No,
                Completion::Bad => StatusKind::Bad,
            },
            code,
            Text::sanitized(&text),
        ),
    }
}

/// A failure of APPEND, COPY or MOVE: no room for the mail, in the account (its quota) or on
/// the server's disk, is OVERQUOTA as Dovecot answers both, so clients show it as "no room"
/// and not as a server fault; the text tells the two apart.
pub(crate) fn adding_mail_error(e: StoreError) -> ImapError {
    match e {
        StoreError::OverQuota => ImapError::no_code(Code::OverQuota, "over quota"),
        StoreError::StorageFull => {
            tracing::error!("store failure: the disk is full");
            ImapError::no_code(Code::OverQuota, "not enough disk space on the server")
        }
        other => other.into(),
    }
}

/// RFC 5530 response codes for store failures; server faults are temporary (`UNAVAILABLE`)
/// and never leak internal detail.
fn store_answer(error: &StoreError) -> (Completion, Option<Code>, String) {
    let no = |code: Code, text: &str| (Completion::No, Some(code), text.to_string());
    match error {
        StoreError::NotFound(what) => no(Code::NonExistent, &format!("{what} not found")),
        StoreError::AlreadyExists(what) => {
            no(Code::AlreadyExists, &format!("{what} already exists"))
        }
        StoreError::Invalid { what, reason } => {
            no(Code::Cannot, &format!("invalid {what}: {reason}"))
        }
        StoreError::NotAllowed(why) => no(Code::Cannot, why),
        StoreError::OverQuota => no(Code::OverQuota, "over quota"),
        StoreError::TooLarge => no(Code::TooBig, "message too large"),
        StoreError::StorageFull => {
            tracing::error!("store failure: the disk is full");
            no(
                Code::Unavailable,
                "not enough disk space on the server, try again later",
            )
        }
        other => {
            tracing::error!(error = %other, "store failure");
            no(
                Code::Unavailable,
                "temporary server failure, try again later",
            )
        }
    }
}

/// The answer to a command the framer rejected (RFC 9051 §7.1.3, RFC 7888 §4).
pub(crate) fn parse_error_response(tag: Option<Tag>, error: &ParseError) -> Response {
    let (status, code) = match error {
        // RFC 9051 §7.1 TOOBIG: an APPEND literal over the limit is refused, not malformed.
        ParseError::LiteralTooLarge { .. } => (Completion::No, Some(Code::TooBig)),
        e if e.is_too_big() => (Completion::Bad, Some(Code::TooBig)),
        _ => (Completion::Bad, None),
    };
    let text = Text::sanitized(&error.to_string());
    match tag {
        Some(tag) => Response::tagged(tag, status, code, text),
        None => Response::untagged(StatusKind::Bad, code, text),
    }
}
