//! Delivery status notifications (RFC 3464, in a multipart/report of RFC 6522) sent by us as
//! the final delivery agent, of two kinds:
//! - "failed", for recipients a message was accepted for but could not be stored: once we
//!   have answered 250 the sender must be told by mail (RFC 5321 §4.4, §6.1);
//! - "delivered", when the sender asked for it with `NOTIFY=SUCCESS` (RFC 3461 §4.1, §6.2).
//!
//! Which recipients are reported follows their NOTIFY (RFC 3461 §4.1): NEVER, or a list
//! without FAILURE, suppresses the failure report. Never sent for the null sender (RFC 5321
//! §4.5.5, RFC 3461 §6.2), so reports can't loop.
//!
//! This module decides who gets which report and delivers it; the report itself is written by
//! `mailroom_outbound::dsn`, the builder the queue runner's bounces use as well.

use crate::delivery::Recipient;
use crate::error::SmtpError;
use crate::proto::{Orcpt, Ret};
use crate::server::Shared;
use mailroom_outbound::dsn::{
    self, DsnError, OriginalRecipient, Report, ReportedRecipient, Returned,
};
use mailroom_store::{Delivery, OutboundMessage, OutboundRecipient};
use time::OffsetDateTime;

/// What happened to one recipient.
#[derive(Debug, Clone, Copy)]
pub enum Outcome<'a> {
    Delivered,
    Failed(&'a SmtpError),
}

/// One recipient to report on (RFC 3464 §2.3).
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub recipient: &'a str,
    /// RFC 3461 §4.2: ORCPT, reported as Original-Recipient.
    pub original: Option<&'a Orcpt>,
    pub outcome: Outcome<'a>,
}

impl Entry<'_> {
    fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

/// The message reported on, and the envelope facts the report repeats.
pub struct Original<'a> {
    /// The envelope sender, to whom the report goes.
    pub sender: &'a str,
    /// RFC 3461 §4.4: the sender's ENVID, reported as Original-Envelope-Id.
    pub envid: Option<&'a str>,
    /// RFC 3461 §4.3: RET.
    pub ret: Option<Ret>,
    /// The message as received (without our trace fields).
    pub message: &'a [u8],
    /// Our transaction id, for the report's Message-ID and the logs.
    pub id: &'a str,
}

/// The recipients to report on, in RCPT order, as their NOTIFY asks. `failures` is false
/// where failures were already told to the client (LMTP's replies per recipient), so only
/// successes are reported.
pub fn entries<'a>(
    recipients: &'a [Recipient],
    outcomes: &'a [Result<(), SmtpError>],
    failures: bool,
) -> Vec<Entry<'a>> {
    recipients
        .iter()
        .zip(outcomes)
        .filter_map(|(r, o)| {
            let outcome = match o {
                Ok(()) if r.dsn.wants_success() => Outcome::Delivered,
                Err(error) if failures && r.dsn.wants_failure() => Outcome::Failed(error),
                _ => return None,
            };
            Some(Entry {
                recipient: &r.address,
                original: r.dsn.orcpt.as_ref(),
                outcome,
            })
        })
        .collect()
}

/// Builds one report for `entries`, which should all be failures or all successes (`send`
/// splits them), with the shared builder of mailroom-outbound (RFC 3464). What is ours to
/// decide is what the report returns: RFC 6522 §3 and RFC 3461 §4.3, the header section only,
/// unless the sender asked for RET=FULL on a failure. A success report never carries the
/// whole message (RFC 3461 §5.2.1 recommends headers only, whatever RET says).
pub fn build(
    hostname: &str,
    original: &Original<'_>,
    entries: &[Entry<'_>],
    now: i64,
) -> Result<Vec<u8>, DsnError> {
    let failed = entries.iter().any(Entry::failed);
    let recipients: Vec<ReportedRecipient> = entries.iter().map(reported).collect();
    // The transaction id is the same for both reports of one message; the builder tells them
    // apart in the Message-ID by their kind.
    dsn::build_report(&Report {
        reporting_mta: hostname,
        original_sender: original.sender,
        // The ENVID and ORCPT were checked to be printable ASCII when parsed (RFC 3461 §4);
        // the builder makes every value one line as well.
        envid: original.envid,
        // We report as the final delivery agent, right after DATA: it arrived just now.
        arrival_date: now,
        now,
        id: original.id,
        recipients: &recipients,
        original: original.message,
        returned: if failed && original.ret == Some(Ret::Full) {
            Returned::Full
        } else {
            Returned::Headers
        },
    })
}

/// One recipient's group of the report.
fn reported(entry: &Entry<'_>) -> ReportedRecipient {
    let mut rcpt = match entry.outcome {
        Outcome::Delivered => ReportedRecipient::delivered(entry.recipient),
        Outcome::Failed(error) => {
            let reply = error.reply();
            // The sender will not be retried for us: a temporary reason is final here.
            let code = reply.enhanced.unwrap_or("5.0.0");
            let code = match code.strip_prefix('4') {
                Some(rest) => format!("5{rest}"),
                None => code.to_string(),
            };
            let why = reply.lines.join(" ");
            let basic = if reply.code >= 500 { reply.code } else { 550 };
            let diagnostic = format!("{basic} {code} {why}");
            ReportedRecipient::failed(entry.recipient, code, diagnostic)
        }
    };
    rcpt.original = entry.original.map(|orcpt| OriginalRecipient {
        addr_type: orcpt.addr_type.clone(),
        address: orcpt.address.clone(),
    });
    rcpt
}

/// Sends the reports for `entries` to the sender: one for the failures, one for the
/// successes (each returns different content). Failures are logged; nothing more can be done
/// for the client, who already has its 250.
pub async fn send(shared: &Shared, original: &Original<'_>, entries: &[Entry<'_>]) {
    let (failed, delivered): (Vec<Entry<'_>>, Vec<Entry<'_>>) =
        entries.iter().partition(|e| e.failed());
    for group in [failed, delivered] {
        send_one(shared, original, &group).await;
    }
}

/// Builds one report and delivers it: straight into the mailbox when the sender is one of
/// ours, through the outbound queue (with the null sender) otherwise.
async fn send_one(shared: &Shared, original: &Original<'_>, entries: &[Entry<'_>]) {
    let (sender, id) = (original.sender, original.id);
    if sender.is_empty() || entries.is_empty() {
        return;
    }
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let content = match build(&shared.config.hostname, original, entries, now) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(%id, "building a delivery report failed: {e}");
            return;
        }
    };
    let local = match shared.store.resolve_recipient(&sender.to_lowercase()).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(%id, "delivery report: looking up {sender} failed: {e}");
            None
        }
    };
    let outcome = match local {
        Some(account) => {
            let mut message = b"Return-Path: <>\r\n".to_vec();
            message.extend(content);
            let delivery = Delivery {
                recipients: vec![account],
                content: message.into(),
            };
            shared.store.deliver(delivery).await.map(|_| ())
        }
        None => {
            let queued = shared
                .enqueue(OutboundMessage {
                    account: None,
                    sender: String::new(),
                    recipients: vec![OutboundRecipient::new(sender)],
                    envid: None,
                    ret: None,
                    content,
                })
                .await;
            queued.map(|_| ())
        }
    };
    let action = if entries.iter().any(Entry::failed) {
        "failed"
    } else {
        "delivered"
    };
    match outcome {
        Ok(()) => {
            tracing::info!(%id, %sender, %action, "delivery report sent for {} recipients", entries.len())
        }
        Err(e) => tracing::warn!(%id, %sender, %action, "delivery report not sent: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;
    const MESSAGE: &[u8] = b"From: a@b.example\r\nSubject: hi\r\n\r\nsecret body\r\n";

    fn original(ret: Option<Ret>, envid: Option<&'static str>) -> Original<'static> {
        Original {
            sender: "a@b.example",
            envid,
            ret,
            message: MESSAGE,
            id: "ID1",
        }
    }

    #[test]
    fn failure_report_names_the_recipient_and_keeps_the_headers() {
        let error = SmtpError::OverQuota;
        let entries = [Entry {
            recipient: "full@example.test",
            original: None,
            outcome: Outcome::Failed(&error),
        }];
        let out = build("mx.example.test", &original(None, None), &entries, NOW).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("multipart/report"), "{text}");
        assert!(
            text.contains("report-type=\"delivery-status\"")
                || text.contains("report-type=delivery-status"),
            "{text}"
        );
        assert!(
            text.contains("Final-Recipient: rfc822; full@example.test"),
            "{text}"
        );
        assert!(text.contains("Action: failed"), "{text}");
        assert!(text.contains("Status: 5.2.2"), "{text}");
        assert!(text.contains("Subject: hi"), "{text}");
        assert!(!text.contains("secret body"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
        assert!(!text.contains("Original-Envelope-Id"), "{text}");
    }

    #[test]
    fn ret_full_returns_the_whole_message_on_failure_only() {
        let error = SmtpError::OverQuota;
        let failed = [Entry {
            recipient: "full@example.test",
            original: None,
            outcome: Outcome::Failed(&error),
        }];
        let out = build("mx", &original(Some(Ret::Full), None), &failed, NOW).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Content-Type: message/rfc822"), "{text}");
        assert!(text.contains("secret body"), "{text}");

        let orcpt = Orcpt {
            addr_type: "rfc822".into(),
            address: "a+b@example.test".into(),
        };
        let delivered = [Entry {
            recipient: "ann@example.test",
            original: Some(&orcpt),
            outcome: Outcome::Delivered,
        }];
        let out = build(
            "mx",
            &original(Some(Ret::Full), Some("QQ314")),
            &delivered,
            NOW,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("secret body"), "{text}");
        assert!(text.contains("text/rfc822-headers"), "{text}");
        assert!(
            text.contains("Subject: Successful Mail Delivery Report"),
            "{text}"
        );
        assert!(text.contains("Original-Envelope-Id: QQ314"), "{text}");
        assert!(
            text.contains("Original-Recipient: rfc822; a+b@example.test\r\nFinal-Recipient: rfc822; ann@example.test\r\nAction: delivered\r\nStatus: 2.0.0"),
            "{text}"
        );
    }
}
