//! The per-address connection limit, for MX and LMTP alike, and the command rate.

use crate::common;

use common::{Client, config, harness};
use mailroom_net::RateConfig;
use mailroom_smtp::Mode;
use std::time::Duration;
use tokio::io::BufReader;
use tokio::net::TcpStream;

#[tokio::test]
async fn the_51st_connection_from_one_address_gets_421() {
    for mode in [Mode::Mx, Mode::Lmtp] {
        let h = harness(mode, config()).await;
        let mut clients = Vec::new();
        for _ in 0..50 {
            clients.push(Client::connect(&h).await);
        }
        let mut refused = Client {
            io: BufReader::new(TcpStream::connect(("127.0.0.1", h.port)).await.unwrap()),
        };
        assert_eq!(
            refused.line().await,
            "421 4.7.0 Too many connections from your address"
        );
        assert!(refused.closed().await);
        clients[0].ok("NOOP", "250").await;
    }
}

/// Commands per second: a client past its burst that keeps going (here: no patience at all)
/// is sent 421 and closed; message content is not counted as commands.
#[tokio::test]
async fn flood_of_commands_gets_421() {
    let mut settings = config();
    settings.commands = RateConfig {
        per_second: 1,
        burst: 4,
        max_throttled: Duration::ZERO,
    };
    let h = harness(Mode::Mx, settings).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    // A message of many lines is one command's worth (DATA) plus MAIL and RCPT.
    let body = "line\r\n".repeat(50);
    let message = format!("Subject: long\r\n\r\n{body}.\r\n");
    c.transaction(
        "a@remote.example",
        &["bob@example.test"],
        message.as_bytes(),
        "250",
    )
    .await;
    // EHLO, MAIL, RCPT, DATA took the burst: the next commands find no token.
    c.send(b"NOOP\r\nNOOP\r\nNOOP\r\n").await;
    assert_eq!(
        c.line().await,
        "421 4.7.0 Too many commands, slow down; closing connection"
    );
    assert!(c.closed().await);
}

/// Directory harvesting (issue 18): unknown recipients are answered more slowly from a
/// quarter of the limit on, and at the limit the session ends with 421. LMTP is exempt.
#[tokio::test]
async fn guessing_recipients_is_slowed_then_cut_off() {
    let mut settings = config();
    settings.max_recipient_errors = 8;
    settings.recipient_error_delay = Duration::from_millis(50);
    let h = harness(Mode::Mx, settings.clone()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    c.ok("MAIL FROM:<a@remote.example>", "250").await;
    c.ok("RCPT TO:<bob@example.test>", "250").await;
    let mut slow = 0;
    for i in 0..7 {
        let started = std::time::Instant::now();
        assert_eq!(
            c.cmd(&format!("RCPT TO:<nobody{i}@example.test>")).await,
            "550 5.1.1 No such user here"
        );
        if started.elapsed() >= Duration::from_millis(50) {
            slow += 1;
        }
    }
    // The first is answered at once; from the second (a quarter of 8) on, each waits.
    assert_eq!(slow, 6, "refusals that waited");
    c.send(b"RCPT TO:<nobody7@example.test>\r\n").await;
    assert_eq!(c.line().await, "550 5.1.1 No such user here");
    assert_eq!(
        c.line().await,
        "421 4.7.0 Too many unknown recipients, closing connection"
    );
    assert!(c.closed().await);

    let h = harness(Mode::Lmtp, settings).await;
    let mut c = Client::connect(&h).await;
    c.ok("LHLO mta.example", "250").await;
    c.ok("MAIL FROM:<a@remote.example>", "250").await;
    for i in 0..12 {
        assert_eq!(
            c.cmd(&format!("RCPT TO:<nobody{i}@example.test>")).await,
            "550 5.1.1 No such user here"
        );
    }
    c.ok("RCPT TO:<bob@example.test>", "250").await;
}

/// XCLIENT only from a trusted proxy (none here): Postfix's refusal, and EHLO does not offer it.
#[tokio::test]
async fn xclient_from_an_untrusted_client_is_refused() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(!ehlo.contains("XCLIENT"), "{ehlo}");
    assert_eq!(
        c.cmd("XCLIENT ADDR=192.0.2.1").await,
        "550 5.7.0 Insufficient authorization"
    );
    assert_eq!(
        c.cmd("XCLIENT LOGIN=bob").await,
        "501 5.5.4 Syntax error: expected XCLIENT attribute=value ... (ADDR, PORT, HELO, NAME, PROTO)"
    );
}
