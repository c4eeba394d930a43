//! QRESYNC (RFC 7162 §3.2): catching up on SELECT, VANISHED instead of EXPUNGE.

use crate::common;
use common::*;

#[tokio::test]
async fn select_qresync_and_vanished() {
    let srv = start().await;
    let mut a = Client::select(srv.addr, "INBOX").await;
    for (i, tag) in ["a1", "a2", "a3", "a4"].iter().enumerate() {
        append(&mut a, tag, "INBOX", "", &message(&format!("m{i}"), "x")).await;
    }
    let status = a.cmd("s STATUS INBOX (UIDVALIDITY HIGHESTMODSEQ)").await;
    let fields: Vec<&str> = status[0].trim_end_matches(')').split(' ').collect();
    let validity = fields[4];
    let modseq: u64 = fields[6].parse().unwrap();
    a.cmd("a5 STORE 2 +FLAGS (\\Seen)").await;
    a.cmd("a6 STORE 3 +FLAGS (\\Deleted)").await;
    a.cmd("a7 EXPUNGE").await;

    let mut b = Client::login(srv.addr).await;
    assert_eq!(
        b.cmd("b1 ENABLE QRESYNC").await,
        ["* ENABLED QRESYNC", "b1 OK ENABLE completed"]
    );
    let lines = b
        .cmd(&format!("b2 SELECT INBOX (QRESYNC ({validity} {modseq}))"))
        .await;
    let n = lines.len();
    assert_eq!(lines[n - 3], "* VANISHED (EARLIER) 3");
    assert!(
        lines[n - 2].starts_with("* 2 FETCH (FLAGS (\\Seen) UID 2 MODSEQ ("),
        "{lines:?}"
    );
    assert_eq!(lines[n - 1], "b2 OK [READ-WRITE] SELECT completed");

    // Expunges by others now arrive as VANISHED.
    a.cmd("a8 STORE 1 +FLAGS (\\Deleted)").await;
    a.cmd("a9 EXPUNGE").await;
    let lines = b.cmd("b3 NOOP").await;
    assert_eq!(lines[0], "* VANISHED 1");
    // And own expunges too.
    b.cmd("b4 STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    let lines = b.cmd("b5 EXPUNGE").await;
    assert_eq!(lines[0], "* VANISHED 2");
    assert!(lines[1].starts_with("b5 OK [HIGHESTMODSEQ "), "{lines:?}");
    let lines = b
        .cmd(&format!(
            "b6 UID FETCH 1:* (FLAGS) (CHANGEDSINCE {modseq} VANISHED)"
        ))
        .await;
    // UID 4 has not changed since; 1:3 are gone.
    assert_eq!(
        lines,
        ["* VANISHED (EARLIER) 1:3", "b6 OK UID FETCH completed"]
    );
    // VANISHED needs QRESYNC and UID FETCH.
    let bad = b.cmd("b7 FETCH 1 (FLAGS) (CHANGEDSINCE 1 VANISHED)").await;
    assert!(bad[0].starts_with("b7 BAD"), "{bad:?}");
}

#[tokio::test]
async fn select_condstore_parameter() {
    let srv = start().await;
    let mut a = Client::select(srv.addr, "INBOX").await;
    append(&mut a, "a1", "INBOX", "", &message("m", "x")).await;
    let mut b = Client::login(srv.addr).await;
    let lines = b.cmd("b1 SELECT INBOX (CONDSTORE)").await;
    assert!(
        lines.iter().any(|l| l.starts_with("* OK [HIGHESTMODSEQ ")),
        "{lines:?}"
    );
    a.cmd("a2 STORE 1 +FLAGS (\\Seen)").await;
    let lines = b.cmd("b2 NOOP").await;
    assert!(
        lines[0].starts_with("* 1 FETCH (FLAGS (\\Seen) UID 1 MODSEQ ("),
        "{lines:?}"
    );
}
