//! Where a message ends and what each end is answered with: the SMTP smuggling separators
//! (DATA and BDAT, checked by what lands in the mailbox), lines of any length inside a
//! message, bare line ends normalised or refused, and LMTP's one reply per recipient in every
//! outcome (RFC 2033 §4.2).

use crate::common;

use common::{Client, Harness, config, harness, inbox, strip_trace};
use mailroom_smtp::proto::BareLineEnds;
use mailroom_smtp::{Mode, SmtpConfig};
use mailroom_store::{Directory, NewAccount};

/// The separators of the published attacks (CVE-2023-51764/51765/51766): each ends DATA for
/// some server, none for a strict one.
const SEPARATORS: [&[u8]; 5] = [b"\n.\n", b"\n.\r\n", b"\r.\r\n", b"\r\n.\r", b"\r\n.\n"];

/// A carrier to ann with a complete second transaction to bob hidden behind `separator`.
fn smuggling_message(separator: &[u8]) -> Vec<u8> {
    let mut m = b"Subject: carrier\r\n\r\nhello".to_vec();
    m.extend_from_slice(separator);
    m.extend_from_slice(
        b"MAIL FROM:<admin@bank.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n",
    );
    m
}

async fn reads_one_reply_then_quit(c: &mut Client<tokio::net::TcpStream>, code: &str) {
    // A vulnerable server answers the hidden MAIL, RCPT and DATA and the second message
    // before the QUIT; a strict one has exactly one reply for the one message.
    c.expect(code).await;
    c.ok("QUIT", "221").await;
    assert!(c.closed().await);
}

fn strict() -> SmtpConfig {
    SmtpConfig {
        bare_line_ends: BareLineEnds::Reject,
        ..config()
    }
}

#[tokio::test]
async fn smuggled_data_stays_inside_the_one_message() {
    for mode in [Mode::Mx, Mode::Lmtp] {
        for separator in SEPARATORS {
            let h = harness(mode, config()).await;
            let mut c = Client::connect(&h).await;
            c.ok(
                if mode == Mode::Lmtp {
                    "LHLO c.example"
                } else {
                    "EHLO c.example"
                },
                "250",
            )
            .await;
            c.ok("MAIL FROM:<a@b.example>", "250").await;
            c.ok("RCPT TO:<ann@example.test>", "250").await;
            c.ok("DATA", "354").await;
            let mut message = smuggling_message(separator);
            message.extend_from_slice(b".\r\n");
            c.send(&message).await;
            reads_one_reply_then_quit(&mut c, "250 2.0.0").await;
            let ann = inbox(&h.store, "ann").await;
            assert_eq!(ann.len(), 1, "{mode:?} {separator:?}");
            let (_, stored) = strip_trace(&ann[0]);
            let text = String::from_utf8_lossy(stored);
            assert!(
                text.contains(
                    "\r\nMAIL FROM:<admin@bank.example>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                ),
                "{mode:?} {separator:?}: {text:?}"
            );
            // Stored with CRLF only: nothing a later hop could read as another line end.
            assert!(
                matches!(
                    mailroom_store::normalize_crlf(stored),
                    std::borrow::Cow::Borrowed(_)
                ),
                "{separator:?}: {text:?}"
            );
            assert!(
                inbox(&h.store, "bob").await.is_empty(),
                "{mode:?} {separator:?}"
            );
        }
    }
}

#[tokio::test]
async fn smuggling_separators_inside_bdat_are_one_message() {
    for separator in SEPARATORS {
        let h = harness(Mode::Mx, config()).await;
        let mut c = Client::connect(&h).await;
        c.ok("EHLO c.example", "250").await;
        c.ok("MAIL FROM:<a@b.example>", "250").await;
        c.ok("RCPT TO:<ann@example.test>", "250").await;
        let mut message = smuggling_message(separator);
        message.extend_from_slice(b".\r\n");
        c.send(format!("BDAT {} LAST\r\n", message.len()).as_bytes())
            .await;
        c.send(&message).await;
        reads_one_reply_then_quit(&mut c, "250 2.0.0").await;
        let ann = inbox(&h.store, "ann").await;
        assert_eq!(ann.len(), 1);
        let (_, stored) = strip_trace(&ann[0]);
        assert_eq!(
            stored,
            &mailroom_store::normalize_crlf(&message)[..],
            "{separator:?}"
        );
        assert!(inbox(&h.store, "bob").await.is_empty());
    }
}

#[tokio::test]
async fn strict_servers_refuse_bare_line_ends_in_data_and_bdat() {
    for separator in SEPARATORS {
        let h = harness(Mode::Mx, strict()).await;
        let mut c = Client::connect(&h).await;
        c.ok("EHLO c.example", "250").await;
        c.transaction(
            "a@b.example",
            &["ann@example.test"],
            &[smuggling_message(separator), b".\r\n".to_vec()].concat(),
            "550 5.6.0",
        )
        .await;
        c.ok("MAIL FROM:<a@b.example>", "250").await;
        c.ok("RCPT TO:<ann@example.test>", "250").await;
        let message = smuggling_message(separator);
        c.send(format!("BDAT {} LAST\r\n", message.len()).as_bytes())
            .await;
        c.send(&message).await;
        c.expect("550 5.6.0").await;
        // A proper message still goes through.
        c.transaction(
            "a@b.example",
            &["ann@example.test"],
            b"Subject: fine\r\n\r\nok\r\n.\r\n",
            "250 2.0.0",
        )
        .await;
        assert_eq!(inbox(&h.store, "ann").await.len(), 1);
        assert!(inbox(&h.store, "bob").await.is_empty());
    }
}

/// Real mail has lines far over RFC 5321's 1,000 octets (HTML from careless generators,
/// base64 without breaks); Postfix and Dovecot take them. Inside a message only the size
/// limit counts; command lines keep theirs.
#[tokio::test]
async fn long_lines_inside_a_message_are_stored_as_they_came() {
    let h = harness(
        Mode::Mx,
        SmtpConfig {
            max_message_size: 1 << 20,
            ..config()
        },
    )
    .await;
    let mut c = Client::connect(&h).await;
    c.ok(&format!("NOOP {}", "x".repeat(5000)), "500 5.5.2")
        .await;
    c.ok("EHLO client.example", "250").await;
    let body = format!(
        "Subject: long\r\n\r\n{}\r\n{}\r\nshort\r\n",
        "y".repeat(1200),
        "z".repeat(300_000)
    );
    c.transaction(
        "a@b.example",
        &["ann@example.test"],
        format!("{body}.\r\n").as_bytes(),
        "250 2.0.0",
    )
    .await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.send(format!("BDAT {} LAST\r\n", body.len()).as_bytes())
        .await;
    c.send(body.as_bytes()).await;
    c.expect("250 2.0.0").await;
    let stored = inbox(&h.store, "ann").await;
    assert_eq!(stored.len(), 2);
    for message in &stored {
        assert_eq!(strip_trace(message).1, body.as_bytes());
    }
}

/// ann, bob, tight (300-byte quota), carl and dora, in that order.
const FIVE: [&str; 5] = ["ann", "bob", "tight", "carl", "dora"];

async fn lmtp_harness(config: SmtpConfig) -> Harness {
    let h = harness(
        Mode::Lmtp,
        SmtpConfig {
            max_recipients: 10,
            ..config
        },
    )
    .await;
    let hash = mailroom_auth::hash_password(common::PASSWORD).unwrap();
    for user in ["carl", "dora"] {
        h.store
            .create_account(NewAccount::new(
                format!("{user}@example.test"),
                hash.clone(),
            ))
            .await
            .unwrap();
    }
    h
}

/// Sends one LMTP transaction to the first `n` of [`FIVE`] and returns the replies after the
/// end of the message (as many as the server sends before the NOOP's 250).
async fn lmtp_replies(h: &Harness, n: usize, message: &[u8], bdat: bool) -> Vec<String> {
    let mut c = Client::connect(h).await;
    c.ok("LHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    for user in &FIVE[..n] {
        c.ok(&format!("RCPT TO:<{user}@example.test>"), "250").await;
    }
    if bdat {
        c.send(format!("BDAT {} LAST\r\n", message.len()).as_bytes())
            .await;
        c.send(message).await;
    } else {
        c.ok("DATA", "354").await;
        c.send(message).await;
        c.send(b".\r\n").await;
    }
    // The NOOP's reply marks the end: every reply before it belongs to the message.
    c.send(b"NOOP\r\n").await;
    let mut replies = Vec::new();
    loop {
        let reply = c.reply().await;
        if reply.starts_with("250 2.0.0 OK") {
            return replies;
        }
        replies.push(reply);
    }
}

#[tokio::test]
async fn lmtp_answers_every_recipient_in_every_outcome() {
    let too_large = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(5000)).into_bytes();
    let bare = b"Subject: bare\r\n\r\nline\nline\r\n".to_vec();
    let fine = b"Subject: fine\r\n\r\nhello\r\n".to_vec();
    for n in [1, 2, 5] {
        for bdat in [false, true] {
            let h = lmtp_harness(config()).await;
            let replies = lmtp_replies(&h, n, &too_large, bdat).await;
            assert_eq!(replies.len(), n, "too large, {n}, bdat {bdat}: {replies:?}");
            assert!(
                replies.iter().all(|r| r.starts_with("552 5.3.4")),
                "{replies:?}"
            );

            let h = lmtp_harness(strict()).await;
            let replies = lmtp_replies(&h, n, &bare, bdat).await;
            assert_eq!(replies.len(), n, "bare line end, {n}: {replies:?}");
            assert!(
                replies.iter().all(|r| r.starts_with("550 5.6.0")),
                "{replies:?}"
            );

            // The store fails: its blob directory is gone and a file stands in its way.
            let h = lmtp_harness(config()).await;
            std::fs::remove_dir_all(h.data.join("blobs")).unwrap();
            std::fs::write(h.data.join("blobs"), b"not a directory").unwrap();
            let replies = lmtp_replies(&h, n, &fine, bdat).await;
            assert_eq!(replies.len(), n, "store failure, {n}: {replies:?}");
            assert!(
                replies.iter().all(|r| r.starts_with("451 4.3.0")),
                "{replies:?}"
            );

            // tight@ (the third) can't take a message over its 300 octets; the others do.
            let h = lmtp_harness(config()).await;
            let mut big = b"Subject: over quota\r\n\r\n".to_vec();
            big.extend_from_slice(format!("{}\r\n", "q".repeat(400)).as_bytes());
            let replies = lmtp_replies(&h, n, &big, bdat).await;
            assert_eq!(replies.len(), n, "over quota, {n}: {replies:?}");
            for (user, reply) in FIVE.iter().zip(&replies) {
                if *user == "tight" {
                    assert!(reply.starts_with("452 4.2.2"), "{reply}");
                } else {
                    assert_eq!(reply, &format!("250 2.0.0 <{user}@example.test> delivered"));
                }
            }
        }
    }
}
