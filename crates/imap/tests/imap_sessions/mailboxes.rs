//! LIST / LSUB / CREATE / DELETE / RENAME / SUBSCRIBE / STATUS transcripts.

use crate::common;
use common::*;

#[tokio::test]
async fn list_default_mailboxes() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    assert_eq!(
        c.cmd("a LIST \"\" \"\"").await,
        ["* LIST (\\Noselect) \"/\" \"\"", "a OK LIST completed"]
    );
    assert_eq!(
        c.cmd("b LIST \"\" *").await,
        [
            "* LIST (\\HasNoChildren) \"/\" INBOX",
            "* LIST (\\HasNoChildren \\Archive) \"/\" Archive",
            "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts",
            "* LIST (\\HasNoChildren \\Junk) \"/\" Junk",
            // The virtual folder of deleted mail (ImapConfig::recently_deleted).
            "* LIST (\\HasNoChildren) \"/\" \"Recently Deleted\"",
            "* LIST (\\HasNoChildren \\Sent) \"/\" Sent",
            "* LIST (\\HasNoChildren \\Trash) \"/\" Trash",
            "b OK LIST completed"
        ]
    );
    assert_eq!(
        c.cmd("c LIST \"\" inbox").await,
        [
            "* LIST (\\HasNoChildren) \"/\" INBOX",
            "c OK LIST completed"
        ]
    );
}

#[tokio::test]
async fn create_hierarchy_rename_delete() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    assert_eq!(
        c.cmd("a CREATE Work/Projects/").await,
        ["a OK CREATE completed"]
    );
    assert_eq!(
        c.cmd("b CREATE Work").await,
        ["b NO [ALREADYEXISTS] mailbox already exists"]
    );
    assert_eq!(
        c.cmd("c LIST \"\" Work*").await,
        [
            "* LIST (\\HasChildren) \"/\" Work",
            "* LIST (\\HasNoChildren) \"/\" Work/Projects",
            "c OK LIST completed"
        ]
    );
    assert_eq!(
        c.cmd("d LIST Work/ %").await,
        [
            "* LIST (\\HasNoChildren) \"/\" Work/Projects",
            "d OK LIST completed"
        ]
    );
    assert_eq!(
        c.cmd("e RENAME Work/Projects Work/Done").await,
        ["e OK RENAME completed"]
    );
    assert_eq!(
        c.cmd("f RENAME Nope Other").await,
        ["f NO [NONEXISTENT] no such mailbox"]
    );
    assert_eq!(c.cmd("g DELETE Work/Done").await, ["g OK DELETE completed"]);
    assert_eq!(
        c.cmd("h DELETE Work/Done").await,
        ["h NO [NONEXISTENT] no such mailbox"]
    );
    assert_eq!(
        c.cmd("i DELETE INBOX").await,
        ["i NO [CANNOT] INBOX cannot be deleted"]
    );
    assert_eq!(
        c.cmd("j CREATE Spam (USE (\\Junk))").await,
        ["j OK CREATE completed"]
    );
    assert_eq!(
        c.cmd("k CREATE Odd (USE (\\Bogus))").await,
        ["k NO [USEATTR] unsupported special-use attribute"]
    );
    assert_eq!(
        c.cmd("l LIST \"\" Spam").await,
        [
            "* LIST (\\HasNoChildren \\Junk) \"/\" Spam",
            "l OK LIST completed"
        ]
    );
}

#[tokio::test]
async fn utf7_names_unless_utf8_enabled() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    assert_eq!(
        c.cmd("a CREATE Entw&APw-rfe").await,
        ["a OK CREATE completed"]
    );
    assert_eq!(
        c.cmd("b LIST \"\" Entw*").await,
        [
            "* LIST (\\HasNoChildren) \"/\" Entw&APw-rfe",
            "b OK LIST completed"
        ]
    );
    c.cmd("c ENABLE UTF8=ACCEPT").await;
    assert_eq!(
        c.cmd("d LIST \"\" Entw*").await,
        [
            "* LIST (\\HasNoChildren) \"/\" \"Entwürfe\"",
            "d OK LIST completed"
        ]
    );
}

#[tokio::test]
async fn subscriptions_and_extended_list() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    // New accounts start with their default folders subscribed; start from INBOX only.
    for name in ["Archive", "Drafts", "Junk", "Sent", "Trash"] {
        assert_eq!(
            c.cmd(&format!("u UNSUBSCRIBE {name}")).await,
            ["u OK UNSUBSCRIBE completed"]
        );
    }
    c.cmd("a CREATE Lists/Rust").await;
    assert_eq!(
        c.cmd("b SUBSCRIBE Lists/Rust").await,
        ["b OK SUBSCRIBE completed"]
    );
    assert_eq!(
        c.cmd("c SUBSCRIBE INBOX").await,
        ["c OK SUBSCRIBE completed"]
    );
    assert_eq!(
        c.cmd("d SUBSCRIBE Missing").await,
        ["d NO [NONEXISTENT] no such mailbox"]
    );
    // A subscribed mailbox that goes away stays subscribed (RFC 9051 §6.3.7).
    c.cmd("e CREATE Gone").await;
    c.cmd("f SUBSCRIBE Gone").await;
    c.cmd("g DELETE Gone").await;
    assert_eq!(
        c.cmd("h LIST (SUBSCRIBED) \"\" *").await,
        [
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX",
            "* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \"/\" Gone",
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" Lists/Rust",
            "h OK LIST completed"
        ]
    );
    assert_eq!(
        c.cmd("i LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %").await,
        [
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" INBOX",
            "* LIST (\\NonExistent \\HasNoChildren \\Subscribed) \"/\" Gone",
            "* LIST (\\HasChildren) \"/\" Lists (\"CHILDINFO\" (\"SUBSCRIBED\"))",
            "i OK LIST completed"
        ]
    );
    assert_eq!(
        c.cmd("j LIST (SPECIAL-USE) \"\" * RETURN (SUBSCRIBED)")
            .await,
        [
            "* LIST (\\HasNoChildren \\Archive) \"/\" Archive",
            "* LIST (\\HasNoChildren \\Drafts) \"/\" Drafts",
            "* LIST (\\HasNoChildren \\Junk) \"/\" Junk",
            "* LIST (\\HasNoChildren \\Sent) \"/\" Sent",
            "* LIST (\\HasNoChildren \\Trash) \"/\" Trash",
            "j OK LIST completed"
        ]
    );
    assert_eq!(
        c.cmd("k LSUB \"\" *").await,
        [
            "* LSUB () \"/\" INBOX",
            "* LSUB (\\Noselect) \"/\" Gone",
            "* LSUB () \"/\" Lists/Rust",
            "k OK LSUB completed"
        ]
    );
    assert_eq!(
        c.cmd("l UNSUBSCRIBE Gone").await,
        ["l OK UNSUBSCRIBE completed"]
    );
}

#[tokio::test]
async fn status_and_list_status() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    append(&mut c, "a", "INBOX", "(\\Seen)", &message("one", "hello")).await;
    append(&mut c, "b", "INBOX", "()", &message("two", "hello")).await;
    let lines = c
        .cmd("c STATUS INBOX (MESSAGES UIDNEXT UNSEEN DELETED RECENT APPENDLIMIT)")
        .await;
    assert_eq!(
        lines[0],
        "* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UNSEEN 1 DELETED 0 RECENT 2 APPENDLIMIT 67108864)"
    );
    // A SELECT takes the recent messages over; STATUS then counts none (RFC 3501 §6.3.10).
    c.cmd("c2 SELECT INBOX").await;
    let lines = c.cmd("c3 STATUS INBOX (RECENT)").await;
    assert_eq!(lines[0], "* STATUS INBOX (RECENT 0)");
    let lines = c
        .cmd("d STATUS INBOX (SIZE HIGHESTMODSEQ MAILBOXID UIDVALIDITY)")
        .await;
    assert!(lines[0].starts_with("* STATUS INBOX (SIZE "), "{lines:?}");
    assert!(lines[0].contains("MAILBOXID (M"), "{lines:?}");
    assert_eq!(
        c.cmd("e STATUS Nope (MESSAGES)").await,
        ["e NO [NONEXISTENT] no such mailbox"]
    );
    assert_eq!(
        c.cmd("f LIST \"\" INBOX RETURN (STATUS (MESSAGES UNSEEN))")
            .await,
        [
            "* LIST (\\HasNoChildren) \"/\" INBOX",
            "* STATUS INBOX (MESSAGES 2 UNSEEN 1)",
            "f OK LIST completed"
        ]
    );
}

/// The probes of the outside attack (issue 17): names with `.`/`..` levels could make the
/// administrator's export write outside its directory. Every way a name enters refuses them.
#[tokio::test]
async fn unsafe_names_are_refused_wherever_a_name_enters() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    for (i, name) in [
        "\"../../../tmp/x/escaped\"",
        "\"a/../../x\"",
        "\"a/./b\"",
        "..",
        "\"~root\"",
    ]
    .iter()
    .enumerate()
    {
        let reply = c.cmd(&format!("c{i} CREATE {name}")).await;
        assert_eq!(reply.len(), 1, "{reply:?}");
        assert!(
            reply[0].starts_with(&format!("c{i} NO [CANNOT] invalid mailbox name: ")),
            "{name}: {reply:?}"
        );
    }
    assert_eq!(c.cmd("d CREATE Work").await, ["d OK CREATE completed"]);
    assert_eq!(
        c.cmd("e RENAME Work \"Work/../../x\"").await,
        ["e NO [CANNOT] invalid mailbox name: hierarchy level \".\" or \"..\""]
    );
    // No [TRYCREATE] for a target CREATE would refuse.
    assert_eq!(
        c.cmd("f APPEND \"../x\" {5+}\r\nhello").await,
        ["f NO [CANNOT] invalid mailbox name: hierarchy level \".\" or \"..\""]
    );
    assert_eq!(
        c.cmd("g APPEND \"Nope\" {5+}\r\nhello").await,
        ["g NO [TRYCREATE] no such mailbox"]
    );
    assert_eq!(
        c.cmd("h LIST \"\" *")
            .await
            .iter()
            .filter(|l| l.contains(".."))
            .count(),
        0
    );
    append(&mut c, "i0", "INBOX", "", &message("one", "body")).await;
    c.cmd("i SELECT INBOX").await;
    assert_eq!(
        c.cmd("j COPY 1 \"a/../b\"").await,
        ["j NO [CANNOT] invalid mailbox name: hierarchy level \".\" or \"..\""]
    );
    assert_eq!(
        c.cmd("k MOVE 1 \"~x\"").await,
        ["k NO [CANNOT] invalid mailbox name: name starts with \"~\""]
    );
}
