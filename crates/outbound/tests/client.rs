//! The SMTP client against a loopback sink.

mod common;

use common::sink::{Sink, SinkBehaviour};
use mailroom_outbound::Timeouts;
use mailroom_outbound::client::{ClientSettings, Envelope, RecipientResult, deliver};
use mailroom_outbound::mx::Target;
use mailroom_store::{DsnNotify, DsnRet, OutboundRecipient};
use std::time::Duration;

fn settings() -> ClientSettings {
    ClientSettings {
        hostname: "client.test".into(),
        timeouts: Timeouts::uniform(Duration::from_secs(10)),
        tls: true,
    }
}

fn target(sink: &Sink) -> Vec<Target> {
    vec![Target {
        host: "sink.test".into(),
        addrs: vec![sink.addr],
    }]
}

const MESSAGE: &[u8] =
    b"From: a@here.test\r\nTo: b@there.test\r\nSubject: hi\r\n\r\n.leading dot\r\nbody\r\n";

/// Delivers `MESSAGE` from a@here.test to `recipients` through `targets`.
async fn send_to(
    targets: &[Target],
    recipients: &[&str],
    settings: &ClientSettings,
) -> Vec<RecipientResult> {
    let recipients: Vec<OutboundRecipient> = recipients
        .iter()
        .map(|r| OutboundRecipient::new(*r))
        .collect();
    let envelope = Envelope {
        sender: "a@here.test",
        recipients: &recipients,
        envid: None,
        ret: None,
        content: MESSAGE,
    };
    deliver(targets, &envelope, settings).await.results
}

/// Delivers `MESSAGE` from a@here.test to `recipients` through `sink`, default settings.
async fn send(sink: &Sink, recipients: &[&str]) -> Vec<RecipientResult> {
    send_to(&target(sink), recipients, &settings()).await
}

#[tokio::test]
async fn each_recipient_gets_its_own_outcome() {
    let sink = Sink::start(
        SinkBehaviour::default()
            .rcpt("no@there.test", "550 5.1.1 no such user")
            .rcpt("later@there.test", "451 4.3.0 try later"),
    )
    .await;
    let results = send(
        &sink,
        &["ok@there.test", "no@there.test", "later@there.test"],
    )
    .await;
    assert!(matches!(&results[0], RecipientResult::Delivered(r) if r.code == 250));
    assert!(
        matches!(&results[1], RecipientResult::PermFail(r) if r.code == 550 && r.enhanced_status() == Some("5.1.1"))
    );
    assert!(matches!(&results[2], RecipientResult::TempFail(r) if r.code == 451));

    let messages = sink.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].mail_from, "a@here.test");
    assert_eq!(messages[0].recipients, vec!["ok@there.test"]);
    // Dot-stuffing was undone by the server: the bytes arrived unchanged.
    assert_eq!(messages[0].data, MESSAGE);

    let commands = sink.commands();
    assert_eq!(commands[0], "EHLO client.test");
    // SIZE was announced, so the MAIL command declares it; 7-bit content gets no BODY.
    assert_eq!(
        commands[1],
        format!("MAIL FROM:<a@here.test> SIZE={}", MESSAGE.len())
    );
    assert_eq!(commands.last().unwrap(), "QUIT");
}

#[tokio::test]
async fn null_sender_and_eight_bit_body() {
    let sink = Sink::start(SinkBehaviour::default()).await;
    let recipients = vec![OutboundRecipient::new("b@there.test")];
    let content = "Subject: caf\u{e9}\r\n\r\nna\u{ef}ve\r\n".as_bytes();
    let envelope = Envelope {
        sender: "",
        recipients: &recipients,
        envid: None,
        ret: None,
        content,
    };
    let results = deliver(&target(&sink), &envelope, &settings())
        .await
        .results;
    assert!(matches!(results[0], RecipientResult::Delivered(_)));
    let commands = sink.commands();
    // 8BITMIME advertised and needed; SMTPUTF8 not advertised, so not used.
    assert_eq!(
        commands[1],
        format!("MAIL FROM:<> SIZE={} BODY=8BITMIME", content.len())
    );
}

#[tokio::test]
async fn falls_back_to_helo() {
    let sink = Sink::start(SinkBehaviour {
        ehlo: None,
        ..SinkBehaviour::default()
    })
    .await;
    let results = send(&sink, &["b@there.test"]).await;
    assert!(matches!(results[0], RecipientResult::Delivered(_)));
    let commands = sink.commands();
    assert_eq!(commands[1], "HELO client.test");
    // No extensions known after HELO: a bare MAIL FROM.
    assert_eq!(commands[2], "MAIL FROM:<a@here.test>");
}

#[tokio::test]
async fn refused_starttls_continues_in_plaintext() {
    let sink = Sink::start(SinkBehaviour {
        ehlo: Some("250-sink.test\r\n250 STARTTLS".into()),
        ..SinkBehaviour::default()
    })
    .await;
    let results = send(&sink, &["b@there.test"]).await;
    assert!(matches!(results[0], RecipientResult::Delivered(_)));
    assert_eq!(sink.commands()[1], "STARTTLS");
}

#[tokio::test]
async fn oversized_message_fails_without_mail_from() {
    let sink = Sink::start(SinkBehaviour {
        ehlo: Some("250-sink.test\r\n250 SIZE 10".into()),
        ..SinkBehaviour::default()
    })
    .await;
    let results = send(&sink, &["b@there.test"]).await;
    assert!(matches!(&results[0], RecipientResult::PermFail(r) if r.code == 552));
    assert!(!sink.commands().iter().any(|c| c.starts_with("MAIL")));
}

#[tokio::test]
async fn rejected_data_fails_accepted_recipients() {
    let sink = Sink::start(SinkBehaviour {
        data_reply: "554 5.7.1 spam".into(),
        ..SinkBehaviour::default()
    })
    .await;
    let results = send(&sink, &["b@there.test", "c@there.test"]).await;
    assert!(
        results
            .iter()
            .all(|r| matches!(r, RecipientResult::PermFail(r) if r.code == 554))
    );
}

#[tokio::test]
async fn unreachable_host_is_a_temporary_failure() {
    // Take a free loopback port and close it again: connecting is refused.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let targets = vec![Target {
        host: "closed.test".into(),
        addrs: vec![addr],
    }];
    let results = send_to(&targets, &["b@there.test"], &settings()).await;
    assert!(
        matches!(&results[0], RecipientResult::TempFail(r) if r.enhanced_status() == Some("4.4.1"))
    );
}

#[tokio::test]
async fn next_host_is_tried_after_a_failing_one() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let sink = Sink::start(SinkBehaviour::default()).await;
    let targets = vec![
        Target {
            host: "closed.test".into(),
            addrs: vec![closed],
        },
        Target {
            host: "sink.test".into(),
            addrs: vec![sink.addr],
        },
    ];
    let results = send_to(&targets, &["b@there.test"], &settings()).await;
    assert!(matches!(results[0], RecipientResult::Delivered(_)));
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn refusing_greeting_moves_on() {
    let sink = Sink::start(SinkBehaviour {
        greeting: "554 5.3.2 go away".into(),
        ..SinkBehaviour::default()
    })
    .await;
    let results = send(&sink, &["b@there.test"]).await;
    assert!(
        matches!(&results[0], RecipientResult::TempFail(r) if r.one_line().contains("go away"))
    );
}

#[tokio::test]
async fn starttls_with_a_self_signed_certificate() {
    let sink = Sink::start(SinkBehaviour {
        ehlo: Some("250-sink.test\r\n250-STARTTLS\r\n250 SIZE 1000000".into()),
        starttls_reply: "220 2.0.0 ready".into(),
        ..SinkBehaviour::default()
    })
    .await;
    let results = send(&sink, &["b@there.test"]).await;
    assert!(
        matches!(results[0], RecipientResult::Delivered(_)),
        "{results:?}"
    );
    let commands = sink.commands();
    // EHLO, STARTTLS, handshake, EHLO again (RFC 3207 §4.2), then the transaction.
    assert_eq!(
        &commands[..4],
        &[
            "EHLO client.test",
            "STARTTLS",
            "<TLS established>",
            "EHLO client.test"
        ]
    );
    assert_eq!(sink.messages()[0].data, MESSAGE);
}

#[tokio::test]
async fn tls_disabled_never_sends_starttls() {
    let sink = Sink::start(SinkBehaviour {
        ehlo: Some("250-sink.test\r\n250 STARTTLS".into()),
        starttls_reply: "220 2.0.0 ready".into(),
        ..SinkBehaviour::default()
    })
    .await;
    let mut settings = settings();
    settings.tls = false;
    let results = send_to(&target(&sink), &["b@there.test"], &settings).await;
    assert!(matches!(results[0], RecipientResult::Delivered(_)));
    assert!(!sink.commands().iter().any(|c| c == "STARTTLS"));
}

#[tokio::test]
async fn addresses_cannot_inject_commands() {
    let sink = Sink::start(SinkBehaviour::default()).await;
    let results = send(
        &sink,
        &["b@there.test>\r\nRCPT TO:<evil@there.test", "ok@there.test"],
    )
    .await;
    assert!(matches!(&results[0], RecipientResult::PermFail(r) if r.code == 553));
    assert!(matches!(results[1], RecipientResult::Delivered(_)));
    assert!(!sink.commands().iter().any(|c| c.contains("evil")));
}

#[tokio::test]
async fn at_most_five_addresses_are_tried() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = listener.local_addr().unwrap();
    drop(listener);
    let sink = Sink::start(SinkBehaviour::default()).await;
    // Five refusing addresses over two hosts, then a working one: it is past the limit.
    let targets = vec![
        Target {
            host: "closed1.test".into(),
            addrs: vec![closed; 3],
        },
        Target {
            host: "closed2.test".into(),
            addrs: vec![closed; 2],
        },
        Target {
            host: "sink.test".into(),
            addrs: vec![sink.addr],
        },
    ];
    let results = send_to(&targets, &["b@there.test"], &settings()).await;
    assert!(matches!(results[0], RecipientResult::TempFail(_)));
    assert_eq!(*sink.connections.lock().unwrap(), 0);
    assert!(sink.messages().is_empty());
}

/// DSN (RFC 3461) advertised: RET and ENVID go on MAIL FROM, NOTIFY and ORCPT on each RCPT TO,
/// xtext as received (ENVID re-encoded from its decoded form).
#[tokio::test]
async fn dsn_parameters_go_to_a_server_that_advertises_dsn() {
    let sink = Sink::start(SinkBehaviour::default().with_dsn()).await;
    let recipients = vec![
        OutboundRecipient {
            address: "b@there.test".into(),
            notify: DsnNotify::On {
                success: true,
                failure: true,
                delay: false,
            },
            orcpt: Some("rfc822;b+2Bx@there.test".into()),
        },
        OutboundRecipient {
            address: "c@there.test".into(),
            notify: DsnNotify::Never,
            orcpt: None,
        },
        OutboundRecipient::new("d@there.test"),
    ];
    let envelope = Envelope {
        sender: "a@here.test",
        recipients: &recipients,
        envid: Some("QQ31+4"),
        ret: Some(DsnRet::Hdrs),
        content: MESSAGE,
    };
    let handover = deliver(&target(&sink), &envelope, &settings()).await;
    assert!(handover.next_hop_dsn);
    assert!(
        handover
            .results
            .iter()
            .all(|r| matches!(r, RecipientResult::Delivered(_)))
    );
    let commands = sink.commands();
    let mail = format!(
        "MAIL FROM:<a@here.test> SIZE={} RET=HDRS ENVID=QQ31+2B4",
        MESSAGE.len()
    );
    assert!(commands.contains(&mail), "{commands:?}");
    for rcpt in [
        "RCPT TO:<b@there.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b+2Bx@there.test",
        "RCPT TO:<c@there.test> NOTIFY=NEVER",
        "RCPT TO:<d@there.test>",
    ] {
        assert!(commands.contains(&rcpt.to_string()), "{rcpt}: {commands:?}");
    }
}

/// Without DSN advertised, the parameters are not sent (the server would refuse them) and the
/// hand-over says so.
#[tokio::test]
async fn dsn_parameters_are_withheld_from_a_server_without_dsn() {
    let sink = Sink::start(SinkBehaviour::default()).await;
    let recipients = vec![OutboundRecipient {
        address: "b@there.test".into(),
        notify: DsnNotify::Never,
        orcpt: Some("rfc822;b@there.test".into()),
    }];
    let envelope = Envelope {
        sender: "a@here.test",
        recipients: &recipients,
        envid: Some("env"),
        ret: Some(DsnRet::Full),
        content: MESSAGE,
    };
    let handover = deliver(&target(&sink), &envelope, &settings()).await;
    assert!(!handover.next_hop_dsn);
    assert!(matches!(handover.results[0], RecipientResult::Delivered(_)));
    let commands = sink.commands();
    assert!(
        commands.contains(&"RCPT TO:<b@there.test>".to_string()),
        "{commands:?}"
    );
    assert!(
        !commands
            .iter()
            .any(|c| c.contains("NOTIFY") || c.contains("ENVID") || c.contains("RET=")),
        "{commands:?}"
    );
}
