//! SELECT / EXAMINE / APPEND / STORE / COPY / MOVE / EXPUNGE / CLOSE transcripts.

use crate::common;
use common::*;

#[tokio::test]
async fn select_empty_and_examine() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let lines = c.cmd("a SELECT INBOX").await;
    assert_eq!(
        lines[0],
        "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)"
    );
    assert_eq!(
        lines[1],
        "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft \\*)] limited"
    );
    assert_eq!(lines[2], "* 0 EXISTS");
    assert_eq!(lines[3], "* 0 RECENT");
    assert!(lines[4].starts_with("* OK [UIDVALIDITY "), "{lines:?}");
    assert_eq!(lines[5], "* OK [UIDNEXT 1] predicted next UID");
    assert!(lines.iter().any(|l| l.starts_with("* OK [MAILBOXID (M")));
    assert_eq!(lines.last().unwrap(), "a OK [READ-WRITE] SELECT completed");
    let lines = c.cmd("b EXAMINE Sent").await;
    assert_eq!(lines[0], "* OK [CLOSED] previous mailbox closed");
    assert_eq!(lines.last().unwrap(), "b OK [READ-ONLY] EXAMINE completed");
    assert_eq!(
        c.cmd("c SELECT Nope").await,
        [
            "* OK [CLOSED] previous mailbox closed",
            "c NO [NONEXISTENT] no such mailbox"
        ]
    );
    // The failed SELECT left no mailbox selected.
    assert_eq!(
        c.cmd("d CHECK").await,
        ["d BAD CHECK not allowed: no mailbox selected"]
    );
    // IMAP4rev2 drops the RECENT line.
    c.cmd("e ENABLE IMAP4rev2").await;
    let lines = c.cmd("f SELECT INBOX").await;
    assert!(!lines.iter().any(|l| l.ends_with("RECENT")), "{lines:?}");
}

#[tokio::test]
async fn append_store_expunge() {
    let srv = start().await;
    let mut c = Client::select(srv.addr, "INBOX").await;
    let lines = append(
        &mut c,
        "a",
        "INBOX",
        "(\\Seen $Work)",
        &message("one", "body"),
    )
    .await;
    // The new keyword is announced before anything shows it (RFC 9051 §7.3.5); the message is
    // recent here, the session told of it first (RFC 3501 §2.3.2).
    assert_eq!(
        lines[..4],
        [
            "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Work)",
            "* OK [PERMANENTFLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft $Work \\*)] limited",
            "* 1 EXISTS",
            "* 1 RECENT",
        ],
        "{lines:?}"
    );
    assert!(lines[4].starts_with("a OK [APPENDUID "), "{lines:?}");
    assert!(lines[4].ends_with(" 1] APPEND completed"));
    append(&mut c, "b", "INBOX", "", &message("two", "body")).await;
    append(&mut c, "c", "INBOX", "", &message("three", "body")).await;
    assert_eq!(
        c.cmd("d STORE 2:3 +FLAGS (\\Deleted)").await,
        [
            "* 2 FETCH (FLAGS (\\Recent \\Deleted) UID 2)",
            "* 3 FETCH (FLAGS (\\Recent \\Deleted) UID 3)",
            "d OK STORE completed"
        ]
    );
    assert_eq!(
        c.cmd("e UID STORE 1 -FLAGS.SILENT (\\Seen)").await,
        ["e OK UID STORE completed"]
    );
    assert_eq!(
        c.cmd("f STORE 1 FLAGS ($Work)").await,
        [
            "* 1 FETCH (FLAGS (\\Recent $Work) UID 1)",
            "f OK STORE completed"
        ]
    );
    assert_eq!(
        c.cmd("g STORE 9 +FLAGS (\\Seen)").await,
        ["g BAD invalid message sequence number"]
    );
    assert_eq!(
        c.cmd("h UID EXPUNGE 3").await,
        ["* 3 EXPUNGE", "h OK UID EXPUNGE completed"]
    );
    assert_eq!(
        c.cmd("i EXPUNGE").await,
        ["* 2 EXPUNGE", "i OK EXPUNGE completed"]
    );
    assert_eq!(c.cmd("j NOOP").await, ["j OK NOOP completed"]);
}

#[tokio::test]
async fn append_errors_and_multiappend() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let msg = message("x", "y");
    assert_eq!(
        c.cmd(&format!("a APPEND Nope {{{}+}}\r\n{msg}", msg.len()))
            .await,
        ["a NO [TRYCREATE] no such mailbox"]
    );
    let lines = c
        .cmd(&format!(
            "b APPEND INBOX (\\Seen) \"01-Jan-2020 10:00:00 +0100\" {{{0}+}}\r\n{msg} {{{0}+}}\r\n{msg}",
            msg.len()
        ))
        .await;
    assert!(lines[0].starts_with("b OK [APPENDUID "), "{lines:?}");
    assert!(lines[0].ends_with(" 1:2] APPEND completed"), "{lines:?}");
}

#[tokio::test]
async fn copy_and_move() {
    let srv = start().await;
    let mut c = Client::select(srv.addr, "INBOX").await;
    for (i, tag) in ["a", "b", "c"].iter().enumerate() {
        append(&mut c, tag, "INBOX", "", &message(&format!("m{i}"), "x")).await;
    }
    let lines = c.cmd("d COPY 1:2 Archive").await;
    assert!(lines[0].starts_with("d OK [COPYUID "), "{lines:?}");
    assert!(lines[0].ends_with(" 1:2 1:2] COPY completed"), "{lines:?}");
    assert_eq!(
        c.cmd("e COPY 1 Nope").await,
        ["e NO [TRYCREATE] no such mailbox"]
    );
    let lines = c.cmd("f MOVE 2:3 Archive").await;
    assert!(lines[0].starts_with("* OK [COPYUID "), "{lines:?}");
    assert!(lines[0].ends_with(" 2:3 3:4] moved"), "{lines:?}");
    assert_eq!(
        &lines[1..],
        ["* 2 EXPUNGE", "* 2 EXPUNGE", "f OK MOVE completed"]
    );
    let lines = c.cmd("g UID MOVE 1 Trash").await;
    assert_eq!(&lines[1..], ["* 1 EXPUNGE", "g OK UID MOVE completed"]);
    assert_eq!(
        c.cmd("h STATUS Archive (MESSAGES)").await[0],
        "* STATUS Archive (MESSAGES 4)"
    );
    // Read-only: MOVE and STORE are refused.
    c.cmd("i EXAMINE Archive").await;
    assert_eq!(
        c.cmd("j MOVE 1 Trash").await,
        ["j NO [CANNOT] mailbox is read-only"]
    );
    assert_eq!(
        c.cmd("k STORE 1 +FLAGS (\\Seen)").await,
        ["k NO [CANNOT] mailbox is read-only"]
    );
}

#[tokio::test]
async fn close_expunges_silently_unselect_does_not() {
    let srv = start().await;
    let mut c = Client::select(srv.addr, "INBOX").await;
    append(&mut c, "a", "INBOX", "(\\Deleted)", &message("one", "x")).await;
    append(&mut c, "b", "INBOX", "(\\Deleted)", &message("two", "x")).await;
    assert_eq!(c.cmd("c UNSELECT").await, ["c OK UNSELECT completed"]);
    assert_eq!(
        c.cmd("d STATUS INBOX (MESSAGES)").await[0],
        "* STATUS INBOX (MESSAGES 2)"
    );
    c.cmd("e SELECT INBOX").await;
    assert_eq!(c.cmd("f CLOSE").await, ["f OK CLOSE completed"]);
    assert_eq!(
        c.cmd("g STATUS INBOX (MESSAGES)").await[0],
        "* STATUS INBOX (MESSAGES 0)"
    );
}

#[tokio::test]
async fn condstore_unchangedsince() {
    let srv = start().await;
    let mut c = Client::select(srv.addr, "INBOX").await;
    append(&mut c, "a", "INBOX", "", &message("one", "x")).await;
    append(&mut c, "b", "INBOX", "", &message("two", "x")).await;
    let lines = c
        .cmd("c STORE 1:2 (UNCHANGEDSINCE 1) +FLAGS (\\Seen)")
        .await;
    // Both messages were modified after MODSEQ 1 (by their APPEND), so nothing changes; the
    // first CONDSTORE-enabling command reports HIGHESTMODSEQ (RFC 7162 §3.1).
    assert_eq!(
        lines,
        [
            "* OK [HIGHESTMODSEQ 3] highest",
            "c OK [MODIFIED 1:2] STORE completed"
        ]
    );
    let lines = c
        .cmd("d STORE 1 (UNCHANGEDSINCE 1000) +FLAGS (\\Seen)")
        .await;
    assert!(
        lines[0].starts_with("* 1 FETCH (FLAGS (\\Recent \\Seen) UID 1 MODSEQ ("),
        "{lines:?}"
    );
    assert_eq!(lines[1], "d OK STORE completed");
}

#[tokio::test]
async fn utf8_append_after_enable() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    c.cmd("a ENABLE UTF8=ACCEPT").await;
    let msg = "From: Jöran <j@example.test>\r\nSubject: Grüße\r\n\r\nhej\r\n";
    let lines = c
        .cmd(&format!(
            "b APPEND INBOX UTF8 (~{{{}+}}\r\n{msg})",
            msg.len()
        ))
        .await;
    assert!(lines[0].starts_with("b OK [APPENDUID "), "{lines:?}");
    c.cmd("c SELECT INBOX").await;
    let lines = c.cmd("d FETCH 1 ENVELOPE").await;
    assert!(lines[0].contains("\"Grüße\""), "{lines:?}");
    assert!(
        lines[0].contains("((\"Jöran\" NIL \"j\" \"example.test\"))"),
        "{lines:?}"
    );
}

#[tokio::test]
async fn rev2_select_lists_the_mailbox() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    c.cmd("a ENABLE IMAP4rev2").await;
    let lines = c.cmd("b SELECT Sent").await;
    assert!(
        lines.contains(&"* LIST (\\Sent) \"/\" Sent".to_string()),
        "{lines:?}"
    );
}
