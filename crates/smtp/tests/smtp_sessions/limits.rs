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
