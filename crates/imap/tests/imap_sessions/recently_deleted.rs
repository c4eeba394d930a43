//! The "Recently Deleted" virtual folder: the account's deleted mail listed read-only, and
//! restored by COPY / MOVE out of it.

use crate::common;
use common::*;
use mailroom_auth::hash_password;
use mailroom_imap::ImapConfig;
use mailroom_store::{Directory, NewAccount};

/// Appends two messages to INBOX and deletes both (STORE \Deleted + EXPUNGE); returns their
/// bytes, the first flagged `\Flagged $Work`, the second `\Seen`.
async fn delete_two(c: &mut Client) -> (String, String) {
    let one = message("first", "body one");
    let two = message("second", "body two");
    append(c, "a1", "INBOX", "(\\Flagged $Work)", &one).await;
    append(c, "a2", "INBOX", "(\\Seen)", &two).await;
    c.cmd("a3 SELECT INBOX").await;
    let lines = c.cmd("a4 STORE 1:2 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(lines.last().unwrap(), "a4 OK STORE completed", "{lines:?}");
    let lines = c.cmd("a5 EXPUNGE").await;
    assert_eq!(
        lines.last().unwrap(),
        "a5 OK EXPUNGE completed",
        "{lines:?}"
    );
    (one, two)
}

/// `* n FETCH (... BODY[] {len}\r\n<bytes>)` → the bytes.
fn literal(line: &str) -> &str {
    let start = line.find("}\r\n").map_or(0, |i| i + 3);
    line.get(start..line.len().saturating_sub(1))
        .unwrap_or_default()
}

#[tokio::test]
async fn list_status_select_fetch_refusals() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let (one, two) = delete_two(&mut c).await;

    let lines = c.cmd("b LIST \"\" *").await;
    assert!(
        lines.contains(&"* LIST (\\HasNoChildren) \"/\" \"Recently Deleted\"".to_string()),
        "{lines:?}"
    );
    // Not subscribed, so LSUB doesn't show it, and it can't be subscribed.
    let lines = c.cmd("c LSUB \"\" *").await;
    assert!(!lines.iter().any(|l| l.contains("Recently")), "{lines:?}");
    let lines = c.cmd("c2 SUBSCRIBE \"Recently Deleted\"").await;
    assert!(lines[0].starts_with("c2 NO [CANNOT] "), "{lines:?}");
    assert_eq!(
        c.cmd("d STATUS \"Recently Deleted\" (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)")
            .await[0],
        format!(
            "* STATUS \"Recently Deleted\" (MESSAGES 2 UIDNEXT 3 UIDVALIDITY 1 UNSEEN 1 SIZE {})",
            one.len() + two.len()
        )
    );
    let lines = c
        .cmd("d2 LIST \"\" Recently% RETURN (STATUS (MESSAGES))")
        .await;
    assert_eq!(
        lines,
        [
            "* LIST (\\HasNoChildren) \"/\" \"Recently Deleted\"",
            "* STATUS \"Recently Deleted\" (MESSAGES 2)",
            "d2 OK LIST completed"
        ]
    );

    // SELECT is always read-only.
    let lines = c.cmd("e SELECT \"Recently Deleted\"").await;
    assert!(lines.contains(&"* 2 EXISTS".to_string()), "{lines:?}");
    assert!(lines.contains(&"* OK [PERMANENTFLAGS ()] limited".to_string()));
    assert!(lines.contains(&"* OK [UIDVALIDITY 1] UIDs valid".to_string()));
    assert_eq!(lines.last().unwrap(), "e OK [READ-ONLY] SELECT completed");

    let lines = c.cmd("f FETCH 1:* (UID FLAGS ENVELOPE BODY.PEEK[])").await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].starts_with("* 1 FETCH (UID 1 FLAGS (\\Flagged $Work) ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"first\" "),
        "{lines:?}"
    );
    assert_eq!(literal(&lines[0]), one);
    assert!(lines[1].starts_with("* 2 FETCH (UID 2 FLAGS (\\Seen) ENVELOPE ("));
    assert_eq!(literal(&lines[1]), two);
    // BODY[] without PEEK sets nothing: the folder is read-only.
    let lines = c.cmd("f2 FETCH 1 (BODY[TEXT])").await;
    assert_eq!(lines[0], "* 1 FETCH (BODY[TEXT] {10}\r\nbody one\r\n)");
    let lines = c.cmd("f3 FETCH 1 (BODYSTRUCTURE RFC822.SIZE)").await;
    assert!(lines[0].contains("BODYSTRUCTURE (\"TEXT\""), "{lines:?}");

    assert_eq!(
        c.cmd("g SEARCH BODY \"body two\"").await,
        ["* SEARCH 2", "g OK SEARCH completed"]
    );
    assert_eq!(
        c.cmd("g2 UID SEARCH SUBJECT first").await,
        ["* SEARCH 1", "g2 OK UID SEARCH completed"]
    );
    assert_eq!(
        c.cmd("g3 SORT (REVERSE SUBJECT) UTF-8 ALL").await,
        ["* SORT 2 1", "g3 OK SORT completed"]
    );

    for (tag, command) in [
        ("h1", "STORE 1 +FLAGS (\\Seen)"),
        ("h2", "UID STORE 1 -FLAGS (\\Flagged)"),
        ("h3", "EXPUNGE"),
        ("h4", "UID EXPUNGE 1"),
        ("h5", "DELETE \"Recently Deleted\""),
        ("h6", "RENAME \"Recently Deleted\" Old"),
    ] {
        let lines = c.cmd(&format!("{tag} {command}")).await;
        assert!(
            lines[0].starts_with(&format!("{tag} NO [CANNOT] ")),
            "{command}: {lines:?}"
        );
    }
    let lines = append(&mut c, "h7", "\"Recently Deleted\"", "", &one).await;
    assert!(lines[0].starts_with("h7 NO [CANNOT] "), "{lines:?}");
    // No real mailbox may take the name (or one below it).
    for (tag, command) in [
        ("i1", "CREATE \"Recently Deleted\""),
        ("i2", "CREATE \"Recently Deleted/x\""),
        ("i3", "RENAME Archive \"Recently Deleted\""),
    ] {
        let lines = c.cmd(&format!("{tag} {command}")).await;
        assert!(
            lines[0].starts_with(&format!("{tag} NO [ALREADYEXISTS] ")),
            "{command}: {lines:?}"
        );
    }
    // Nothing changed.
    let lines = c.cmd("j FETCH 1:* (FLAGS)").await;
    assert_eq!(
        lines,
        [
            "* 1 FETCH (FLAGS (\\Flagged $Work))",
            "* 2 FETCH (FLAGS (\\Seen))",
            "j OK FETCH completed"
        ]
    );
}

#[tokio::test]
async fn move_and_copy_restore() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let (one, two) = delete_two(&mut c).await;
    c.cmd("b EXAMINE \"Recently Deleted\"").await;
    // Into the folder: refused.
    let lines = c.cmd("c COPY 1 \"Recently Deleted\"").await;
    assert!(lines[0].starts_with("c NO [CANNOT] "), "{lines:?}");

    // UID MOVE out: COPYUID, then EXPUNGE (RFC 6851 §4.3).
    let inbox_validity = c.cmd("d STATUS INBOX (UIDVALIDITY)").await[0].clone();
    let validity = inbox_validity
        .trim_start_matches("* STATUS INBOX (UIDVALIDITY ")
        .trim_end_matches(')')
        .to_string();
    assert_eq!(
        c.cmd("e UID MOVE 1 INBOX").await,
        [
            format!("* OK [COPYUID {validity} 1 3] moved"),
            "* 1 EXPUNGE".to_string(),
            "e OK UID MOVE completed".to_string()
        ]
    );
    // UID COPY out to Archive: restored there; the entry has left the recovery area, which
    // the folder reports with an EXPUNGE (allowed after COPY, RFC 9051 §7.5.1).
    let lines = c.cmd("f UID COPY 2 Archive").await;
    assert_eq!(lines[0], "* 1 EXPUNGE", "{lines:?}");
    assert!(lines[1].starts_with("f OK [COPYUID "), "{lines:?}");
    assert!(lines[1].ends_with(" 2 1] UID COPY completed"), "{lines:?}");
    assert_eq!(
        c.cmd("g STATUS \"Recently Deleted\" (MESSAGES UIDNEXT)")
            .await[0],
        "* STATUS \"Recently Deleted\" (MESSAGES 0 UIDNEXT 1)"
    );

    // INBOX has the first back, byte-identical, with its flags (not \Deleted).
    c.cmd("h SELECT INBOX").await;
    let lines = c.cmd("i UID FETCH 1:* (FLAGS BODY.PEEK[])").await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("* 1 FETCH (UID 3 FLAGS (\\Recent \\Flagged $Work) BODY[] "),
        "{lines:?}"
    );
    assert_eq!(literal(&lines[0]), one);
    c.cmd("j SELECT Archive").await;
    let lines = c.cmd("k FETCH 1 (FLAGS BODY.PEEK[])").await;
    assert!(
        lines[0].starts_with("* 1 FETCH (FLAGS (\\Recent \\Seen) BODY[] "),
        "{lines:?}"
    );
    assert_eq!(literal(&lines[0]), two);
}

#[tokio::test]
async fn new_deletions_appear_on_noop() {
    let srv = start().await;
    let mut viewer = Client::login(srv.addr).await;
    assert_eq!(
        viewer.cmd("a SELECT \"Recently Deleted\"").await[0],
        "* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)"
    );
    let mut other = Client::login(srv.addr).await;
    // In IDLE, mail deleted by another session shows up (the folder follows the account's
    // events); one expunge may be reported in one or more steps.
    viewer.send("b IDLE\r\n").await;
    assert_eq!(viewer.line().await, "+ idling");
    delete_two(&mut other).await;
    let mut last = viewer.line().await;
    while last != "* 2 EXISTS" {
        assert_eq!(last, "* 1 EXISTS");
        last = viewer.line().await;
    }
    viewer.send("DONE\r\n").await;
    assert_eq!(viewer.until_tagged("b").await, ["b OK IDLE terminated"]);
    assert_eq!(viewer.cmd("b2 NOOP").await, ["b2 OK NOOP completed"]);
    // Another session restoring one makes it vanish here.
    other.cmd("c EXAMINE \"Recently Deleted\"").await;
    other.cmd("d UID MOVE 2 Sent").await;
    assert_eq!(
        viewer.cmd("e NOOP").await,
        ["* 2 EXPUNGE", "e OK NOOP completed"]
    );
}

#[tokio::test]
async fn accounts_are_isolated() {
    let srv = start().await;
    srv.store
        .create_account(NewAccount::new(
            "bob@example.test",
            hash_password("pw").unwrap(),
        ))
        .await
        .unwrap();
    let mut ann = Client::login(srv.addr).await;
    delete_two(&mut ann).await;
    let (mut bob, _) = Client::connect(srv.addr).await;
    let lines = bob.cmd("l LOGIN bob@example.test pw").await;
    assert!(lines[0].starts_with("l OK"), "{lines:?}");
    assert_eq!(
        bob.cmd("a STATUS \"Recently Deleted\" (MESSAGES)").await[0],
        "* STATUS \"Recently Deleted\" (MESSAGES 0)"
    );
    let lines = bob.cmd("b SELECT \"Recently Deleted\"").await;
    assert!(lines.contains(&"* 0 EXISTS".to_string()), "{lines:?}");
    // Ann's recovery ids are 1 and 2: Bob can neither fetch nor restore them.
    assert_eq!(
        bob.cmd("c UID FETCH 1:* (BODY.PEEK[])").await,
        ["c OK UID FETCH completed"]
    );
    assert_eq!(
        bob.cmd("d UID MOVE 1:2 INBOX").await,
        ["d OK UID MOVE completed"]
    );
    assert_eq!(
        ann.cmd("e STATUS \"Recently Deleted\" (MESSAGES)").await[0],
        "* STATUS \"Recently Deleted\" (MESSAGES 2)"
    );
}

#[tokio::test]
async fn empty_name_turns_it_off() {
    let srv = start_with(ImapConfig {
        recently_deleted: String::new(),
        ..ImapConfig::default()
    })
    .await;
    let mut c = Client::login(srv.addr).await;
    let lines = c.cmd("a LIST \"\" *").await;
    assert!(!lines.iter().any(|l| l.contains("Recently")), "{lines:?}");
    assert_eq!(
        c.cmd("b CREATE \"Recently Deleted\"").await,
        ["b OK CREATE completed"]
    );
}
