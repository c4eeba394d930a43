//! Submission (RFC 6409) transcripts against a real server: AUTH PLAIN and LOGIN (RFC 4954)
//! in every form real clients use, what an authenticated user may send, and where the
//! message goes (local mailboxes, the outbound queue).

use crate::common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Client, Harness, PASSWORD, config, harness_with, inbox};
use mailroom_auth::{Authenticator, ThrottleConfig};
use mailroom_smtp::{Mode, SmtpConfig};
use mailroom_store::{Directory, DomainUpdate, Messages, OutboundQueue, SystemClock};
use std::sync::Arc;
use tokio::net::TcpStream;

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn plain(user: &str, password: &str) -> String {
    b64(&format!("\0{user}\0{password}"))
}

/// A submission server whose throttle is off, so failed logins answer at once; ann owns the
/// alias sales@.
async fn submission(config: SmtpConfig) -> Harness {
    let h = harness_with(Mode::Submission, config, |server, store| {
        let throttle = ThrottleConfig {
            enabled: false,
            ..ThrottleConfig::default()
        };
        let auth = Authenticator::new(store).with_throttle(throttle, Arc::new(SystemClock));
        server
            .with_authenticator(auth)
            .with_queue_wakeup(Arc::new(tokio::sync::Notify::new()))
    })
    .await;
    let ann = common::account(&h.store, "ann").await;
    h.store.add_alias("sales@example.test", ann).await.unwrap();
    h
}

/// Connected, greeted and logged in as ann.
async fn logged_in(h: &Harness) -> Client<TcpStream> {
    let mut c = Client::connect(h).await;
    c.ok("EHLO client.example", "250").await;
    let line = format!("AUTH PLAIN {}", plain("ann@example.test", PASSWORD));
    c.ok(&line, "235 2.7.0").await;
    c
}

const MESSAGE: &str =
    "From: Ann <ann@example.test>\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nhello\r\n.\r\n";

#[tokio::test]
async fn auth_plain_initial_response_and_continuation() {
    let h = submission(config()).await;
    let mut c = Client::connect(&h).await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(
        ehlo.contains("250-AUTH PLAIN LOGIN") || ehlo.contains("250 AUTH PLAIN LOGIN"),
        "{ehlo}"
    );
    c.ok("AUTH PLAIN", "334 ").await;
    c.ok(&plain("ann@example.test", PASSWORD), "235 2.7.0")
        .await;
    // RFC 4954 §4: once only.
    c.ok("AUTH PLAIN", "503 5.5.1").await;

    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    let line = format!("AUTH PLAIN {}", plain("ANN@example.test", PASSWORD));
    c.ok(&line, "235 2.7.0").await;
    c.ok("MAIL FROM:<ann@example.test>", "250").await;
}

#[tokio::test]
async fn auth_login_with_and_without_initial_response() {
    let h = submission(config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    assert_eq!(c.cmd("AUTH LOGIN").await, "334 VXNlcm5hbWU6");
    assert_eq!(c.cmd(&b64("ann@example.test")).await, "334 UGFzc3dvcmQ6");
    c.ok(&b64(PASSWORD), "235 2.7.0").await;

    // Outlook: the user name comes with the command.
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    let line = format!("AUTH LOGIN {}", b64("bob@example.test"));
    assert_eq!(c.cmd(&line).await, "334 UGFzc3dvcmQ6");
    c.ok(&b64(PASSWORD), "235 2.7.0").await;
}

#[tokio::test]
async fn cancel_bad_base64_and_unknown_mechanism() {
    let h = submission(config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("AUTH PLAIN", "503 5.5.1").await; // before EHLO
    c.ok("EHLO client.example", "250").await;
    c.ok("AUTH LOGIN", "334").await;
    c.ok("*", "501 5.7.0").await;
    c.ok("AUTH PLAIN", "334").await;
    c.ok("*", "501 5.7.0").await;
    c.ok("AUTH PLAIN !!!", "501 5.5.2").await;
    c.ok("AUTH CRAM-MD5", "504 5.5.4").await;
    // The session goes on.
    let line = format!("AUTH PLAIN {}", plain("ann@example.test", PASSWORD));
    c.ok(&line, "235").await;
}

#[tokio::test]
async fn wrong_password_then_421_after_three() {
    let h = submission(config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    let wrong = format!("AUTH PLAIN {}", plain("ann@example.test", "nope"));
    c.ok(&wrong, "535 5.7.8").await;
    let unknown = format!("AUTH PLAIN {}", plain("who@example.test", PASSWORD));
    c.ok(&unknown, "535 5.7.8").await;
    c.ok(&wrong, "535 5.7.8").await;
    c.expect("421 4.7.0").await;
    assert!(c.closed().await);
}

#[tokio::test]
async fn mail_needs_auth_and_an_own_sender() {
    let h = submission(config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok("MAIL FROM:<ann@example.test>", "530 5.7.0").await;
    let line = format!("AUTH PLAIN {}", plain("ann@example.test", PASSWORD));
    c.ok(&line, "235").await;
    c.ok("MAIL FROM:<bob@example.test>", "553 5.7.1").await;
    c.ok("MAIL FROM:<ann@elsewhere.example>", "553 5.7.1").await;
    c.ok("MAIL FROM:<info@example.test>", "553 5.7.1").await; // bob's alias
    c.ok("MAIL FROM:<Sales@Example.Test>", "250 2.1.0").await; // ann's alias
    c.ok("RSET", "250").await;
    c.ok("MAIL FROM:<ANN@example.test>", "250 2.1.0").await;
}

#[tokio::test]
async fn from_header_must_be_own() {
    let h = submission(config()).await;
    let mut c = logged_in(&h).await;
    for (from, code) in [
        ("From: Bob <bob@example.test>\r\n", "553 5.7.1"),
        ("From: ann@example.test, bob@example.test\r\n", "553 5.7.1"),
        ("", "553 5.7.1"),
        ("From: Sales <sales@example.test>\r\n", "250"),
    ] {
        c.ok("MAIL FROM:<ann@example.test>", "250").await;
        c.ok("RCPT TO:<bob@example.test>", "250").await;
        c.ok("DATA", "354").await;
        c.send(format!("{from}Subject: x\r\n\r\nbody\r\n.\r\n").as_bytes())
            .await;
        c.expect(code).await;
    }
    assert_eq!(inbox(&h.store, "bob").await.len(), 1);
}

/// RFC 5322 §3.6: exactly one From field, and it must name addresses. What the ownership
/// check can't read is refused, never skipped.
#[tokio::test]
async fn from_header_must_be_single_and_readable() {
    let h = submission(config()).await;
    let mut c = logged_in(&h).await;
    for (from, code) in [
        // Two From fields, even both the user's own.
        (
            "From: ann@example.test\r\nFrom: sales@example.test\r\n",
            "553 5.7.1",
        ),
        (
            "From: ann@example.test\r\nFrom: Bob <bob@example.test>\r\n",
            "553 5.7.1",
        ),
        // No address to be read.
        ("From: just some text\r\n", "553 5.7.1"),
        ("From:\r\n", "553 5.7.1"),
        ("From: undisclosed-recipients:;\r\n", "553 5.7.1"),
        ("From: Ann <ann@example.test>, Bob\r\n", "553 5.7.1"),
        ("From: Ann <ann@example.test>\r\n", "250"),
    ] {
        c.ok("MAIL FROM:<ann@example.test>", "250").await;
        c.ok("RCPT TO:<bob@example.test>", "250").await;
        c.ok("DATA", "354").await;
        c.send(format!("{from}Subject: x\r\n\r\nbody\r\n.\r\n").as_bytes())
            .await;
        let reply = c.reply().await;
        assert!(reply.starts_with(code), "{from:?} -> {reply}");
    }
    assert_eq!(inbox(&h.store, "bob").await.len(), 1);
}

/// RFC 5321 §4.5.5: <> is for notifications; a user's failures must bounce to someone.
#[tokio::test]
async fn null_sender_refused_on_submission() {
    let h = submission(config()).await;
    let mut c = logged_in(&h).await;
    c.ok("MAIL FROM:<>", "553 5.7.1 Use your own address").await;
    // Still no transaction: RCPT needs MAIL.
    c.ok("RCPT TO:<bob@example.test>", "503").await;
    c.transaction(
        "ann@example.test",
        &["bob@example.test"],
        MESSAGE.as_bytes(),
        "250",
    )
    .await;
    // The MX and LMTP take <> as ever: that is how bounces arrive.
    for (mode, hello) in [(Mode::Mx, "EHLO"), (Mode::Lmtp, "LHLO")] {
        let h = common::harness(mode, config()).await;
        let mut c = Client::connect(&h).await;
        c.ok(&format!("{hello} client.example"), "250").await;
        c.ok("MAIL FROM:<>", "250 2.1.0").await;
    }
}

#[tokio::test]
async fn auth_not_offered_in_plaintext_off_loopback() {
    let config = SmtpConfig {
        loopback_is_secure: false,
        ..config()
    };
    let h = submission(config).await;
    let mut c = Client::connect(&h).await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(!ehlo.contains("AUTH"), "{ehlo}");
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
    let line = format!("AUTH PLAIN {}", plain("ann@example.test", PASSWORD));
    c.ok(&line, "538 5.7.11").await;
    c.ok("MAIL FROM:<ann@example.test>", "530 5.7.0").await;

    // With plaintext allowed by the operator, it is offered.
    let config = SmtpConfig {
        loopback_is_secure: false,
        allow_plaintext_auth: true,
        ..common::config()
    };
    let h = submission(config).await;
    let mut c = Client::connect(&h).await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
}

/// RFC 3207 then RFC 4954: after STARTTLS the same client may log in, and the Received
/// field says so ("ESMTPSA", RFC 3848).
#[tokio::test]
async fn auth_after_starttls() {
    let config = SmtpConfig {
        loopback_is_secure: false,
        ..config()
    };
    let h = submission(config).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok("STARTTLS", "220").await;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = common::tls_connector(&h.cert)
        .connect(name, c.io.into_inner())
        .await
        .unwrap();
    let mut c = Client {
        io: tokio::io::BufReader::new(tls),
    };
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(ehlo.contains("AUTH PLAIN LOGIN"), "{ehlo}");
    let line = format!("AUTH PLAIN {}", plain("ann@example.test", PASSWORD));
    c.ok(&line, "235 2.7.0").await;
    c.ok("MAIL FROM:<ann@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(MESSAGE.as_bytes()).await;
    c.expect("250 2.0.0").await;
    let got = inbox(&h.store, "bob").await;
    let text = String::from_utf8_lossy(&got[0]);
    assert!(text.contains(" with ESMTPSA id "), "{text}");
}

#[tokio::test]
async fn mx_offers_no_auth() {
    let h = harness_with(Mode::Mx, config(), |s, _| s).await;
    let mut c = Client::connect(&h).await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(!ehlo.contains("AUTH"), "{ehlo}");
    let line = format!("AUTH PLAIN {}", plain("ann@example.test", PASSWORD));
    c.ok(&line, "500 5.5.1").await;
}

#[tokio::test]
async fn local_recipient_delivered_with_added_fields() {
    let h = submission(config()).await;
    let mut c = logged_in(&h).await;
    c.ok("MAIL FROM:<ann@example.test>", "250").await;
    c.ok("RCPT TO:<info@example.test>", "250 2.1.5").await;
    c.ok("RCPT TO:<nobody@example.test>", "550 5.1.1").await;
    c.ok("DATA", "354").await;
    c.send(MESSAGE.as_bytes()).await;
    c.expect("250 2.0.0").await;
    let got = inbox(&h.store, "bob").await;
    assert_eq!(got.len(), 1);
    let text = String::from_utf8_lossy(&got[0]);
    assert!(text.starts_with("Return-Path: <ann@example.test>\r\nReceived: from client.example ([127.0.0.1])\r\n\tby mx.example.test (Mailroom) with ESMTPA id "), "{text}");
    assert!(
        text.contains("\r\n\t(authenticated as ann@example.test)\r\n"),
        "{text}"
    );
    // RFC 6409 §8.2, §8.3.
    assert!(text.contains("\r\nDate: "), "{text}");
    assert!(text.contains("\r\nMessage-ID: <"), "{text}");
    assert!(text.ends_with("Subject: hi\r\n\r\nhello\r\n"), "{text}");
    // No key for the domain: unsigned.
    assert!(!text.contains("DKIM-Signature"), "{text}");
    assert!(h.store.queued_messages().await.unwrap().is_empty());
}

#[tokio::test]
async fn remote_recipient_enqueued_and_signed() {
    let h = submission(config()).await;
    let key = mailroom_smtp::generate_key("s1").unwrap();
    let update = DomainUpdate {
        dkim: Some(Some(key)),
        ..DomainUpdate::default()
    };
    h.store.update_domain("example.test", update).await.unwrap();
    let mut c = logged_in(&h).await;
    c.ok("MAIL FROM:<ann@example.test>", "250").await;
    c.ok("RCPT TO:<carol@remote.example>", "250 2.1.5").await;
    c.ok("RCPT TO:<bob@example.test>", "250 2.1.5").await;
    c.ok("DATA", "354").await;
    c.send(
        b"From: ann@example.test\r\nMessage-ID: <given@client>\r\nDate: Thu, 01 Jan 1970 00:00:00 +0000\r\nSubject: out\r\n\r\nbody\r\n.\r\n",
    )
    .await;
    c.expect("250 2.0.0").await;
    let queued = h.store.queued_messages().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].sender, "ann@example.test");
    assert_eq!(
        queued[0].account,
        Some(common::account(&h.store, "ann").await)
    );
    let rcpts: Vec<&str> = queued[0]
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(rcpts, ["carol@remote.example"]);
    let content = h.store.read_blob(&queued[0].blob).await.unwrap();
    let text = String::from_utf8_lossy(&content);
    assert!(text.starts_with("DKIM-Signature: "), "{text}");
    assert!(text.contains("d=example.test"), "{text}");
    assert!(text.contains("s=s1"), "{text}");
    assert!(!text.contains("Return-Path"), "{text}");
    // The client's own fields are kept, not doubled.
    assert_eq!(text.matches("\r\nMessage-ID:").count(), 1, "{text}");
    assert_eq!(text.matches("\r\nDate:").count(), 1, "{text}");
    // The local copy is the same message with Return-Path.
    let local = inbox(&h.store, "bob").await;
    assert_eq!(local.len(), 1);
    let local = String::from_utf8_lossy(&local[0]);
    assert_eq!(local, format!("Return-Path: <ann@example.test>\r\n{text}"));
}

/// A local recipient whose mailbox is full when the message arrives is not bounced at once:
/// the outbound queue retries it like a remote recipient (and bounces only when it gives up).
#[tokio::test]
async fn local_temporary_failure_goes_to_the_queue() {
    let h = submission(config()).await;
    let mut c = logged_in(&h).await;
    c.ok("MAIL FROM:<ann@example.test>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250 2.1.5").await;
    // tight's 300-byte quota passes RCPT (nothing stored yet, no SIZE given) but not DATA.
    c.ok("RCPT TO:<tight@example.test>", "250 2.1.5").await;
    c.ok("DATA", "354").await;
    let padding = "x".repeat(400);
    let message = format!("From: ann@example.test\r\nSubject: big\r\n\r\n{padding}\r\n.\r\n");
    c.send(message.as_bytes()).await;
    c.expect("250 2.0.0").await;
    assert_eq!(inbox(&h.store, "bob").await.len(), 1);
    assert!(inbox(&h.store, "tight").await.is_empty());
    let queued = h.store.queued_messages().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].sender, "ann@example.test");
    let rcpts: Vec<&str> = queued[0]
        .recipients
        .iter()
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(rcpts, ["tight@example.test"]);
    let content = h.store.read_blob(&queued[0].blob).await.unwrap();
    assert!(String::from_utf8_lossy(&content).contains(&padding));
    // No bounce: the user hears only if the queue gives up.
    assert!(inbox(&h.store, "ann").await.is_empty());
}

/// Alone, a temporary local failure is the client's to retry: nothing was delivered.
#[tokio::test]
async fn only_recipient_full_is_a_temporary_reply() {
    let h = submission(config()).await;
    let mut c = logged_in(&h).await;
    c.ok("MAIL FROM:<ann@example.test>", "250").await;
    c.ok("RCPT TO:<tight@example.test>", "250 2.1.5").await;
    c.ok("DATA", "354").await;
    let message = format!("From: ann@example.test\r\n\r\n{}\r\n.\r\n", "y".repeat(400));
    c.send(message.as_bytes()).await;
    c.expect("452 4.2.2").await;
    assert!(h.store.queued_messages().await.unwrap().is_empty());
    assert!(inbox(&h.store, "ann").await.is_empty());
}

/// DSN (RFC 3461) on submission: a local recipient's NOTIFY=SUCCESS brings the user a
/// "delivered" report; a remote recipient's NOTIFY and ORCPT, and the message's RET and ENVID,
/// go into the outbound queue, whose runner relays them and reports on them (not we, now).
#[tokio::test]
async fn dsn_for_local_recipients_and_relayed_for_remote_ones() {
    let h = submission(config()).await;
    let mut c = logged_in(&h).await;
    c.ok("MAIL FROM:<ann@example.test> RET=HDRS ENVID=sub+2B1", "250")
        .await;
    c.ok(
        "RCPT TO:<carol@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;carol+2Bx@remote.example",
        "250 2.1.5",
    )
    .await;
    c.ok(
        "RCPT TO:<dave@remote.example> NOTIFY=NEVER,DELAY",
        "501 5.5.4",
    )
    .await;
    c.ok("RCPT TO:<erin@remote.example> NOTIFY=NEVER", "250 2.1.5")
        .await;
    c.ok("RCPT TO:<bob@example.test> NOTIFY=SUCCESS", "250 2.1.5")
        .await;
    c.ok("DATA", "354").await;
    c.send(MESSAGE.as_bytes()).await;
    c.expect("250 2.0.0").await;
    let queued = h.store.queued_messages().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].sender, "ann@example.test");
    assert_eq!(queued[0].envid.as_deref(), Some("sub+1"));
    assert_eq!(queued[0].ret, Some(mailroom_store::DsnRet::Hdrs));
    let carol = &queued[0].recipients[0];
    assert_eq!(carol.address, "carol@remote.example");
    assert_eq!(
        carol.notify,
        mailroom_store::DsnNotify::On {
            success: true,
            failure: true,
            delay: false
        }
    );
    assert_eq!(
        carol.orcpt.as_deref(),
        Some("rfc822;carol+2Bx@remote.example")
    );
    let erin = &queued[0].recipients[1];
    assert_eq!(erin.address, "erin@remote.example");
    assert_eq!(erin.notify, mailroom_store::DsnNotify::Never);
    assert_eq!(erin.orcpt, None);
    assert_eq!(inbox(&h.store, "bob").await.len(), 1);
    let got = inbox(&h.store, "ann").await;
    assert_eq!(got.len(), 1);
    let report = String::from_utf8_lossy(&got[0]);
    for expected in [
        "Return-Path: <>\r\n",
        "Original-Envelope-Id: sub+1",
        "Final-Recipient: rfc822; bob@example.test\r\nAction: delivered\r\nStatus: 2.0.0",
    ] {
        assert!(report.contains(expected), "{expected}: {report}");
    }
    assert!(!report.contains("carol@remote.example"), "{report}");
}

/// SCRAM-SHA-256 (RFC 7677) over AUTH: server-first as a 334, the server's signature as a last
/// 334 answered with an empty line, then 235; a wrong password fails like any other.
#[tokio::test]
async fn auth_scram_sha256() {
    use mailroom_auth::scram;
    let h = submission(config()).await;
    let ann = h
        .store
        .account_by_address("ann@example.test")
        .await
        .unwrap()
        .unwrap();
    let keys = mailroom_store::AccountUpdate {
        scram_sha256: Some(Some(scram::scram_credentials(PASSWORD).unwrap())),
        ..Default::default()
    };
    h.store.update_account(ann.id, keys).await.unwrap();
    for (password, expected) in [(PASSWORD, "235 2.7.0"), ("wrong", "535 5.7.8")] {
        let mut c = Client::connect(&h).await;
        let ehlo = c.cmd("EHLO client.example").await;
        assert!(ehlo.contains("AUTH PLAIN LOGIN SCRAM-SHA-256"), "{ehlo}");
        let bare = "n=ann@example.test,r=fyko+d2lbbFgONRv9qkxdawL";
        let reply = c
            .cmd(&format!(
                "AUTH SCRAM-SHA-256 {}",
                b64(&format!("n,,{bare}"))
            ))
            .await;
        let challenge = reply.strip_prefix("334 ").expect("server-first");
        let server_first = String::from_utf8(STANDARD.decode(challenge).unwrap()).unwrap();
        let (client_final, server_final) =
            scram::client_final(password, "n,,", bare, &server_first).unwrap();
        let reply = c.cmd(&b64(&client_final)).await;
        if password == PASSWORD {
            let signature = reply.strip_prefix("334 ").expect("server-final");
            let signature = String::from_utf8(STANDARD.decode(signature).unwrap()).unwrap();
            assert_eq!(signature, server_final);
            let done = c.cmd("").await;
            assert!(done.starts_with(expected), "{done}");
            c.transaction(
                "ann@example.test",
                &["bob@example.test"],
                MESSAGE.as_bytes(),
                "250",
            )
            .await;
        } else {
            assert!(reply.starts_with(expected), "{reply}");
        }
    }
}

/// Sessions of one account from one address are bounded after AUTH (the connection limit per
/// address only counts sessions that have not logged in).
#[tokio::test]
async fn sessions_of_one_account_from_one_address_are_bounded() {
    let h = submission(SmtpConfig {
        max_connections_per_user_ip: 2,
        ..config()
    })
    .await;
    let _first = logged_in(&h).await;
    let _second = logged_in(&h).await;
    let mut third = Client::connect(&h).await;
    third.ok("EHLO client.example", "250").await;
    let line = format!("AUTH PLAIN {}", plain("ann@example.test", PASSWORD));
    third.ok(&line, "421 4.7.0").await;
    assert!(third.closed().await);
    // Another account from the same address is not affected.
    let mut bob = Client::connect(&h).await;
    bob.ok("EHLO client.example", "250").await;
    let line = format!("AUTH PLAIN {}", plain("bob@example.test", PASSWORD));
    bob.ok(&line, "235 2.7.0").await;
}
