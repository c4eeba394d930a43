//! Connection limits per address, the command rate and the login deadline.

use crate::common;

use common::{Client, start_with};
use mailroom_imap::ImapConfig;
use mailroom_net::RateConfig;
use std::time::Duration;

#[tokio::test]
async fn the_21st_connection_from_one_address_is_told_bye() {
    let srv = start_with(ImapConfig::default()).await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        let (c, greeting) = Client::connect(srv.addr).await;
        assert!(greeting.starts_with("* OK "), "{greeting}");
        clients.push(c);
    }
    let (mut refused, greeting) = Client::connect(srv.addr).await;
    assert_eq!(
        greeting,
        "* BYE [UNAVAILABLE] Too many connections from your address"
    );
    assert!(refused.closed().await);
    // The others are served as usual.
    assert_eq!(clients[0].cmd("a NOOP").await, ["a OK NOOP completed"]);
}

#[tokio::test]
async fn a_client_hammering_past_the_rate_is_closed() {
    // No patience at all: the first command that would have to wait ends the session.
    let config = ImapConfig {
        commands: RateConfig {
            per_second: 1,
            burst: 2,
            max_throttled: Duration::ZERO,
        },
        ..ImapConfig::default()
    };
    let srv = start_with(config).await;
    let (mut c, _) = Client::connect(srv.addr).await;
    c.send("a NOOP\r\nb NOOP\r\nc NOOP\r\n").await;
    assert_eq!(c.line().await, "a OK NOOP completed");
    assert_eq!(c.line().await, "b OK NOOP completed");
    assert_eq!(c.line().await, "* BYE too many commands, slow down");
    assert!(c.closed().await);
}

#[tokio::test]
async fn busy_clients_must_still_log_in_in_time() {
    let config = ImapConfig {
        auth_timeout: Duration::from_millis(300),
        ..ImapConfig::default()
    };
    let srv = start_with(config).await;
    let (mut c, _) = Client::connect(srv.addr).await;
    // NOOPs don't extend the deadline; the loop ends when the BYE comes.
    let mut answers = 0;
    loop {
        c.send("a NOOP\r\n").await;
        let line = c.line().await;
        if line.starts_with("* BYE") {
            assert_eq!(line, "* BYE autologout: no successful login in time");
            break;
        }
        assert_eq!(line, "a OK NOOP completed");
        answers += 1;
        assert!(answers < 1_000_000, "never closed");
    }
    assert!(c.closed().await);
}
