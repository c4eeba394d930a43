//! Inbound SMTP (MX) transcripts against a real server: every command in every state, the
//! recipient checks, the limits, DATA and BDAT, and what lands in the store.

use crate::common;

use common::{Client, config, harness, inbox, strip_trace};
use mailroom_smtp::{Mode, SmtpConfig, Timeouts};
use mailroom_store::{Directory, Messages, OutboundQueue};
use std::time::Duration;

const BODY: &[u8] =
    b"From: a@sender.example\r\nSubject: hi\r\n\r\nline one\r\n.\r\n..two\r\nend\r\n";
/// BODY dot-stuffed for DATA, with the terminator.
const STUFFED: &[u8] =
    b"From: a@sender.example\r\nSubject: hi\r\n\r\nline one\r\n..\r\n...two\r\nend\r\n.\r\n";

#[tokio::test]
async fn ehlo_helo_and_greeting() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    let ehlo = c.cmd("EHLO client.example").await;
    let lines: Vec<&str> = ehlo.lines().collect();
    assert_eq!(
        lines,
        [
            "250-mx.example.test greets client.example",
            "250-PIPELINING",
            "250-SIZE 4000",
            "250-8BITMIME",
            "250-SMTPUTF8",
            "250-ENHANCEDSTATUSCODES",
            "250-CHUNKING",
            "250-DSN",
            "250 STARTTLS",
        ]
    );
    assert!(!ehlo.contains("AUTH"));
    assert_eq!(
        c.cmd("HELO client.example").await,
        "250 mx.example.test greets client.example"
    );
    assert!(c.cmd("LHLO client.example").await.starts_with("500 5.5.1 "));
    assert!(c.cmd("EHLO").await.starts_with("501 5.5.4 "));
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye");
    assert!(c.closed().await);
}

#[tokio::test]
async fn delivers_exact_bytes_with_trace_fields() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok(
        "MAIL FROM:<a@sender.example> SIZE=100 BODY=8BITMIME",
        "250 2.1.0",
    )
    .await;
    c.ok("RCPT TO:<ann@example.test>", "250 2.1.5").await;
    c.ok("DATA", "354").await;
    c.send(STUFFED).await;
    let reply = c.reply().await;
    assert!(reply.starts_with("250 2.0.0 "), "{reply}");
    let got = inbox(&h.store, "ann").await;
    assert_eq!(got.len(), 1);
    let (trace, rest) = strip_trace(&got[0]);
    assert_eq!(rest, BODY, "dot-unstuffed, otherwise unchanged");
    assert!(trace.starts_with("Return-Path: <a@sender.example>\r\nReceived: from client.example ([127.0.0.1])\r\n\tby mx.example.test (Mailroom) with ESMTP id "), "{trace}");
    assert!(
        trace.contains("\r\n\tfor <ann@example.test>;\r\n\t"),
        "{trace}"
    );
    assert!(trace.ends_with(" +0000\r\n"), "{trace}");
    // The session goes on: a second transaction, with the null sender.
    c.transaction(
        "",
        &["ANN@Example.Test"],
        b"Subject: two\r\n\r\n.\r\n",
        "250",
    )
    .await;
    let got = inbox(&h.store, "ann").await;
    assert!(got[1].starts_with(b"Return-Path: <>\r\n"));
}

#[tokio::test]
async fn commands_in_every_state() {
    let config = SmtpConfig {
        max_errors: 100,
        ..config()
    };
    let h = harness(Mode::Mx, config).await;
    let mut c = Client::connect(&h).await;
    // Before EHLO.
    c.ok("NOOP", "250 2.0.0").await;
    c.ok("HELP", "214 2.0.0").await;
    c.ok("VRFY ann", "252 2.5.2").await;
    c.ok("EXPN staff", "502 5.5.1").await;
    c.ok("RSET", "250 2.0.0").await;
    c.ok("MAIL FROM:<a@b.example>", "503 5.5.1").await;
    c.ok("RCPT TO:<ann@example.test>", "503 5.5.1").await;
    c.ok("DATA", "503 5.5.1").await;
    c.ok("XYZZY", "500 5.5.1").await;
    c.ok("AUTH PLAIN AGFubgBwdw==", "500 5.5.1").await;
    c.ok("MAIL FROM:a@b.example", "501 5.5.4").await;
    // Greeted.
    c.ok("EHLO client.example", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "503 5.5.1").await;
    c.ok("DATA", "503 5.5.1").await;
    c.ok("MAIL FROM:<a@b.example> XFOO=1", "555 5.5.4").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    // In a transaction.
    c.ok("MAIL FROM:<a@b.example>", "503 5.5.1").await;
    c.ok("STARTTLS", "503 5.5.1").await;
    c.ok("RCPT TO:<ann@example.test> XFOO", "555 5.5.4").await;
    c.ok("RCPT TO:<>", "501 5.5.4").await;
    c.ok("DATA", "554 5.5.1").await; // no recipient yet
    c.ok("NOOP", "250").await;
    c.ok("VRFY ann", "252").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("RSET", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "503 5.5.1").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("EHLO again.example", "250").await; // a new EHLO resets the transaction
    c.ok("DATA", "503 5.5.1").await;
    assert!(inbox(&h.store, "ann").await.is_empty());
    c.ok("QUIT", "221").await;
}

#[tokio::test]
async fn pipelined_commands_get_replies_in_order() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.send(b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<ann@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n").await;
    assert!(c.reply().await.starts_with("250-mx.example.test"));
    assert!(c.reply().await.starts_with("250 2.1.0"));
    assert!(c.reply().await.starts_with("250 2.1.5"));
    assert!(c.reply().await.starts_with("550 5.1.1"));
    assert!(c.reply().await.starts_with("250 2.1.5"));
    assert!(c.reply().await.starts_with("354"));
    c.send(b"Subject: p\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n")
        .await;
    assert!(c.reply().await.starts_with("250 2.0.0"));
    assert!(c.reply().await.starts_with("250 2.0.0 OK"));
    assert!(c.reply().await.starts_with("221"));
    for user in ["ann", "bob"] {
        let got = inbox(&h.store, user).await;
        assert_eq!(got.len(), 1, "{user}");
        let (trace, rest) = strip_trace(&got[0]);
        assert_eq!(rest, b"Subject: p\r\n\r\nbody\r\n");
        assert!(!trace.contains("\tfor <"), "two recipients: no for clause");
    }
}

#[tokio::test]
async fn recipient_checks() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<someone@elsewhere.example>", "554 5.7.1")
        .await;
    c.ok("RCPT TO:<ann@example.test.elsewhere.example>", "554 5.7.1")
        .await;
    c.ok("RCPT TO:<ann@[127.0.0.1]>", "554 5.7.1").await;
    c.ok("RCPT TO:<nobody@example.test>", "550 5.1.1").await;
    c.ok("RCPT TO:<full@example.test>", "452 4.2.2").await;
    c.ok("RCPT TO:<info@example.test>", "250").await;
    c.ok("RCPT TO:<ann@example.test.>", "250").await;
    c.ok("RCPT TO:<@relay.example:tight@example.test>", "250")
        .await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "452 4.5.3").await; // the fifth
    c.ok("DATA", "354").await;
    c.send(b"Subject: r\r\n\r\nhello\r\n.\r\n").await;
    c.expect("250").await;
    // info@ is bob's alias: bob gets one copy.
    assert_eq!(inbox(&h.store, "bob").await.len(), 1);
    assert_eq!(inbox(&h.store, "ann").await.len(), 1);
    assert_eq!(inbox(&h.store, "tight").await.len(), 1);
    assert_eq!(
        inbox(&h.store, "full").await.len(),
        1,
        "only its old message"
    );
    // A declared size that doesn't fit the quota is refused early.
    c.ok("MAIL FROM:<a@b.example> SIZE=1000", "250").await;
    c.ok("RCPT TO:<tight@example.test>", "452 4.2.2").await;
}

#[tokio::test]
async fn size_limits() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@b.example> SIZE=4001", "552 5.3.4").await;
    c.ok("MAIL FROM:<a@b.example> SIZE=4000", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("DATA", "354").await;
    let line = format!("{}\r\n", "x".repeat(98));
    c.send(line.repeat(50).as_bytes()).await;
    c.send(b".\r\n").await;
    c.expect("552 5.3.4").await;
    // The session goes on, and nothing was stored.
    c.ok("NOOP", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "503").await;
    assert!(inbox(&h.store, "ann").await.is_empty());
}

#[tokio::test]
async fn bare_lf_in_data_is_normalised_and_never_ends_the_message() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    // ".\n" does not end the message; only CRLF.CRLF does (RFC 5321 §2.3.8, §4.1.1.4).
    c.transaction(
        "a@b.example",
        &["ann@example.test"],
        b"Subject: lf\r\n\r\nbare\nline\r\n.\nMAIL FROM:<smuggled@b.example>\r\n.\r\n",
        "250 2.0.0",
    )
    .await;
    c.ok("RCPT TO:<ann@example.test>", "503").await;
    c.ok("NOOP", "250").await;
    let stored = inbox(&h.store, "ann").await;
    assert_eq!(stored.len(), 1);
    let text = String::from_utf8_lossy(&stored[0]).into_owned();
    assert!(
        text.ends_with("bare\r\nline\r\n\r\nMAIL FROM:<smuggled@b.example>\r\n"),
        "{text:?}"
    );
    // Bare LF ends a command line, though.
    c.send(b"NOOP\n").await;
    assert!(c.reply().await.starts_with("250"));
}

#[tokio::test]
async fn bdat_chunks() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    // A chunk outside a transaction is read and refused; the stream stays in step.
    c.send(b"BDAT 5\r\nhel").await;
    c.send(b"lo").await;
    assert!(c.reply().await.starts_with("503 5.5.1"));
    c.ok("NOOP", "250").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.send(b"BDAT 3\r\nabc").await;
    assert!(c.reply().await.starts_with("554 5.5.1"), "no recipients");
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    let (first, second) = BODY.split_at(20);
    c.send(format!("BDAT {}\r\n", first.len()).as_bytes()).await;
    c.send(first).await;
    assert_eq!(c.reply().await, "250 2.0.0 20 octets received");
    c.ok("DATA", "503 5.5.1").await;
    c.ok("RCPT TO:<bob@example.test>", "503 5.5.1").await;
    // Pipelined: the last chunk, then a NOOP.
    let mut last = format!("BDAT {} LAST\r\n", second.len()).into_bytes();
    last.extend_from_slice(second);
    last.extend_from_slice(b"NOOP\r\n");
    c.send(&last).await;
    assert!(c.reply().await.starts_with("250 2.0.0 OK"));
    assert!(c.reply().await.starts_with("250 2.0.0 OK"));
    let got = inbox(&h.store, "ann").await;
    let (trace, rest) = strip_trace(&got[0]);
    assert_eq!(rest, BODY, "BDAT content is taken as is: no unstuffing");
    assert!(trace.contains(" with ESMTP id "));
    // Too large: refused after reading, and the transaction is over.
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.send(b"BDAT 4001\r\n").await;
    c.send(&[b'z'; 4001]).await;
    assert!(c.reply().await.starts_with("552 5.3.4"));
    c.send(b"BDAT 0 LAST\r\n").await;
    assert!(c.reply().await.starts_with("503 5.5.1"));
    // BDAT 0 LAST alone is an empty message.
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("BDAT 0 LAST", "250 2.0.0").await;
    let bob = inbox(&h.store, "bob").await;
    let (_, rest) = strip_trace(&bob[0]);
    assert!(rest.is_empty());
    assert_eq!(inbox(&h.store, "ann").await.len(), 1);
}

#[tokio::test]
async fn too_many_errors_disconnect() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    for _ in 0..9 {
        c.ok("BOGUS", "500 5.5.1").await;
    }
    c.send(b"BOGUS\r\n").await;
    assert!(c.line().await.starts_with("500 5.5.1"));
    assert!(c.line().await.starts_with("421 4.7.0"));
    assert!(c.closed().await);
}

#[tokio::test]
async fn idle_timeout_closes_with_421() {
    let config = SmtpConfig {
        timeouts: Timeouts {
            command: Duration::from_millis(300),
            data: Duration::from_millis(300),
            ..Timeouts::default()
        },
        ..config()
    };
    let h = harness(Mode::Mx, config).await;
    let mut c = Client::connect(&h).await;
    assert!(c.line().await.starts_with("421 4.4.2"));
    assert!(c.closed().await);
    // In the middle of DATA too.
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: slow\r\n").await;
    assert!(c.line().await.starts_with("421 4.4.2"));
    assert!(c.closed().await);
    assert!(inbox(&h.store, "ann").await.is_empty());
}

#[tokio::test]
async fn helo_session_and_smtputf8() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("HELO old.example", "250 mx.example.test").await;
    c.ok("MAIL FROM:<jörg@b.example>", "553 5.6.7").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<jörg@example.test>", "553 5.6.7").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: old\r\n\r\nx\r\n.\r\n").await;
    c.expect("250").await;
    c.ok("EHLO new.example", "250").await;
    c.ok("MAIL FROM:<jörg@b.example> SMTPUTF8", "250").await;
    c.ok("RCPT TO:<unknown-jörg@example.test>", "550 5.1.1")
        .await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send("Subject: Grüße\r\n\r\nÄ\r\n.\r\n".as_bytes()).await;
    c.expect("250").await;
    let got = inbox(&h.store, "ann").await;
    assert!(strip_trace(&got[0]).0.contains(" with SMTP id "));
    let (trace, rest) = strip_trace(&got[1]);
    assert!(
        trace.starts_with("Return-Path: <jörg@b.example>\r\n"),
        "{trace}"
    );
    assert!(trace.contains(" with UTF8SMTP id "), "{trace}");
    assert_eq!(rest, "Subject: Grüße\r\n\r\nÄ\r\n".as_bytes());
}

/// A recipient that passed RCPT but is over quota when the message is stored: SMTP has one
/// reply, so the others get it, the 250 stands, and the sender gets a bounce (RFC 3464) through
/// the outbound queue.
#[tokio::test]
async fn over_quota_at_delivery_among_others() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    let big = format!("Subject: big\r\n\r\n{}\r\n.\r\n", "b".repeat(400));
    let big = big.as_bytes();
    c.ok("EHLO client.example", "250").await;
    c.transaction(
        "a@b.example",
        &["tight@example.test", "ann@example.test"],
        big,
        "250 2.0.0",
    )
    .await;
    assert_eq!(inbox(&h.store, "ann").await.len(), 1);
    assert!(inbox(&h.store, "tight").await.is_empty());
    let queued = h.store.queued_messages().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].sender, "", "a bounce has the null sender");
    assert_eq!(queued[0].recipients[0].address, "a@b.example");
    let bounce = h.store.read_blob(&queued[0].blob).await.unwrap();
    let bounce = String::from_utf8_lossy(&bounce);
    assert!(
        bounce.contains("Final-Recipient: rfc822; tight@example.test"),
        "{bounce}"
    );
    assert!(bounce.contains("Subject: big"), "{bounce}");
    // A message from the null sender is never bounced.
    c.transaction(
        "",
        &["tight@example.test", "ann@example.test"],
        big,
        "250 2.0.0",
    )
    .await;
    assert_eq!(h.store.queued_messages().await.unwrap().len(), 1);
    // Alone, the over-quota recipient gets the temporary failure.
    c.transaction("a@b.example", &["tight@example.test"], big, "452 4.2.2")
        .await;
}

#[tokio::test]
async fn postmaster_without_domain() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<postmaster>", "550 5.1.1").await;
    let ann = common::account(&h.store, "ann").await;
    h.store
        .add_alias("postmaster@example.test", ann)
        .await
        .unwrap();
    // RFC 5321 §4.5.1: <postmaster> must be accepted.
    c.ok("RCPT TO:<Postmaster>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: pm\r\n\r\nhi\r\n.\r\n").await;
    c.expect("250").await;
    let got = inbox(&h.store, "ann").await;
    assert!(strip_trace(&got[0]).0.contains("\tfor <postmaster>;"));
}

#[tokio::test]
async fn connection_limit_gives_421() {
    let config = SmtpConfig {
        max_connections: 1,
        ..config()
    };
    let h = harness(Mode::Mx, config).await;
    let mut first = Client::connect(&h).await;
    let mut second = Client {
        io: tokio::io::BufReader::new(
            tokio::net::TcpStream::connect(("127.0.0.1", h.port))
                .await
                .unwrap(),
        ),
    };
    assert!(
        second
            .line()
            .await
            .starts_with("421 4.7.0 mx.example.test ")
    );
    assert!(second.closed().await);
    first.ok("NOOP", "250").await;
}
