//! DSN (RFC 3461) transcripts on the MX and LMTP: the extension is advertised, its parameters
//! parsed or refused, and the reports we send as the final delivery agent follow NOTIFY.
//! Submission's part is in `submission.rs`, next to its login helpers.

use crate::common;

use common::{Client, config, harness, inbox};
use mailroom_smtp::Mode;
use mailroom_store::{Messages, OutboundQueue};

/// Bigger than tight@'s 300-byte quota, smaller than the 4000-byte limit; DATA-terminated.
fn big_message() -> String {
    format!("Subject: big\r\n\r\nsecret {}\r\n.\r\n", "b".repeat(400))
}

#[tokio::test]
async fn ehlo_and_lhlo_list_dsn() {
    for (mode, hello) in [
        (Mode::Mx, "EHLO"),
        (Mode::Lmtp, "LHLO"),
        (Mode::Submission, "EHLO"),
    ] {
        let h = harness(mode, config()).await;
        let mut c = Client::connect(&h).await;
        let reply = c.cmd(&format!("{hello} client.example")).await;
        assert!(
            reply.lines().any(|l| l == "250-DSN" || l == "250 DSN"),
            "{mode:?}: {reply}"
        );
    }
}

#[tokio::test]
async fn parameters_are_parsed_and_bad_ones_refused() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    // RFC 3461 §4.3, §4.4: a bad RET or ENVID is a syntax error in the parameters.
    c.ok("MAIL FROM:<a@b.example> RET=MOST", "501 5.5.4").await;
    c.ok("MAIL FROM:<a@b.example> ENVID=a+2", "501 5.5.4").await;
    let long = format!("MAIL FROM:<a@b.example> ENVID={}", "x".repeat(101));
    c.ok(&long, "501 5.5.4").await;
    c.ok("MAIL FROM:<a@b.example> XFOO", "555 5.5.4").await;
    // A fresh connection: the errors below would pass `max_errors` on the same one.
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok(
        "MAIL FROM:<a@b.example> ret=hdrs ENVID=QQ+2B314",
        "250 2.1.0",
    )
    .await;
    c.ok(
        "RCPT TO:<ann@example.test> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;ann+2Bx@example.test",
        "250 2.1.5",
    )
    .await;
    c.ok("RCPT TO:<bob@example.test> notify=never", "250 2.1.5")
        .await;
    // RFC 3461 §4.1: NEVER stands alone.
    let reply = c
        .cmd("RCPT TO:<bob@example.test> NOTIFY=NEVER,SUCCESS")
        .await;
    assert_eq!(
        reply,
        "501 5.5.4 Syntax error: NOTIFY=NEVER can't be combined with others"
    );
    c.ok(
        "RCPT TO:<bob@example.test> NOTIFY=SUCCESS,NEVER",
        "501 5.5.4",
    )
    .await;
    c.ok("RCPT TO:<bob@example.test> NOTIFY=SOMETIMES", "501 5.5.4")
        .await;
    c.ok("RCPT TO:<bob@example.test> NOTIFY=", "501 5.5.4")
        .await;
    c.ok(
        "RCPT TO:<bob@example.test> ORCPT=bob@example.test",
        "501 5.5.4",
    )
    .await;
    // A decoded CR LF would end the report's Original-Recipient field.
    c.ok(
        "RCPT TO:<bob@example.test> ORCPT=rfc822;a+0D+0AX:+20y",
        "501 5.5.4",
    )
    .await;
    // Parameters we don't know keep their 555 (RFC 5321 §4.1.1.11).
    c.ok("RCPT TO:<bob@example.test> XFOO=1", "555 5.5.4").await;
    // The accepted recipients stand.
    c.ok("DATA", "354").await;
    c.send(b"Subject: hi\r\n\r\nhello\r\n.\r\n").await;
    c.expect("250 2.0.0").await;
    assert_eq!(inbox(&h.store, "bob").await.len(), 1);
}

/// NOTIFY=SUCCESS over LMTP from one of our users: the "delivered" report lands in the
/// sender's INBOX, naming the recipient, its ORCPT and the ENVID, with headers only.
#[tokio::test]
async fn success_over_lmtp_from_a_local_sender_goes_to_its_inbox() {
    let h = harness(Mode::Lmtp, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("LHLO client.example", "250").await;
    c.ok(
        "MAIL FROM:<bob@example.test> RET=FULL ENVID=QQ+2B314",
        "250",
    )
    .await;
    c.ok(
        "RCPT TO:<ann@example.test> NOTIFY=SUCCESS ORCPT=rfc822;ann+2Bx@example.test",
        "250",
    )
    .await;
    // Over quota when stored: LMTP says so to the client, which reports it; not us.
    c.ok("RCPT TO:<tight@example.test> NOTIFY=SUCCESS,FAILURE", "250")
        .await;
    c.ok("DATA", "354").await;
    c.send(big_message().as_bytes()).await;
    c.expect("250 2.0.0 <ann@example.test> delivered").await;
    c.expect("452 4.2.2").await;
    assert_eq!(inbox(&h.store, "ann").await.len(), 1);
    let got = inbox(&h.store, "bob").await;
    assert_eq!(got.len(), 1);
    let report = String::from_utf8_lossy(&got[0]);
    assert!(report.starts_with("Return-Path: <>\r\n"), "{report}");
    for expected in [
        "multipart/report",
        "Subject: Successful Mail Delivery Report",
        "Original-Envelope-Id: QQ+314",
        "Reporting-MTA: dns; mx.example.test",
        "Original-Recipient: rfc822; ann+x@example.test",
        "Final-Recipient: rfc822; ann@example.test",
        "Action: delivered",
        "Status: 2.0.0",
        "Subject: big",
    ] {
        assert!(report.contains(expected), "{expected}: {report}");
    }
    assert!(!report.contains("tight@example.test"), "{report}");
    // RFC 3461 §5.2.1: a success report returns the headers only, whatever RET says.
    assert!(!report.contains("secret"), "{report}");
    assert!(h.store.queued_messages().await.unwrap().is_empty());
}

/// The over-quota-at-store race of `bounce.rs`: NOTIFY=NEVER, or a NOTIFY without FAILURE,
/// means no bounce; NOTIFY=FAILURE with RET=FULL returns the whole message.
#[tokio::test]
async fn notify_decides_the_over_quota_bounce() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    for notify in ["NEVER", "DELAY", "SUCCESS,DELAY"] {
        c.ok("MAIL FROM:<a@b.example>", "250").await;
        c.ok(
            &format!("RCPT TO:<tight@example.test> NOTIFY={notify}"),
            "250",
        )
        .await;
        c.ok("RCPT TO:<bob@example.test> NOTIFY=NEVER", "250").await;
        c.ok("DATA", "354").await;
        c.send(big_message().as_bytes()).await;
        c.expect("250 2.0.0").await;
        assert!(
            h.store.queued_messages().await.unwrap().is_empty(),
            "NOTIFY={notify}"
        );
    }
    assert_eq!(inbox(&h.store, "bob").await.len(), 3);
    assert!(inbox(&h.store, "tight").await.is_empty());

    c.ok("MAIL FROM:<a@b.example> RET=FULL", "250").await;
    c.ok("RCPT TO:<tight@example.test> NOTIFY=FAILURE", "250")
        .await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(big_message().as_bytes()).await;
    c.expect("250 2.0.0").await;
    let queued = h.store.queued_messages().await.unwrap();
    assert_eq!(queued.len(), 1);
    let bounce =
        String::from_utf8_lossy(&h.store.read_blob(&queued[0].blob).await.unwrap()).into_owned();
    assert!(bounce.contains("Action: failed"), "{bounce}");
    assert!(bounce.contains("Content-Type: message/rfc822"), "{bounce}");
    assert!(bounce.contains("secret"), "{bounce}");
    assert!(!bounce.contains("bob@example.test"), "{bounce}");
}

/// A success report for a sender elsewhere goes through the outbound queue from `<>`; none
/// is sent to the null sender.
#[tokio::test]
async fn success_for_a_remote_sender_is_queued() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@b.example> ENVID=env1", "250").await;
    c.ok("RCPT TO:<ann@example.test> NOTIFY=SUCCESS", "250")
        .await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: hi\r\n\r\nsecret\r\n.\r\n").await;
    c.expect("250 2.0.0").await;
    let queued = h.store.queued_messages().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].sender, "", "a report has the null sender");
    assert_eq!(queued[0].recipients.len(), 1);
    assert_eq!(queued[0].recipients[0].address, "a@b.example");
    let report =
        String::from_utf8_lossy(&h.store.read_blob(&queued[0].blob).await.unwrap()).into_owned();
    assert!(
        report.contains("Final-Recipient: rfc822; ann@example.test\r\nAction: delivered"),
        "{report}"
    );
    assert!(report.contains("Original-Envelope-Id: env1"), "{report}");
    assert!(!report.contains("bob@example.test"), "{report}");
    assert!(!report.contains("secret"), "{report}");

    c.ok("MAIL FROM:<>", "250").await;
    c.ok("RCPT TO:<ann@example.test> NOTIFY=SUCCESS", "250")
        .await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: hi\r\n\r\nagain\r\n.\r\n").await;
    c.expect("250 2.0.0").await;
    assert_eq!(h.store.queued_messages().await.unwrap().len(), 1);
    assert_eq!(inbox(&h.store, "ann").await.len(), 2);
}
