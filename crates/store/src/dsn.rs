//! The DSN parameters (RFC 3461) a queued message carries onward: what the sender asked to be
//! told (NOTIFY, per recipient), how it first addressed each recipient (ORCPT), how much of
//! the message a failure report returns (RET) and its own envelope identifier (ENVID).
//!
//! Plain data: the SMTP side parses them, the queue runner relays and honours them, and the
//! store only keeps them.

use serde::{Deserialize, Serialize};

/// RFC 3461 §4.1: when the sender wants a report for one recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DsnNotify {
    /// No NOTIFY was given: failures are reported, successes are not (RFC 3461 §4.1), and
    /// nothing is sent onward, so the next hop applies the same default.
    #[default]
    Unspecified,
    /// `NOTIFY=NEVER`: no report at all.
    Never,
    /// `NOTIFY=` a list of SUCCESS, FAILURE, DELAY. All three false means the same as Never.
    On {
        success: bool,
        failure: bool,
        delay: bool,
    },
}

impl DsnNotify {
    /// A failure is reported unless NOTIFY was given without FAILURE (RFC 3461 §4.1).
    pub fn wants_failure(self) -> bool {
        match self {
            DsnNotify::Unspecified => true,
            DsnNotify::Never => false,
            DsnNotify::On { failure, .. } => failure,
        }
    }

    /// A success is reported only when asked for.
    pub fn wants_success(self) -> bool {
        matches!(self, DsnNotify::On { success: true, .. })
    }

    /// The value of the NOTIFY parameter that says this (RFC 3461 §4.1), or None when none
    /// was given (and none must be sent).
    pub fn param(self) -> Option<String> {
        match self {
            DsnNotify::Unspecified => None,
            DsnNotify::Never => Some("NEVER".into()),
            DsnNotify::On {
                success,
                failure,
                delay,
            } => {
                let words: Vec<&str> =
                    [(success, "SUCCESS"), (failure, "FAILURE"), (delay, "DELAY")]
                        .into_iter()
                        .filter_map(|(on, word)| on.then_some(word))
                        .collect();
                // RFC 3461 §4.1: an empty list is not allowed; asking for nothing is NEVER.
                Some(if words.is_empty() {
                    "NEVER".into()
                } else {
                    words.join(",")
                })
            }
        }
    }
}

/// RFC 3461 §4.3: what a failure report returns of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DsnRet {
    /// `RET=FULL`: the whole message.
    Full,
    /// `RET=HDRS`: only its header section.
    Hdrs,
}

impl DsnRet {
    /// The parameter's value, as written on MAIL FROM.
    pub fn as_str(self) -> &'static str {
        match self {
            DsnRet::Full => "FULL",
            DsnRet::Hdrs => "HDRS",
        }
    }
}

/// One recipient handed to the queue, with the DSN parameters its RCPT carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRecipient {
    pub address: String,
    pub notify: DsnNotify,
    /// RFC 3461 §4.2: the ORCPT parameter in its wire form, `addr-type;xtext`, relayed as
    /// received.
    pub orcpt: Option<String>,
}

impl OutboundRecipient {
    /// A recipient without DSN parameters (the next hop's defaults apply).
    pub fn new(address: impl Into<String>) -> Self {
        OutboundRecipient {
            address: address.into(),
            notify: DsnNotify::Unspecified,
            orcpt: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_says_what_is_reported_and_sent() {
        let default = DsnNotify::default();
        assert!(default.wants_failure() && !default.wants_success());
        assert_eq!(default.param(), None);
        assert!(!DsnNotify::Never.wants_failure());
        assert_eq!(DsnNotify::Never.param().as_deref(), Some("NEVER"));
        let success = DsnNotify::On {
            success: true,
            failure: false,
            delay: true,
        };
        assert!(success.wants_success() && !success.wants_failure());
        assert_eq!(success.param().as_deref(), Some("SUCCESS,DELAY"));
        let none = DsnNotify::On {
            success: false,
            failure: false,
            delay: false,
        };
        assert_eq!(none.param().as_deref(), Some("NEVER"));
    }
}
