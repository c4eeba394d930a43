//! Connection limits per address, the command rate and the login deadline.

use crate::common;

use common::{Client, start_with};
use mailroom_imap::ImapConfig;
use mailroom_net::RateConfig;
use mailroom_store::{Directory, NewAccount};
use std::time::Duration;

/// An office behind one NAT address: ten users whose Thunderbirds open five sessions each all
/// log in, while connections that never log in are still bounded per address (Dovecot's
/// model: a limit per account and address after login, a per-address one before).
#[tokio::test]
async fn fifty_sessions_of_ten_users_from_one_address_and_no_flood() {
    let srv = start_with(ImapConfig::default()).await;
    let hash = mailroom_auth::hash_password(common::PASS).unwrap();
    for user in 0..10 {
        srv.store
            .create_account(NewAccount::new(
                format!("user{user}@example.test"),
                hash.clone(),
            ))
            .await
            .unwrap();
    }
    let mut office = Vec::new();
    for user in 0..10 {
        for session in 0..5 {
            let (mut c, greeting) = Client::connect(srv.addr).await;
            assert!(greeting.starts_with("* OK "), "{greeting}");
            let tag = format!("u{user}s{session}");
            let reply = c
                .cmd(&format!(
                    "{tag} LOGIN user{user}@example.test {}",
                    common::PASS
                ))
                .await;
            assert!(
                reply.last().unwrap().starts_with(&format!("{tag} OK")),
                "{reply:?}"
            );
            office.push(c);
        }
    }
    // Fifty more that don't log in are let in; the next is not.
    let mut idle = Vec::new();
    for _ in 0..50 {
        let (c, greeting) = Client::connect(srv.addr).await;
        assert!(greeting.starts_with("* OK "), "{greeting}");
        idle.push(c);
    }
    let (mut refused, greeting) = Client::connect(srv.addr).await;
    assert_eq!(
        greeting,
        "* BYE [UNAVAILABLE] Too many connections from your address"
    );
    assert!(refused.closed().await);
    // An idle one logging in frees its slot for the next newcomer; one account may hold ten
    // sessions from one address.
    for (i, c) in idle.iter_mut().take(6).enumerate() {
        let reply = c
            .cmd(&format!("x{i} LOGIN user0@example.test {}", common::PASS))
            .await;
        let last = reply.last().unwrap();
        if i < 5 {
            assert!(last.starts_with(&format!("x{i} OK")), "{reply:?}");
        } else {
            assert_eq!(
                last,
                &format!("x{i} NO [LIMIT] too many sessions of this account from your address")
            );
        }
    }
    let (_newcomer, greeting) = Client::connect(srv.addr).await;
    assert!(greeting.starts_with("* OK "), "{greeting}");
    assert_eq!(office[0].cmd("a NOOP").await, ["a OK NOOP completed"]);
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

/// 200,000 unknown commands in one write (issue 18) are not all answered: after
/// `max_bad_commands` BADs in a row the session ends, before login as after it, while a good
/// command in between starts the count again.
#[tokio::test]
async fn a_stream_of_bad_commands_ends_the_session() {
    let srv = start_with(ImapConfig {
        max_bad_commands: 5,
        ..ImapConfig::default()
    })
    .await;
    let (mut c, _) = Client::connect(srv.addr).await;
    let flood: String = (0..200_000)
        .map(|i| format!("b{i} FROBNICATE\r\n"))
        .collect();
    c.send(&flood).await;
    for i in 0..5 {
        let line = c.line().await;
        assert!(line.starts_with(&format!("b{i} BAD")), "{line}");
    }
    assert_eq!(c.line().await, "* BYE Too many invalid commands");
    assert!(c.closed().await);

    let mut c = Client::login(srv.addr).await;
    for round in 0..3 {
        for i in 0..4 {
            let reply = c.cmd(&format!("r{round}x{i} FETCH")).await;
            assert!(reply.last().unwrap().contains(" BAD "), "{reply:?}");
        }
        let reply = c.cmd(&format!("r{round} NOOP")).await;
        assert!(
            reply.last().unwrap().starts_with(&format!("r{round} OK")),
            "{reply:?}"
        );
    }
    c.send("x1 FROB\r\nx2 FROB\r\nx3 FROB\r\nx4 FROB\r\nx5 FROB\r\n")
        .await;
    for _ in 0..5 {
        assert!(c.line().await.contains(" BAD "));
    }
    assert_eq!(c.line().await, "* BYE Too many invalid commands");
    assert!(c.closed().await);
}
