//! Two sessions of one user: what one does, the other sees (RFC 9051 §7.5.1), also in IDLE.

use crate::common;
use common::*;
use std::time::Duration;

#[tokio::test]
async fn other_session_changes_reported_after_commands() {
    let srv = start().await;
    let mut a = Client::select(srv.addr, "INBOX").await;
    let mut b = Client::select(srv.addr, "INBOX").await;
    append(&mut a, "a1", "INBOX", "", &message("one", "x")).await;
    append(&mut a, "a2", "INBOX", "", &message("two", "x")).await;
    assert_eq!(
        b.cmd("b1 NOOP").await,
        ["* 2 EXISTS", "b1 OK NOOP completed"]
    );

    a.cmd("a3 STORE 1 +FLAGS (\\Flagged)").await;
    assert_eq!(
        b.cmd("b2 NOOP").await,
        [
            "* 1 FETCH (FLAGS (\\Flagged) UID 1)",
            "b2 OK NOOP completed"
        ]
    );

    a.cmd("a4 STORE 1 +FLAGS (\\Deleted)").await;
    a.cmd("a5 EXPUNGE").await;
    // FETCH/STORE/SEARCH by sequence number must not see the EXPUNGE (§7.5.1).
    assert_eq!(
        b.cmd("b3 STORE 2 +FLAGS.SILENT (\\Seen)").await,
        ["b3 OK STORE completed"]
    );
    assert_eq!(
        b.cmd("b4 CHECK").await,
        // The flag change of a message expunged since is not worth reporting.
        ["* 1 EXPUNGE", "b4 OK CHECK completed"]
    );
    // a sees b's \Seen; nothing is reported twice. The message is \Recent in a, the first
    // session told of it (RFC 3501 §2.3.2).
    assert_eq!(
        a.cmd("a6 NOOP").await,
        [
            "* 1 FETCH (FLAGS (\\Recent \\Seen) UID 2)",
            "a6 OK NOOP completed"
        ]
    );
    assert_eq!(b.cmd("b5 NOOP").await, ["b5 OK NOOP completed"]);
}

#[tokio::test]
async fn idle_sees_append_at_once() {
    let srv = start().await;
    let mut a = Client::login(srv.addr).await;
    let mut b = Client::select(srv.addr, "INBOX").await;
    b.send("i IDLE\r\n").await;
    assert_eq!(b.line().await, "+ idling");

    // The push arrives without the idling client asking; how fast is a benchmark figure
    // (well under the 100 ms budget), not a timed assertion that a loaded machine could break.
    append(&mut a, "a1", "INBOX", "", &message("one", "x")).await;
    assert_eq!(b.line().await, "* 1 EXISTS");
    // b is the first session told of it: recent there (IMAP4rev1).
    assert_eq!(b.line().await, "* 1 RECENT");
    let msg = message("two", "x");
    a.send(&format!("a2 APPEND INBOX {{{}+}}\r\n{msg}\r\n", msg.len()))
        .await;
    let ok = a.line().await;
    assert!(ok.starts_with("a2 OK"), "{ok}");
    assert_eq!(b.line().await, "* 2 EXISTS");
    assert_eq!(b.line().await, "* 2 RECENT");

    a.cmd("a3 SELECT INBOX").await;
    a.cmd("a4 STORE 1 +FLAGS (\\Deleted)").await;
    assert_eq!(
        b.line().await,
        "* 1 FETCH (FLAGS (\\Recent \\Deleted) UID 1)"
    );
    a.cmd("a5 EXPUNGE").await;
    assert_eq!(b.line().await, "* 1 EXPUNGE");
    b.send("DONE\r\n").await;
    assert_eq!(b.until_tagged("i").await, ["i OK IDLE terminated"]);
    assert_eq!(b.cmd("n NOOP").await, ["n OK NOOP completed"]);
}

#[tokio::test]
async fn idle_without_selection_and_bad_done() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    c.send("i IDLE\r\n").await;
    assert_eq!(c.line().await, "+ idling");
    assert!(c.line_within(Duration::from_millis(50)).await.is_none());
    c.send("NOPE\r\n").await;
    assert_eq!(c.line().await, "i BAD [CLIENTBUG] expected DONE");
    assert_eq!(c.cmd("n NOOP").await, ["n OK NOOP completed"]);
}

#[tokio::test]
async fn deleting_the_selected_mailbox_ends_other_sessions() {
    let srv = start().await;
    let mut a = Client::login(srv.addr).await;
    a.cmd("a1 CREATE Box").await;
    let mut b = Client::select(srv.addr, "Box").await;
    let mut idle = Client::select(srv.addr, "Box").await;
    idle.send("i IDLE\r\n").await;
    assert_eq!(idle.line().await, "+ idling");
    a.cmd("a2 SELECT Box").await;
    // The deleting session itself just loses its selection.
    assert_eq!(a.cmd("a3 DELETE Box").await, ["a3 OK DELETE completed"]);
    assert_eq!(
        a.cmd("a4 CHECK").await,
        ["a4 BAD CHECK not allowed: no mailbox selected"]
    );
    assert_eq!(
        idle.line().await,
        "* BYE [NONEXISTENT] the selected mailbox was deleted"
    );
    assert!(idle.closed().await);
    assert_eq!(
        b.cmd("b1 NOOP").await,
        [
            "* BYE [NONEXISTENT] the selected mailbox was deleted",
            "b1 OK NOOP completed"
        ]
    );
    assert!(b.closed().await);
}

#[tokio::test]
async fn shutdown_says_bye() {
    let mut srv = start().await;
    let mut a = Client::select(srv.addr, "INBOX").await;
    let (mut b, _) = Client::connect(srv.addr).await;
    srv.shutdown();
    assert_eq!(a.line().await, "* BYE server shutting down");
    assert_eq!(b.line().await, "* BYE server shutting down");
    assert!(a.closed().await && b.closed().await);
}
