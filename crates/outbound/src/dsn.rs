//! Delivery status notifications (RFC 3464): the one builder for every report this server
//! sends, whether a bounce from the queue runner or a report from the SMTP/LMTP session
//! (mailroom-smtp's `bounce.rs`, which decides who gets which report and calls this).
//!
//! The report is multipart/report; report-type=delivery-status (RFC 6522) with three parts: a
//! text for people, the machine-readable message/delivery-status, and the original message,
//! either its header section as text/rfc822-headers or the whole of it as message/rfc822
//! (RFC 6522 §4, RFC 3464 §2, RFC 3461 §4.3). It goes from MAILER-DAEMON and is queued with
//! the null reverse-path, so nothing ever bounces a bounce (RFC 5321 §4.5.5).

use crate::data::header_section;
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::{BodyPart, MimePart};
use std::io;
use thiserror::Error;

/// Why a report could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DsnError {
    /// RFC 3464 §2: a report has at least one per-recipient group.
    #[error("a delivery status notification needs at least one recipient")]
    NoRecipients,
    /// RFC 5321 §4.5.5: the null sender never gets a report, or reports could loop.
    #[error("a delivery status notification is never sent to the null sender")]
    NullSender,
    /// Writing the MIME structure failed.
    #[error("writing the delivery status notification failed: {0}")]
    Write(#[from] io::Error),
}

/// RFC 3464 §2.3.3: what happened to a recipient. Only the actions this server reports: it
/// does not delay-and-notify (no NOTIFY=DELAY reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Could not be delivered, and won't be.
    Failed,
    /// Delivered into the mailbox (reported when NOTIFY=SUCCESS asked, RFC 3461 §4.1).
    Delivered,
    /// Handed to a server that does not speak DSN, so no report of its delivery will come
    /// (reported when NOTIFY=SUCCESS asked, RFC 3461 §5.2.2).
    Relayed,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
        }
    }
}

/// RFC 3464 §2.3.6: the type of a Diagnostic-Code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticType {
    /// A reply in SMTP form (code, enhanced status, text).
    Smtp,
    /// A reason of our own that is not an SMTP reply (an X- type, RFC 3464 §2.3.6).
    Local,
}

impl DiagnosticType {
    fn as_str(self) -> &'static str {
        match self {
            DiagnosticType::Smtp => "smtp",
            DiagnosticType::Local => "X-Mailroom",
        }
    }
}

/// The Diagnostic-Code of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: DiagnosticType,
    /// The server's reply, or our own reason; made one bounded line when written.
    pub text: String,
}

/// RFC 3461 §4.2 / RFC 3464 §2.3.1: the recipient as the sender first addressed it (ORCPT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalRecipient {
    /// The address type, `rfc822` for Internet mail.
    pub addr_type: String,
    pub address: String,
}

impl OriginalRecipient {
    /// Reads an ORCPT parameter as received, `addr-type;xtext` (RFC 3461 §4.2). None if it is
    /// not that form: then it is neither reported nor sent onward.
    pub fn from_orcpt(param: &str) -> Option<Self> {
        let (addr_type, encoded) = param.split_once(';')?;
        // An esmtp-value (RFC 5321 §4.1.2) has no space, control character or `=`.
        let type_ok = !addr_type.is_empty()
            && addr_type
                .bytes()
                .all(|b| (b'!'..=b'~').contains(&b) && b != b'=');
        if !type_ok || encoded.is_empty() {
            return None;
        }
        Some(OriginalRecipient {
            addr_type: addr_type.to_string(),
            address: crate::xtext::decode(encoded)?,
        })
    }
}

/// One recipient the report is about (a per-recipient group, RFC 3464 §2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedRecipient {
    /// Final-Recipient (RFC 3464 §2.3.2).
    pub address: String,
    /// Original-Recipient, when the sender gave ORCPT.
    pub original: Option<OriginalRecipient>,
    pub action: Action,
    /// The enhanced status (RFC 3463), e.g. "5.1.1" or "2.0.0".
    pub status: String,
    pub diagnostic: Option<Diagnostic>,
    /// The host that answered, when one did (Remote-MTA, RFC 3464 §2.3.5).
    pub remote_mta: Option<String>,
}

impl ReportedRecipient {
    /// A recipient that failed for good with an SMTP reply (ours or a remote server's).
    pub fn failed(address: impl Into<String>, status: impl Into<String>, reply: String) -> Self {
        ReportedRecipient {
            address: address.into(),
            original: None,
            action: Action::Failed,
            status: status.into(),
            diagnostic: Some(Diagnostic {
                kind: DiagnosticType::Smtp,
                text: reply,
            }),
            remote_mta: None,
        }
    }

    /// A recipient whose mailbox has the message (RFC 3463 §3.1: 2.0.0, nothing more to say).
    pub fn delivered(address: impl Into<String>) -> Self {
        ReportedRecipient {
            address: address.into(),
            original: None,
            action: Action::Delivered,
            status: "2.0.0".into(),
            diagnostic: None,
            remote_mta: None,
        }
    }

    /// A recipient handed to a server without DSN (RFC 3461 §5.2.2): the hand-over succeeded,
    /// 2.0.0, and that is the last the sender will hear.
    pub fn relayed(address: impl Into<String>) -> Self {
        ReportedRecipient {
            action: Action::Relayed,
            ..ReportedRecipient::delivered(address)
        }
    }
}

/// How much of the original message the report returns (RFC 3461 §4.3, RFC 6522 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    /// The header section only, as text/rfc822-headers.
    Headers,
    /// The whole message, as message/rfc822 (RET=FULL).
    Full,
}

/// What a report is about.
#[derive(Debug, Clone)]
pub struct Report<'a> {
    /// Our host name: the Reporting-MTA and the domain of MAILER-DAEMON.
    pub reporting_mta: &'a str,
    /// The original message's reverse-path: the report's only recipient.
    pub original_sender: &'a str,
    /// RFC 3461 §4.4: the sender's ENVID, reported as Original-Envelope-Id.
    pub envid: Option<&'a str>,
    /// When the message arrived here (Arrival-Date).
    pub arrival_date: i64,
    /// Now, from the caller's clock (Date, Last-Attempt-Date).
    pub now: i64,
    /// A token unique to the message reported on, for the Message-ID; the report's kind is
    /// added to it, so a bounce and a success report for one message differ.
    pub id: &'a str,
    pub recipients: &'a [ReportedRecipient],
    /// The original message, as received.
    pub original: &'a [u8],
    pub returned: Returned,
}

/// Longest Diagnostic-Code text kept; a reply can be long and the field is one line.
const MAX_DIAGNOSTIC: usize = 900;

/// Builds the report's bytes (CRLF line ends).
pub fn build_report(report: &Report<'_>) -> Result<Vec<u8>, DsnError> {
    if report.recipients.is_empty() {
        return Err(DsnError::NoRecipients);
    }
    if report.original_sender.is_empty() {
        return Err(DsnError::NullSender);
    }
    let host = field_value(report.reporting_mta);
    let daemon = format!("MAILER-DAEMON@{host}");
    let failed = report.recipients.iter().any(|r| r.action == Action::Failed);
    let (subject, kind) = if failed {
        ("Undelivered Mail Returned to Sender", "bounce")
    } else {
        ("Successful Mail Delivery Report", "dsn")
    };

    // The two machine parts are written raw so they go out exactly as RFC 3464 lays them out
    // (no charset parameter, no transfer encoding of the field lines).
    let mut status_part = b"Content-Type: message/delivery-status\r\n\
        Content-Description: Delivery report\r\n\r\n"
        .to_vec();
    status_part.extend_from_slice(delivery_status(report).as_bytes());

    let body = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        BodyPart::Multipart(vec![
            MimePart::new("text/plain", human_text(report)),
            MimePart::raw(BodyPart::Binary(status_part.into())),
            MimePart::raw(BodyPart::Binary(returned_part(report).into())),
        ]),
    );

    Ok(MessageBuilder::new()
        .from(("Mail Delivery System", daemon.as_str()))
        .to(report.original_sender)
        .subject(subject)
        .date(Date::new(report.now))
        .message_id(format!("{}.{kind}@{host}", field_value(report.id)))
        // RFC 3834 §5: automatic responses must not get automatic responses.
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(body)
        .write_to_vec()?)
}

/// The part for people: what happened to whom, grouped by action.
fn human_text(report: &Report<'_>) -> String {
    let mut text = format!(
        "This is the mail system at host {}.\r\n",
        field_value(report.reporting_mta)
    );
    for action in [Action::Failed, Action::Delivered, Action::Relayed] {
        let mut group = report
            .recipients
            .iter()
            .filter(|r| r.action == action)
            .peekable();
        if group.peek().is_none() {
            continue;
        }
        text.push_str(match action {
            Action::Failed => {
                "\r\nYour message could not be delivered to the following recipients:\r\n\r\n"
            }
            Action::Delivered => {
                "\r\nYour message was delivered to the following recipients, \
                 as you asked (NOTIFY=SUCCESS):\r\n\r\n"
            }
            Action::Relayed => {
                "\r\nYour message was passed on for the following recipients to a server \
                 that does not send delivery reports, so this is the last report you will \
                 get for them (NOTIFY=SUCCESS):\r\n\r\n"
            }
        });
        for rcpt in group {
            let address = field_value(&rcpt.address);
            match &rcpt.diagnostic {
                Some(diagnostic) => {
                    text.push_str(&format!("<{address}>: {}\r\n", clean(&diagnostic.text)));
                }
                None => text.push_str(&format!("<{address}>\r\n")),
            }
        }
    }
    text.push_str(match report.returned {
        Returned::Headers => "\r\nYour message is attached below (headers only).\r\n",
        Returned::Full => "\r\nYour message is attached below.\r\n",
    });
    text
}

/// The message/delivery-status body: per-message fields, then one group per recipient, each
/// group preceded by a blank line (RFC 3464 §2.1), its fields in the order of §2.3.
fn delivery_status(report: &Report<'_>) -> String {
    let mut out = String::new();
    // RFC 3464 §2.2.1: Original-Envelope-Id comes first when there is one.
    if let Some(envid) = report.envid {
        out.push_str(&format!("Original-Envelope-Id: {}\r\n", field_value(envid)));
    }
    out.push_str(&format!(
        "Reporting-MTA: dns; {}\r\nArrival-Date: {}\r\n",
        field_value(report.reporting_mta),
        Date::new(report.arrival_date).to_rfc822()
    ));
    let now = Date::new(report.now).to_rfc822();
    for rcpt in report.recipients {
        out.push_str("\r\n");
        if let Some(orcpt) = &rcpt.original {
            out.push_str(&format!(
                "Original-Recipient: {}; {}\r\n",
                field_value(&orcpt.addr_type),
                field_value(&orcpt.address)
            ));
        }
        // RFC 3464 §2.3.2: address type "rfc822"; "utf-8" (RFC 6533) for non-ASCII.
        let kind = if rcpt.address.is_ascii() {
            "rfc822"
        } else {
            "utf-8"
        };
        out.push_str(&format!(
            "Final-Recipient: {kind}; {}\r\n",
            field_value(&rcpt.address)
        ));
        out.push_str(&format!("Action: {}\r\n", rcpt.action.as_str()));
        out.push_str(&format!("Status: {}\r\n", field_value(&rcpt.status)));
        if let Some(mta) = &rcpt.remote_mta {
            out.push_str(&format!("Remote-MTA: dns; {}\r\n", clean(mta)));
        }
        if let Some(diagnostic) = &rcpt.diagnostic {
            out.push_str(&format!(
                "Diagnostic-Code: {}; {}\r\n",
                diagnostic.kind.as_str(),
                clean(&diagnostic.text)
            ));
        }
        out.push_str(&format!("Last-Attempt-Date: {now}\r\n"));
    }
    out
}

/// The third part: the original message, or its header section (RFC 6522 §3), written raw.
fn returned_part(report: &Report<'_>) -> Vec<u8> {
    let (content_type, description, content) = match report.returned {
        Returned::Headers => (
            "text/rfc822-headers",
            "Original message headers",
            header_section(report.original),
        ),
        Returned::Full => ("message/rfc822", "Original message", report.original),
    };
    let mut part =
        format!("Content-Type: {content_type}\r\nContent-Description: {description}\r\n")
            .into_bytes();
    // RFC 2046 §5.2.1: message/rfc822 is never base64 or quoted-printable encoded, so 8-bit
    // content (RFC 6532 headers, 8BITMIME bodies) is labelled 8bit rather than re-encoded.
    if !content.is_ascii() {
        part.extend_from_slice(b"Content-Transfer-Encoding: 8bit\r\n");
    }
    part.extend_from_slice(b"\r\n");
    part.extend_from_slice(content);
    if !part.ends_with(b"\r\n") {
        part.extend_from_slice(b"\r\n");
    }
    part
}

/// A field value on one line: a CR or LF (or other control character) in a value from a
/// remote server or an envelope would start a header of its own in the report.
fn field_value(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// One line, bounded, without control characters a server could have slipped in.
fn clean(text: &str) -> String {
    let mut out = field_value(text);
    if out.len() > MAX_DIAGNOSTIC {
        let mut cut = MAX_DIAGNOSTIC;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIGINAL: &[u8] =
        b"From: alice@example.com\r\nTo: bob@example.org\r\nSubject: lunch\r\n\r\nsecret body\r\n";

    fn failed_recipient() -> ReportedRecipient {
        ReportedRecipient {
            remote_mta: Some("mx.example.org".into()),
            ..ReportedRecipient::failed(
                "bob@example.org",
                "5.1.1",
                "550 5.1.1 <bob@example.org>: user unknown\r\nInjected: header".into(),
            )
        }
    }

    fn sample(recipients: &[ReportedRecipient]) -> Report<'_> {
        Report {
            reporting_mta: "mail.example.com",
            original_sender: "alice@example.com",
            envid: None,
            arrival_date: 1_700_000_000,
            now: 1_700_000_600,
            id: "42.1700000600",
            recipients,
            original: ORIGINAL,
            returned: Returned::Headers,
        }
    }

    #[test]
    fn builds_a_multipart_report() {
        let recipients = [failed_recipient()];
        let bytes = build_report(&sample(&recipients)).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("From: \"Mail Delivery System\" <MAILER-DAEMON@mail.example.com>"));
        assert!(text.contains("To: <alice@example.com>"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-replied"));
        assert!(text.contains("Subject: Undelivered Mail Returned to Sender"));
        assert!(text.contains("Message-ID: <42.1700000600.bounce@mail.example.com>"));
        assert!(text.contains("multipart/report"));
        assert!(
            text.contains("report-type=\"delivery-status\"")
                || text.contains("report-type=delivery-status")
        );
        assert!(text.contains("Content-Type: message/delivery-status\r\n"));
        assert!(text.contains("Reporting-MTA: dns; mail.example.com\r\n"));
        assert!(text.contains("Final-Recipient: rfc822; bob@example.org\r\n"));
        assert!(text.contains("Action: failed\r\n"));
        assert!(text.contains("Status: 5.1.1\r\n"));
        assert!(text.contains("Remote-MTA: dns; mx.example.org\r\n"));
        // The server's text stays on one line: no header injection into the report.
        assert!(text.contains(
            "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.org>: user unknown  Injected: header\r\n"
        ));
        assert!(text.contains("Content-Type: text/rfc822-headers\r\n"));
        assert!(text.contains("Subject: lunch\r\n"));
        // Only the headers come back, not the body.
        assert!(!text.contains("secret body"));
        assert!(!text.contains("Original-Envelope-Id"));
        // Every line ends in CRLF.
        assert!(!bytes.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r'));
    }

    #[test]
    fn report_parses_as_mime() {
        let recipients = [failed_recipient()];
        let bytes = build_report(&sample(&recipients)).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        // Three parts inside one boundary.
        let boundary = text
            .split("boundary=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        assert_eq!(text.matches(&format!("--{boundary}\r\n")).count(), 3);
        assert!(text.contains(&format!("--{boundary}--")));
    }

    #[test]
    fn local_reasons_are_not_labelled_smtp() {
        let mut rcpt = failed_recipient();
        rcpt.remote_mta = None;
        rcpt.diagnostic = Some(Diagnostic {
            kind: DiagnosticType::Local,
            text: "message expired after 5 days".into(),
        });
        let recipients = [rcpt];
        let text = String::from_utf8(build_report(&sample(&recipients)).unwrap()).unwrap();
        assert!(text.contains("Diagnostic-Code: X-Mailroom; message expired after 5 days\r\n"));
        assert!(!text.contains("Remote-MTA"));
    }

    #[test]
    fn long_diagnostics_are_cut() {
        let long = "é".repeat(1000);
        assert!(clean(&long).len() <= MAX_DIAGNOSTIC);
    }

    #[test]
    fn success_report_with_envid_and_orcpt() {
        let recipients = [ReportedRecipient {
            original: Some(OriginalRecipient {
                addr_type: "rfc822".into(),
                address: "a+b@example.test".into(),
            }),
            ..ReportedRecipient::delivered("ann@example.test")
        }];
        let report = Report {
            envid: Some("QQ314"),
            ..sample(&recipients)
        };
        let text = String::from_utf8(build_report(&report).unwrap()).unwrap();
        assert!(
            text.contains("Subject: Successful Mail Delivery Report"),
            "{text}"
        );
        assert!(text.contains("Message-ID: <42.1700000600.dsn@mail.example.com>"));
        assert!(
            text.contains(
                "Original-Envelope-Id: QQ314\r\nReporting-MTA: dns; mail.example.com\r\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("Original-Recipient: rfc822; a+b@example.test\r\nFinal-Recipient: rfc822; ann@example.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n"),
            "{text}"
        );
        assert!(!text.contains("Diagnostic-Code"), "{text}");
        assert!(text.contains("<ann@example.test>\r\n"), "{text}");
        assert!(text.contains("text/rfc822-headers"), "{text}");
        assert!(!text.contains("secret body"), "{text}");
    }

    #[test]
    fn relayed_report_and_orcpt_parameters() {
        let recipients = [ReportedRecipient {
            original: OriginalRecipient::from_orcpt("rfc822;a+2Bb@example.org"),
            ..ReportedRecipient::relayed("ab@example.org")
        }];
        let text = String::from_utf8(build_report(&sample(&recipients)).unwrap()).unwrap();
        assert!(
            text.contains("Original-Recipient: rfc822; a+b@example.org\r\nFinal-Recipient: rfc822; ab@example.org\r\nAction: relayed\r\nStatus: 2.0.0\r\n"),
            "{text}"
        );
        assert!(text.contains("Your message was passed on"), "{text}");
        assert!(
            text.contains("Subject: Successful Mail Delivery Report"),
            "{text}"
        );
        for bad in [
            "rfc822",
            ";a@b",
            "rfc822;",
            "rfc 822;a@b",
            "a=b;c@d",
            "rfc822;a b",
        ] {
            assert_eq!(OriginalRecipient::from_orcpt(bad), None, "{bad}");
        }
    }

    #[test]
    fn full_return_attaches_the_whole_message() {
        let recipients = [failed_recipient()];
        let report = Report {
            returned: Returned::Full,
            ..sample(&recipients)
        };
        let text = String::from_utf8(build_report(&report).unwrap()).unwrap();
        assert!(text.contains("Content-Type: message/rfc822\r\n"), "{text}");
        assert!(text.contains("secret body"), "{text}");
        assert!(!text.contains("text/rfc822-headers"), "{text}");
        assert!(
            !text.contains("Content-Transfer-Encoding: base64"),
            "{text}"
        );
    }

    #[test]
    fn envelope_values_cannot_inject_fields() {
        let recipients = [ReportedRecipient {
            original: Some(OriginalRecipient {
                addr_type: "rfc822".into(),
                address: "x@y\r\nAction: delivered".into(),
            }),
            ..failed_recipient()
        }];
        let report = Report {
            envid: Some("id\r\nReporting-MTA: dns; evil"),
            ..sample(&recipients)
        };
        let text = String::from_utf8(build_report(&report).unwrap()).unwrap();
        assert!(!text.contains("\r\nAction: delivered"), "{text}");
        assert!(!text.contains("\r\nReporting-MTA: dns; evil"), "{text}");
    }

    #[test]
    fn refuses_empty_reports_and_the_null_sender() {
        assert!(matches!(
            build_report(&sample(&[])),
            Err(DsnError::NoRecipients)
        ));
        let recipients = [failed_recipient()];
        let report = Report {
            original_sender: "",
            ..sample(&recipients)
        };
        assert!(matches!(build_report(&report), Err(DsnError::NullSender)));
    }
}
