//! AUTHENTICATE SCRAM-SHA-256 (RFC 5802, RFC 7677) over a real connection, and the login
//! throttle as IMAP clients see it.

use crate::common;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use mailroom_auth::scram;

fn b64(s: &str) -> String {
    B64.encode(s)
}

fn unb64(line: &str) -> String {
    let data = line.strip_prefix("+ ").expect("a continuation");
    String::from_utf8(B64.decode(data).unwrap()).unwrap()
}

/// Runs the exchange after the command was sent and the client-first-message was given;
/// returns the tagged lines.
async fn scram_exchange(c: &mut Client, tag: &str, password: &str, bare: &str) -> Vec<String> {
    let server_first = unb64(&c.line().await);
    assert!(
        server_first.starts_with("r=fyko+d2lbbFgONRv9qkxdawL"),
        "{server_first}"
    );
    let (client_final, server_final) =
        scram::client_final(password, "n,,", bare, &server_first).unwrap();
    c.send(&format!("{}\r\n", b64(&client_final))).await;
    let next = c.line().await;
    if !next.starts_with("+ ") {
        let mut lines = vec![next.clone()];
        if !next.starts_with(&format!("{tag} ")) {
            lines.extend(c.until_tagged(tag).await);
        }
        return lines;
    }
    assert_eq!(
        unb64(&next),
        server_final,
        "the server proves it has the keys"
    );
    c.send("\r\n").await;
    c.until_tagged(tag).await
}

#[tokio::test]
async fn scram_sha256_with_and_without_initial_response() {
    let srv = start().await;
    let (mut c, greeting) = Client::connect(srv.addr).await;
    assert!(greeting.contains("AUTH=SCRAM-SHA-256"), "{greeting}");
    assert!(!greeting.contains("SCRAM-SHA-256-PLUS"));
    let bare = format!("n={USER},r=fyko+d2lbbFgONRv9qkxdawL");

    // SASL-IR (RFC 4959): the client-first-message on the command line.
    c.send(&format!(
        "a AUTHENTICATE SCRAM-SHA-256 {}\r\n",
        b64(&format!("n,,{bare}"))
    ))
    .await;
    let lines = scram_exchange(&mut c, "a", PASS, &bare).await;
    assert!(
        lines.last().unwrap().starts_with("a OK [CAPABILITY"),
        "{lines:?}"
    );
    assert_eq!(c.cmd("b NOOP").await, ["b OK NOOP completed"]);

    // Without: an empty challenge first.
    let (mut c, _) = Client::connect(srv.addr).await;
    c.send("a AUTHENTICATE SCRAM-SHA-256\r\n").await;
    assert_eq!(c.line().await, "+ ");
    c.send(&format!("{}\r\n", b64(&format!("n,,{bare}")))).await;
    let lines = scram_exchange(&mut c, "a", PASS, &bare).await;
    assert!(lines.last().unwrap().starts_with("a OK"), "{lines:?}");
}

#[tokio::test]
async fn scram_failures_look_like_wrong_passwords() {
    let srv = start().await;
    let (mut c, _) = Client::connect(srv.addr).await;
    for (tag, user, password) in [("a", USER, "wrong"), ("b", "who@example.test", PASS)] {
        let bare = format!("n={user},r=fyko+d2lbbFgONRv9qkxdawL");
        c.send(&format!(
            "{tag} AUTHENTICATE SCRAM-SHA-256 {}\r\n",
            b64(&format!("n,,{bare}"))
        ))
        .await;
        assert_eq!(
            scram_exchange(&mut c, tag, password, &bare).await,
            [format!(
                "{tag} NO [AUTHENTICATIONFAILED] invalid credentials"
            )]
        );
    }
    // Channel binding is refused (only SCRAM-SHA-256 is offered, not -PLUS).
    let lines = c
        .cmd(&format!(
            "c AUTHENTICATE SCRAM-SHA-256 {}",
            b64(&format!("p=tls-exporter,,n={USER},r=abc"))
        ))
        .await;
    assert_eq!(
        lines,
        ["c NO [AUTHENTICATIONFAILED] channel binding is not supported"]
    );
}

/// An address that failed ten times is refused even with the right password; the account is
/// not locked for other addresses (tested end to end in crates/mailroom/tests/e2e/brute_force.rs).
#[tokio::test]
async fn a_locked_out_address_gets_the_wrong_password_answer() {
    let srv = start().await;
    let mut failures = 0;
    while failures < 10 {
        let (mut c, _) = Client::connect(srv.addr).await;
        for i in 0..4 {
            let lines = c.cmd(&format!("a{i} LOGIN {USER} wrong")).await;
            assert_eq!(
                lines,
                [format!(
                    "a{i} NO [AUTHENTICATIONFAILED] invalid credentials"
                )]
            );
            failures += 1;
        }
    }
    let (mut c, _) = Client::connect(srv.addr).await;
    assert_eq!(
        c.cmd(&format!("b LOGIN {USER} {PASS}")).await,
        ["b NO [AUTHENTICATIONFAILED] invalid credentials"]
    );
}

/// RFC 5530 LIMIT applies to SCRAM logins as to LOGIN.
#[tokio::test]
async fn scram_respects_the_per_user_session_limit() {
    let config = mailroom_imap::ImapConfig {
        max_connections_per_user: 1,
        ..mailroom_imap::ImapConfig::default()
    };
    let srv = start_with(config).await;
    let _first = Client::login(srv.addr).await;
    let (mut c, _) = Client::connect(srv.addr).await;
    let bare = format!("n={USER},r=fyko+d2lbbFgONRv9qkxdawL");
    c.send(&format!(
        "a AUTHENTICATE SCRAM-SHA-256 {}\r\n",
        b64(&format!("n,,{bare}"))
    ))
    .await;
    assert_eq!(
        scram_exchange(&mut c, "a", PASS, &bare).await,
        ["a NO [LIMIT] too many sessions for this account"]
    );
}
