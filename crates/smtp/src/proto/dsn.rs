//! The DSN extension's parameters (RFC 3461): RET and ENVID on MAIL, NOTIFY and ORCPT on
//! RCPT, and the xtext encoding two of them travel in (RFC 3461 §4). Pure: no I/O, no state.

use super::ParseError;
use mailroom_store::OutboundRecipient;
// xtext lives with the queue runner, which encodes and decodes it as well.
pub use mailroom_outbound::xtext::{decode as xtext_decode, encode as xtext_encode};

/// RFC 3461 §4.4: the longest ENVID value (as sent, encoded).
pub const MAX_ENVID: usize = 100;

/// RFC 3461 §4.2: the longest ORCPT value (as sent, encoded, with its address type).
pub const MAX_ORCPT: usize = 500;

/// RFC 3461 §4.3: what a failure report returns of the message. The outbound queue keeps the
/// same values, so one type serves both.
pub use mailroom_store::DsnRet as Ret;

/// RFC 3461 §4.1: when the sender wants a report for a recipient (`Unspecified` when no NOTIFY
/// was given: failures are reported, successes are not). The outbound queue carries it onward.
pub use mailroom_store::DsnNotify as Notify;

/// RFC 3461 §4.2: the recipient as the sender first addressed it, decoded from xtext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Orcpt {
    /// The address type, `rfc822` for Internet mail (RFC 3464 §2.1.2).
    pub addr_type: String,
    pub address: String,
}

/// The RCPT parameters of the extensions we advertise (only DSN has any).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RcptParams {
    pub notify: Notify,
    pub orcpt: Option<Orcpt>,
}

impl RcptParams {
    pub fn wants_failure(&self) -> bool {
        self.notify.wants_failure()
    }

    pub fn wants_success(&self) -> bool {
        self.notify.wants_success()
    }

    /// `address` with these parameters, as the outbound queue carries them onward: NOTIFY as
    /// given, ORCPT back in its wire form (RFC 3461 §4.2: relayed as it was received; the
    /// address type was only normalised in case).
    pub fn queued(&self, address: String) -> OutboundRecipient {
        let orcpt = self
            .orcpt
            .as_ref()
            .map(|o| format!("{};{}", o.addr_type, xtext_encode(&o.address)));
        OutboundRecipient {
            address,
            notify: self.notify,
            orcpt,
        }
    }
}

/// RFC 3461 §4.3: `RET=FULL` or `RET=HDRS`.
pub fn parse_ret(value: &str) -> Result<Ret, ParseError> {
    if value.eq_ignore_ascii_case("FULL") {
        Ok(Ret::Full)
    } else if value.eq_ignore_ascii_case("HDRS") {
        Ok(Ret::Hdrs)
    } else {
        Err(ParseError::Syntax("RET must be FULL or HDRS"))
    }
}

/// RFC 3461 §4.4: `ENVID=<xtext>`, at most 100 characters. The decoded identifier goes into
/// a header of the report (Original-Envelope-Id, RFC 3464 §2.2.1), so it must be printable
/// US-ASCII: a decoded CR or LF would let the sender write headers of its own.
pub fn parse_envid(value: &str) -> Result<String, ParseError> {
    if value.is_empty() || value.len() > MAX_ENVID {
        return Err(ParseError::Syntax("ENVID must be 1 to 100 characters"));
    }
    let id = xtext_decode(value).ok_or(ParseError::Syntax("ENVID is not valid xtext"))?;
    if !is_printable(&id) {
        return Err(ParseError::Syntax("ENVID must be printable US-ASCII"));
    }
    Ok(id)
}

/// RFC 3461 §4.1: `NEVER`, or a comma-separated list of `SUCCESS`, `FAILURE`, `DELAY`;
/// NEVER can't be combined with the others.
pub fn parse_notify(value: &str) -> Result<Notify, ParseError> {
    if value.eq_ignore_ascii_case("NEVER") {
        return Ok(Notify::Never);
    }
    let (mut success, mut failure, mut delay) = (false, false, false);
    for word in value.split(',') {
        let flag = if word.eq_ignore_ascii_case("SUCCESS") {
            &mut success
        } else if word.eq_ignore_ascii_case("FAILURE") {
            &mut failure
        } else if word.eq_ignore_ascii_case("DELAY") {
            &mut delay
        } else if word.eq_ignore_ascii_case("NEVER") {
            return Err(ParseError::Syntax(
                "NOTIFY=NEVER can't be combined with others",
            ));
        } else {
            return Err(ParseError::Syntax(
                "NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY",
            ));
        };
        if *flag {
            return Err(ParseError::Syntax("NOTIFY names a value twice"));
        }
        *flag = true;
    }
    Ok(Notify::On {
        success,
        failure,
        delay,
    })
}

/// RFC 3461 §4.2: `ORCPT=addr-type;xtext`. The address type is an atom (RFC 5322 §3.2.3); the
/// decoded address must be printable US-ASCII, as it goes into the report's
/// Original-Recipient header.
pub fn parse_orcpt(value: &str) -> Result<Orcpt, ParseError> {
    if value.len() > MAX_ORCPT {
        return Err(ParseError::Syntax("ORCPT is longer than 500 characters"));
    }
    let (addr_type, encoded) = value
        .split_once(';')
        .ok_or(ParseError::Syntax("ORCPT must be <addr-type>;<address>"))?;
    let atom_ok = !addr_type.is_empty()
        && addr_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~".contains(&b));
    if !atom_ok || encoded.is_empty() {
        return Err(ParseError::Syntax("ORCPT must be <addr-type>;<address>"));
    }
    let address = xtext_decode(encoded).ok_or(ParseError::Syntax("ORCPT is not valid xtext"))?;
    if !is_printable(&address) {
        return Err(ParseError::Syntax("ORCPT must be printable US-ASCII"));
    }
    // RFC 3464 §2.1.2: address types are case-insensitive; the common one is written as IANA
    // registers it.
    let addr_type = if addr_type.eq_ignore_ascii_case("rfc822") {
        "rfc822".to_string()
    } else {
        addr_type.to_string()
    };
    Ok(Orcpt { addr_type, address })
}

/// Graphic characters and space from US-ASCII (RFC 3461 §4.2, §4.4).
fn is_printable(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| (b' '..=b'~').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_values() {
        assert_eq!(parse_notify("NEVER"), Ok(Notify::Never));
        assert_eq!(parse_notify("never"), Ok(Notify::Never));
        assert_eq!(
            parse_notify("SUCCESS,failure,DELAY"),
            Ok(Notify::On {
                success: true,
                failure: true,
                delay: true
            })
        );
        assert_eq!(
            parse_notify("DELAY"),
            Ok(Notify::On {
                success: false,
                failure: false,
                delay: true
            })
        );
        for bad in [
            "NEVER,SUCCESS",
            "SUCCESS,NEVER",
            "",
            "SUCCESS,",
            "SOMETIMES",
            "DELAY,DELAY",
        ] {
            assert!(
                matches!(parse_notify(bad), Err(ParseError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn ret_envid_and_orcpt() {
        assert_eq!(parse_ret("full"), Ok(Ret::Full));
        assert_eq!(parse_ret("HDRS"), Ok(Ret::Hdrs));
        assert!(parse_ret("BODY").is_err());
        assert_eq!(parse_envid("QQ314159+2Bx").as_deref(), Ok("QQ314159+x"));
        assert!(parse_envid(&"a".repeat(100)).is_ok());
        assert!(parse_envid(&"a".repeat(101)).is_err());
        assert!(parse_envid("").is_err());
        // A decoded line break would end the header it is written into.
        assert!(parse_envid("a+0D+0AX-Evil:+201").is_err());
        assert_eq!(
            parse_orcpt("RFC822;a+2Bb@example.test"),
            Ok(Orcpt {
                addr_type: "rfc822".into(),
                address: "a+b@example.test".into()
            })
        );
        assert_eq!(
            parse_orcpt("x-local;box").map(|o| o.addr_type),
            Ok("x-local".into())
        );
        for bad in [
            "rfc822",
            "rfc822;",
            ";a@b",
            "rf c822;a@b",
            "rfc822;a+0Ab@c",
            "rfc822;a=b",
        ] {
            assert!(parse_orcpt(bad).is_err(), "{bad}");
        }
        assert!(parse_orcpt(&format!("rfc822;{}@b", "a".repeat(500))).is_err());
    }

    #[test]
    fn what_is_reported() {
        let default = RcptParams::default();
        assert!(default.wants_failure() && !default.wants_success());
        let never = RcptParams {
            notify: Notify::Never,
            orcpt: None,
        };
        assert!(!never.wants_failure() && !never.wants_success());
        let success = RcptParams {
            notify: parse_notify("SUCCESS").unwrap(),
            orcpt: None,
        };
        assert!(!success.wants_failure() && success.wants_success());
    }

    #[test]
    fn queued_form_keeps_what_was_given() {
        let params = RcptParams {
            notify: parse_notify("SUCCESS,FAILURE").unwrap(),
            orcpt: parse_orcpt("RFC822;a+2Bb@example.test").ok(),
        };
        let queued = params.queued("x@y.test".into());
        assert_eq!(
            queued.notify,
            Notify::On {
                success: true,
                failure: true,
                delay: false
            }
        );
        assert_eq!(queued.orcpt.as_deref(), Some("rfc822;a+2Bb@example.test"));
        let never = RcptParams {
            notify: Notify::Never,
            orcpt: None,
        };
        assert_eq!(never.queued("x@y.test".into()).notify, Notify::Never);
        assert_eq!(
            RcptParams::default().queued("x@y.test".into()),
            OutboundRecipient::new("x@y.test")
        );
    }
}
