//! Connection-level transcripts: greeting, CAPABILITY, LOGIN / AUTHENTICATE, errors, limits.

use crate::common;
use common::*;
use mailroom_imap::ImapConfig;

#[tokio::test]
async fn greeting_capability_logout() {
    let srv = start().await;
    let (mut c, greeting) = Client::connect(srv.addr).await;
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 "),
        "{greeting}"
    );
    assert!(greeting.contains("AUTH=PLAIN"), "{greeting}");
    // No TLS configured: STARTTLS is not offered, loopback may log in.
    assert!(!greeting.contains("STARTTLS") && !greeting.contains("LOGINDISABLED"));
    let lines = c.cmd("a CAPABILITY").await;
    assert!(lines[0].starts_with("* CAPABILITY IMAP4rev1 IMAP4rev2"));
    assert_eq!(lines[1], "a OK CAPABILITY completed");
    assert_eq!(c.cmd("b NOOP").await, ["b OK NOOP completed"]);
    assert_eq!(
        c.cmd("c LOGOUT").await,
        ["* BYE logging out", "c OK LOGOUT completed"]
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn login_and_errors() {
    let srv = start().await;
    let (mut c, _) = Client::connect(srv.addr).await;
    assert_eq!(
        c.cmd("a SELECT INBOX").await,
        ["a BAD SELECT not allowed: not authenticated"]
    );
    assert_eq!(
        c.cmd(&format!("b LOGIN {USER} wrong")).await,
        ["b NO [AUTHENTICATIONFAILED] invalid credentials"]
    );
    let ok = c.cmd(&format!("c LOGIN {USER} {PASS}")).await;
    assert!(
        ok[0].starts_with("c OK [CAPABILITY IMAP4rev1 IMAP4rev2"),
        "{ok:?}"
    );
    assert!(ok[0].contains("NAMESPACE") && ok[0].ends_with("] LOGIN completed"));
    assert_eq!(
        c.cmd("d LOGIN x y").await,
        ["d BAD LOGIN not allowed: already authenticated"]
    );
    assert_eq!(
        c.cmd("e FETCH 1 FLAGS").await,
        ["e BAD FETCH not allowed: no mailbox selected"]
    );
    let bad = c.cmd("f FROBNICATE").await;
    assert_eq!(bad, ["f BAD unknown command \"FROBNICATE\""]);
    // Garbage without a tag.
    c.send("\r\n").await;
    assert_eq!(c.line().await, "* BAD empty command line");
    assert_eq!(c.cmd("g NOOP").await, ["g OK NOOP completed"]);
}

#[tokio::test]
async fn authenticate_plain_and_login() {
    let srv = start().await;
    // AUTH PLAIN with SASL-IR: "\0ann@example.test\0s3cret".
    let ir = "AGFubkBleGFtcGxlLnRlc3QAczNjcmV0";
    let (mut c, _) = Client::connect(srv.addr).await;
    let lines = c.cmd(&format!("a AUTHENTICATE PLAIN {ir}")).await;
    assert!(lines[0].starts_with("a OK [CAPABILITY"), "{lines:?}");
    assert!(lines[0].ends_with("AUTHENTICATE completed"));

    // PLAIN without initial response: empty challenge first.
    let (mut c, _) = Client::connect(srv.addr).await;
    c.send("b AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+ ");
    c.send(&format!("{ir}\r\n")).await;
    assert!(c.until_tagged("b").await[0].starts_with("b OK"));

    // LOGIN mechanism: Username:, Password: (base64).
    let (mut c, _) = Client::connect(srv.addr).await;
    c.send("c AUTHENTICATE LOGIN\r\n").await;
    assert_eq!(c.line().await, "+ VXNlcm5hbWU6");
    c.send("YW5uQGV4YW1wbGUudGVzdA==\r\n").await;
    assert_eq!(c.line().await, "+ UGFzc3dvcmQ6");
    c.send("d3Jvbmc=\r\n").await;
    assert_eq!(
        c.until_tagged("c").await,
        ["c NO [AUTHENTICATIONFAILED] invalid credentials"]
    );

    // Cancel with "*".
    c.send("d AUTHENTICATE PLAIN\r\n").await;
    assert_eq!(c.line().await, "+ ");
    c.send("*\r\n").await;
    assert_eq!(c.until_tagged("d").await, ["d BAD AUTHENTICATE cancelled"]);
    assert_eq!(
        c.cmd("e AUTHENTICATE CRAM-MD5").await,
        ["e NO unsupported authentication mechanism"]
    );
}

#[tokio::test]
async fn login_with_literal_and_enable_id_namespace() {
    let srv = start().await;
    let (mut c, _) = Client::connect(srv.addr).await;
    c.send(&format!("a LOGIN {USER} {{{}}}\r\n", PASS.len()))
        .await;
    assert_eq!(c.line().await, "+ Ready for literal data");
    c.send(&format!("{PASS}\r\n")).await;
    assert!(c.until_tagged("a").await[0].starts_with("a OK"));
    assert_eq!(
        c.cmd("b ENABLE IMAP4rev2 CONDSTORE X-UNKNOWN").await,
        ["* ENABLED IMAP4rev2 CONDSTORE", "b OK ENABLE completed"]
    );
    assert_eq!(
        c.cmd("c ENABLE IMAP4rev2").await,
        ["* ENABLED", "c OK ENABLE completed"]
    );
    assert_eq!(
        c.cmd("d ID (\"name\" \"test\")").await,
        ["* ID (\"name\" \"Mailroom\")", "d OK ID completed"]
    );
    assert_eq!(
        c.cmd("e NAMESPACE").await,
        [
            "* NAMESPACE ((\"\" \"/\")) NIL NIL",
            "e OK NAMESPACE completed"
        ]
    );
    assert_eq!(
        c.cmd("f UNAUTHENTICATE").await,
        ["f OK UNAUTHENTICATE completed"]
    );
    assert_eq!(
        c.cmd("g LIST \"\" *").await,
        ["g BAD LIST not allowed: not authenticated"]
    );
}

#[tokio::test]
async fn limits_keep_the_session_usable() {
    let config = ImapConfig {
        max_line: 200,
        max_literal: 1000,
        ..ImapConfig::default()
    };
    let srv = start_with(config).await;
    let mut c = Client::login(srv.addr).await;
    // Over-long line.
    c.send(&format!("a NOOP {}\r\n", "x".repeat(300))).await;
    let reply = c.line().await;
    assert!(reply.starts_with("a BAD [TOOBIG]"), "{reply}");
    assert_eq!(c.cmd("b NOOP").await, ["b OK NOOP completed"]);
    // Huge synchronizing literal: refused before the data is sent.
    c.send("c APPEND INBOX {5000}\r\n").await;
    let reply = c.line().await;
    assert!(reply.starts_with("c NO [TOOBIG]"), "{reply}");
    assert_eq!(c.cmd("d NOOP").await, ["d OK NOOP completed"]);
    // Huge non-synchronizing literal: refused and its data skipped.
    c.send(&format!(
        "e APPEND INBOX {{2000+}}\r\n{}\r\n",
        "y".repeat(2000)
    ))
    .await;
    let reply = c.line().await;
    assert!(reply.starts_with("e NO [TOOBIG]"), "{reply}");
    assert_eq!(c.cmd("f NOOP").await, ["f OK NOOP completed"]);
}

#[tokio::test]
async fn per_user_connection_limit() {
    let config = ImapConfig {
        max_connections_per_user: 1,
        ..ImapConfig::default()
    };
    let srv = start_with(config).await;
    let mut first = Client::login(srv.addr).await;
    let (mut second, _) = Client::connect(srv.addr).await;
    assert_eq!(
        second.cmd(&format!("a LOGIN {USER} {PASS}")).await,
        ["a NO [LIMIT] too many sessions for this account"]
    );
    first.cmd("z LOGOUT").await;
    assert!(first.closed().await);
    // The slot is freed when the first session ends; wait on the socket, never sleep.
    let mut ok = false;
    for i in 0..50 {
        let lines = second.cmd(&format!("b{i} LOGIN {USER} {PASS}")).await;
        if lines[0].contains(" OK ") {
            ok = true;
            break;
        }
    }
    assert!(ok);
}

#[tokio::test]
async fn starttls_without_tls_is_refused() {
    let srv = start().await;
    let (mut c, _) = Client::connect(srv.addr).await;
    assert_eq!(c.cmd("a STARTTLS").await, ["a NO TLS is not available"]);
}

#[tokio::test]
async fn auth_timeout_says_bye() {
    let config = ImapConfig {
        auth_timeout: std::time::Duration::from_millis(200),
        ..ImapConfig::default()
    };
    let srv = start_with(config).await;
    let (mut c, _) = Client::connect(srv.addr).await;
    assert_eq!(
        c.line().await,
        "* BYE autologout: no successful login in time"
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn too_many_auth_failures_end_the_session() {
    let srv = start().await;
    let (mut c, _) = Client::connect(srv.addr).await;
    for i in 0..4 {
        assert_eq!(
            c.cmd(&format!("a{i} LOGIN {USER} wrong")).await,
            [format!(
                "a{i} NO [AUTHENTICATIONFAILED] invalid credentials"
            )]
        );
    }
    assert_eq!(
        c.cmd(&format!("b LOGIN {USER} wrong")).await,
        [
            "* BYE too many failed authentication attempts",
            "b NO [AUTHENTICATIONFAILED] invalid credentials"
        ]
    );
    assert!(c.closed().await);
}

#[tokio::test]
async fn connection_limit() {
    let config = ImapConfig {
        max_connections: 1,
        ..ImapConfig::default()
    };
    let srv = start_with(config).await;
    let (_first, _) = Client::connect(srv.addr).await;
    let (mut second, greeting) = Client::connect(srv.addr).await;
    assert_eq!(
        greeting,
        "* BYE [UNAVAILABLE] too many connections, try again later"
    );
    assert!(second.closed().await);
}

#[tokio::test]
async fn large_literals_need_authentication() {
    let srv = start().await;
    let (mut c, _) = Client::connect(srv.addr).await;
    c.send("a LOGIN {100000}\r\n").await;
    let reply = c.line().await;
    assert!(reply.starts_with("a NO [TOOBIG]"), "{reply}");
    assert_eq!(c.cmd("b NOOP").await, ["b OK NOOP completed"]);
}
