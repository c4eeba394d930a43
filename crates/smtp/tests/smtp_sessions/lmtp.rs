//! LMTP transcripts (RFC 2033): LHLO, and one reply per accepted recipient after the message.

use crate::common;

use common::{Client, config, harness, inbox, strip_trace};
use mailroom_smtp::Mode;

/// Bigger than tight@'s 300-byte quota, smaller than the 4000-byte limit.
fn big_body() -> Vec<u8> {
    let mut body = b"Subject: big\r\n\r\n".to_vec();
    for _ in 0..8 {
        body.extend_from_slice(format!("{}\r\n", "b".repeat(60)).as_bytes());
    }
    body
}

#[tokio::test]
async fn lhlo_is_the_greeting() {
    let h = harness(Mode::Lmtp, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "500 5.5.1").await;
    c.ok("HELO client.example", "500 5.5.1").await;
    c.ok("MAIL FROM:<a@b.example>", "503 5.5.1").await;
    let lhlo = c.cmd("LHLO client.example").await;
    assert!(
        lhlo.starts_with("250-mx.example.test greets client.example\n"),
        "{lhlo}"
    );
    for ext in [
        "PIPELINING",
        "SIZE 4000",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "CHUNKING",
        "DSN",
    ] {
        assert!(lhlo.contains(ext), "{ext}: {lhlo}");
    }
    assert!(!lhlo.contains("AUTH"));
    c.ok("VRFY ann@example.test", "252").await;
    c.ok("NOOP", "250").await;
    c.ok("RSET", "250").await;
    c.ok("QUIT", "221").await;
    assert!(c.closed().await);
}

#[tokio::test]
async fn one_reply_per_recipient_in_rcpt_order() {
    let h = harness(Mode::Lmtp, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("LHLO client.example", "250").await;
    // All pipelined in one write.
    c.send(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<ann@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<tight@example.test>\r\nRCPT TO:<elsewhere@other.example>\r\nRCPT TO:<info@example.test>\r\nDATA\r\n").await;
    for code in [
        "250 2.1.0",
        "250 2.1.5",
        "550 5.1.1",
        "250 2.1.5",
        "554 5.7.1",
        "250 2.1.5",
        "354",
    ] {
        c.expect(code).await;
    }
    let body = big_body();
    c.send(&body).await;
    c.send(b".\r\n").await;
    // ann, tight (over quota once the message is there), info@ (bob).
    assert_eq!(c.reply().await, "250 2.0.0 <ann@example.test> delivered");
    assert_eq!(c.reply().await, "452 4.2.2 Mailbox full");
    assert_eq!(c.reply().await, "250 2.0.0 <info@example.test> delivered");
    c.ok("NOOP", "250").await;
    for user in ["ann", "bob"] {
        let got = inbox(&h.store, user).await;
        assert_eq!(got.len(), 1, "{user}");
        let (trace, rest) = strip_trace(&got[0]);
        assert_eq!(rest, &body[..]);
        assert!(trace.contains(" with LMTP id "), "{trace}");
    }
    assert!(inbox(&h.store, "tight").await.is_empty());
}

#[tokio::test]
async fn bdat_last_gets_per_recipient_replies() {
    let h = harness(Mode::Lmtp, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("LHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    let body = b"Subject: chunked\r\n\r\n.leading dot stays\r\n";
    c.send(format!("BDAT {} LAST\r\n", body.len()).as_bytes())
        .await;
    c.send(body).await;
    assert_eq!(c.reply().await, "250 2.0.0 <ann@example.test> delivered");
    assert_eq!(c.reply().await, "250 2.0.0 <bob@example.test> delivered");
    for user in ["ann", "bob"] {
        let got = inbox(&h.store, user).await;
        assert_eq!(strip_trace(&got[0]).1, body);
    }
}

#[tokio::test]
async fn single_recipient_and_data_errors() {
    let h = harness(Mode::Lmtp, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("LHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<full@example.test>", "452 4.2.2").await;
    // RFC 2033 §4.2: DATA without a recipient is 503 in LMTP.
    c.ok("DATA", "503 5.5.1").await;
    c.send(b"BDAT 2 LAST\r\nhi").await;
    c.expect("503 5.5.1").await;
    c.ok("RCPT TO:<jörg@example.test>", "553 5.6.7").await;
    c.ok("RSET", "250").await;
    c.ok("MAIL FROM:<a@b.example> SMTPUTF8", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: one\r\n\r\n..\r\n.\r\n").await;
    c.expect("250 2.0.0 <ann@example.test> delivered").await;
    let got = inbox(&h.store, "ann").await;
    let (trace, rest) = strip_trace(&got[0]);
    assert_eq!(rest, b"Subject: one\r\n\r\n.\r\n");
    assert!(trace.contains(" with UTF8LMTP id "), "{trace}");
    assert!(trace.contains("\tfor <ann@example.test>;"), "{trace}");
}
