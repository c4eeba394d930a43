//! Inbound email authentication on the MX: SPF, DKIM and DMARC against a resolver that knows
//! only what each test puts in it (`Dns::offline`), so nothing touches the network.

use crate::common;

use common::{Client, Harness, config, harness_with, inbox, strip_trace};
use mailroom_smtp::{Dns, Mode, SmtpConfig};
use std::sync::Arc;

/// An MX with the given resolver.
async fn mx(config: SmtpConfig, dns: Dns) -> Harness {
    let dns = Arc::new(dns);
    harness_with(Mode::Mx, config, move |s, _| s.with_dns(dns)).await
}

/// Sends `message` (not dot-stuffed, without the final dot) from `from` to ann; the reply.
async fn send(h: &Harness, from: &str, message: &str) -> String {
    let mut c = Client::connect(h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok(&format!("MAIL FROM:<{from}>"), "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(format!("{message}.\r\n").as_bytes()).await;
    c.reply().await
}

/// The Authentication-Results field of ann's newest message (after the trace fields).
async fn results(h: &Harness) -> String {
    let got = inbox(&h.store, "ann").await;
    let last = got.last().expect("a delivered message");
    let (_, rest) = strip_trace(last);
    let text = String::from_utf8_lossy(rest).into_owned();
    assert!(
        text.starts_with("Authentication-Results: mx.example.test;"),
        "{text}"
    );
    text
}

#[tokio::test]
async fn pass_with_spf_dkim_and_dmarc() {
    let key = mailroom_smtp::generate_key("sel").unwrap();
    let dns = Dns::offline().unwrap();
    dns.add_txt("sender.example", "v=spf1 ip4:127.0.0.1 -all")
        .unwrap();
    dns.add_txt("_dmarc.sender.example", "v=DMARC1; p=reject")
        .unwrap();
    for record in mailroom_smtp::dns_records("sender.example", "mx.sender.example", Some(&key)) {
        if record.name == "sel._domainkey.sender.example" {
            dns.add_txt(&record.name, &record.value).unwrap();
        }
    }
    let h = mx(config(), dns).await;
    // A forged result in our name goes; another server's stays.
    let body = "Authentication-Results: mx.example.test; dkim=pass\r\n\
                Authentication-Results: other.example; spf=pass\r\n\
                From: Ann Sender <a@sender.example>\r\nSubject: signed\r\n\r\nhello\r\n";
    let signature = mailroom_smtp::sign(body.as_bytes(), "sender.example", &key).unwrap();
    let reply = send(&h, "a@sender.example", &format!("{signature}{body}")).await;
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    let text = results(&h).await;
    let (field, _) = text.split_once("\r\nDKIM-Signature").unwrap();
    assert!(field.contains("spf=pass"), "{field}");
    assert!(field.contains("dkim=pass"), "{field}");
    assert!(field.contains("dmarc=pass"), "{field}");
    assert_eq!(
        text.matches("Authentication-Results: mx.example.test")
            .count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("Authentication-Results: other.example; spf=pass"),
        "{text}"
    );
}

#[tokio::test]
async fn failures_are_reported_and_delivered() {
    let dns = Dns::offline().unwrap();
    dns.add_txt("sender.example", "v=spf1 ip4:192.0.2.1 -all")
        .unwrap();
    dns.add_txt("_dmarc.sender.example", "v=DMARC1; p=none")
        .unwrap();
    let h = mx(config(), dns).await;
    let reply = send(
        &h,
        "a@sender.example",
        "From: a@sender.example\r\nSubject: x\r\n\r\nhi\r\n",
    )
    .await;
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    let text = results(&h).await;
    assert!(text.contains("spf=fail"), "{text}");
    assert!(text.contains("dkim=none"), "{text}");
    assert!(text.contains("dmarc=fail"), "{text}");
}

#[tokio::test]
async fn unknown_dns_is_temperror_not_a_hang() {
    // No name server: every lookup fails at once.
    let h = mx(config(), Dns::unreachable().unwrap()).await;
    let reply = send(
        &h,
        "a@nowhere.example",
        "From: a@nowhere.example\r\nSubject: x\r\n\r\nhi\r\n",
    )
    .await;
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    let text = results(&h).await;
    assert!(text.contains("spf=temperror"), "{text}");
    assert!(text.contains("dmarc=temperror"), "{text}");
}

#[tokio::test]
async fn dmarc_reject_is_honoured_unless_configured_off() {
    let dns = || {
        let dns = Dns::offline().unwrap();
        dns.add_txt("sender.example", "v=spf1 ip4:192.0.2.1 -all")
            .unwrap();
        dns.add_txt("_dmarc.sender.example", "v=DMARC1; p=reject")
            .unwrap();
        dns
    };
    let message = "From: a@sender.example\r\nSubject: forged\r\n\r\nhi\r\n";
    let h = mx(config(), dns()).await;
    let reply = send(&h, "a@sender.example", message).await;
    assert!(reply.starts_with("550 5.7.1 "), "{reply}");
    assert!(inbox(&h.store, "ann").await.is_empty());

    let config = SmtpConfig {
        dmarc_reject: false,
        ..config()
    };
    let h = mx(config, dns()).await;
    let reply = send(&h, "a@sender.example", message).await;
    assert!(reply.starts_with("250"), "{reply}");
    assert!(results(&h).await.contains("dmarc=fail"));
}

#[tokio::test]
async fn verification_off_still_strips_forged_results() {
    let config = SmtpConfig {
        verify_inbound: false,
        ..config()
    };
    let h = mx(config, Dns::offline().unwrap()).await;
    let reply = send(
        &h,
        "a@sender.example",
        "Authentication-Results: mx.example.test; dmarc=pass\r\nSubject: x\r\n\r\nhi\r\n",
    )
    .await;
    assert!(reply.starts_with("250"), "{reply}");
    let got = inbox(&h.store, "ann").await;
    let (_, rest) = strip_trace(&got[0]);
    assert_eq!(rest, b"Subject: x\r\n\r\nhi\r\n");
}
