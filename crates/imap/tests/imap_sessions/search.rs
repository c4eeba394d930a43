//! SEARCH transcripts: flags, dates, sizes, headers, full text, sets, ESEARCH and SEARCHRES.

use crate::common;
use common::*;

fn msg(from: &str, subject: &str, date: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: team@example.test\r\nSubject: {subject}\r\nDate: {date}\r\nX-Prio: {subject}-prio\r\n\r\n{body}\r\n"
    )
}

async fn setup() -> (TestServer, Client) {
    let srv = start().await;
    let mut c = Client::select(srv.addr, "INBOX").await;
    let m1 = msg(
        "Ann <ann@example.test>",
        "Quarterly report",
        "Mon, 7 Feb 1994 21:52:25 -0800",
        "numbers inside",
    );
    let m2 = msg(
        "Bob <bob@example.test>",
        "Lunch",
        "Tue, 8 Feb 1994 10:00:00 +0000",
        "pizza at noon",
    );
    let m3 = msg(
        "Cyd <cyd@example.test>",
        "Report draft",
        "Wed, 9 Feb 2022 10:00:00 +0000",
        &"long body ".repeat(100),
    );
    append(
        &mut c,
        "a1",
        "INBOX",
        "(\\Seen) \"07-Feb-1994 21:52:25 -0800\"",
        &m1,
    )
    .await;
    append(
        &mut c,
        "a2",
        "INBOX",
        "(\\Flagged $Food) \"08-Feb-1994 10:00:00 +0000\"",
        &m2,
    )
    .await;
    append(&mut c, "a3", "INBOX", "(\\Deleted)", &m3).await;
    (srv, c)
}

#[tokio::test]
async fn flag_date_size_and_header_keys() {
    let (_srv, mut c) = setup().await;
    let cases = [
        ("ALL", "* SEARCH 1 2 3"),
        ("SEEN", "* SEARCH 1"),
        ("UNSEEN", "* SEARCH 2 3"),
        ("FLAGGED UNDELETED", "* SEARCH 2"),
        ("KEYWORD $Food", "* SEARCH 2"),
        ("UNKEYWORD $food", "* SEARCH 1 3"),
        ("DELETED", "* SEARCH 3"),
        // All three came while this session had INBOX selected: recent here (RFC 3501).
        ("NEW", "* SEARCH 2 3"),
        ("RECENT", "* SEARCH 1 2 3"),
        ("OLD", "* SEARCH"),
        ("BEFORE 08-Feb-1994", "* SEARCH 1"),
        ("ON 8-Feb-1994", "* SEARCH 2"),
        ("SINCE 1-Jan-2000", "* SEARCH 3"),
        ("SENTBEFORE 1-Jan-2000", "* SEARCH 1 2"),
        ("SENTON 09-Feb-2022", "* SEARCH 3"),
        ("LARGER 500", "* SEARCH 3"),
        ("SMALLER 500", "* SEARCH 1 2"),
        ("FROM bob", "* SEARCH 2"),
        ("FROM \"ANN <\"", "* SEARCH 1"),
        ("TO team", "* SEARCH 1 2 3"),
        ("CC team", "* SEARCH"),
        ("SUBJECT report", "* SEARCH 1 3"),
        ("HEADER X-Prio lunch-PRIO", "* SEARCH 2"),
        ("OR FROM ann FROM cyd", "* SEARCH 1 3"),
        ("NOT (SEEN FROM ann)", "* SEARCH 2 3"),
        ("2:*", "* SEARCH 2 3"),
        ("UID 1,3", "* SEARCH 1 3"),
        ("1:2 NOT 2", "* SEARCH 1"),
        ("YOUNGER 3600", "* SEARCH 3"),
        ("OLDER 3600", "* SEARCH 1 2"),
        ("CHARSET UTF-8 SUBJECT lunch", "* SEARCH 2"),
    ];
    for (i, (criteria, expected)) in cases.iter().enumerate() {
        let tag = format!("s{i}");
        let lines = c.cmd(&format!("{tag} SEARCH {criteria}")).await;
        assert_eq!(
            lines,
            [expected.to_string(), format!("{tag} OK SEARCH completed")],
            "{criteria}"
        );
    }
    assert_eq!(
        c.cmd("u UID SEARCH SUBJECT report").await,
        ["* SEARCH 1 3", "u OK UID SEARCH completed"]
    );
    assert_eq!(
        c.cmd("b SEARCH CHARSET KOI8-R ALL").await,
        ["b NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset"]
    );
    let bad = c.cmd("c SEARCH FROBNICATE").await;
    assert!(bad[0].starts_with("c BAD"), "{bad:?}");
}

#[tokio::test]
async fn full_text() {
    let (_srv, mut c) = setup().await;
    assert_eq!(
        c.cmd("a SEARCH BODY PIZZA").await,
        ["* SEARCH 2", "a OK SEARCH completed"]
    );
    assert_eq!(
        c.cmd("b SEARCH TEXT quarterly").await,
        ["* SEARCH 1", "b OK SEARCH completed"]
    );
    assert_eq!(
        c.cmd("c SEARCH BODY quarterly").await,
        ["* SEARCH", "c OK SEARCH completed"]
    );
}

#[tokio::test]
async fn esearch_and_searchres() {
    let (_srv, mut c) = setup().await;
    assert_eq!(
        c.cmd("a SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN").await,
        [
            "* ESEARCH (TAG \"a\") MIN 2 MAX 3 COUNT 2 ALL 2:3",
            "a OK SEARCH completed"
        ]
    );
    assert_eq!(
        c.cmd("b UID SEARCH RETURN () ALL").await,
        [
            "* ESEARCH (TAG \"b\") UID ALL 1:3",
            "b OK UID SEARCH completed"
        ]
    );
    assert_eq!(
        c.cmd("c SEARCH RETURN (COUNT) KEYWORD nothing").await,
        ["* ESEARCH (TAG \"c\") COUNT 0", "c OK SEARCH completed"]
    );
    // SEARCHRES: save, then use $ in FETCH and SEARCH.
    assert_eq!(
        c.cmd("d SEARCH RETURN (SAVE) SUBJECT report").await,
        ["d OK SEARCH completed"]
    );
    assert_eq!(
        c.cmd("e FETCH $ (UID)").await,
        [
            "* 1 FETCH (UID 1)",
            "* 3 FETCH (UID 3)",
            "e OK FETCH completed"
        ]
    );
    assert_eq!(
        c.cmd("f SEARCH $ SEEN").await,
        ["* SEARCH 1", "f OK SEARCH completed"]
    );
    assert_eq!(
        c.cmd("g SEARCH RETURN (SAVE MIN) ALL").await,
        ["* ESEARCH (TAG \"g\") MIN 1", "g OK SEARCH completed"]
    );
    assert_eq!(
        c.cmd("h UID SEARCH UID $").await,
        ["* SEARCH 1", "h OK UID SEARCH completed"]
    );
}

#[tokio::test]
async fn modseq_search() {
    let (_srv, mut c) = setup().await;
    c.cmd("s STORE 1 +FLAGS (\\Answered)").await;
    let lines = c.cmd("a SEARCH MODSEQ 4").await;
    assert!(lines[0].starts_with("* OK [HIGHESTMODSEQ "), "{lines:?}");
    assert!(lines[1].starts_with("* SEARCH 1 3 (MODSEQ "), "{lines:?}");
    // MIN/MAX alone: the MODSEQ of the messages returned (RFC 7162 §3.1.5).
    // Message 3's MODSEQ is 4, below message 1's 5 (its STORE above).
    let lines = c.cmd("m SEARCH RETURN (MAX) MODSEQ 1").await;
    assert_eq!(
        lines[0], "* ESEARCH (TAG \"m\") MAX 3 MODSEQ 4",
        "{lines:?}"
    );
    let lines = c.cmd("b SEARCH RETURN (ALL) MODSEQ 4").await;
    assert!(
        lines[0].starts_with("* ESEARCH (TAG \"b\") ALL 1,3 MODSEQ "),
        "{lines:?}"
    );
}

#[tokio::test]
async fn rev2_search_answers_esearch() {
    let (_srv, mut c) = setup().await;
    c.cmd("e ENABLE IMAP4rev2").await;
    assert_eq!(
        c.cmd("a SEARCH SUBJECT report").await,
        ["* ESEARCH (TAG \"a\") ALL 1,3", "a OK SEARCH completed"]
    );
    assert_eq!(
        c.cmd("b UID SEARCH KEYWORD none").await,
        ["* ESEARCH (TAG \"b\") UID", "b OK UID SEARCH completed"]
    );
}

#[tokio::test]
async fn savedate() {
    let (_srv, mut c) = setup().await;
    let lines = c.cmd("a FETCH 1 SAVEDATE").await;
    assert!(lines[0].starts_with("* 1 FETCH (SAVEDATE \""), "{lines:?}");
    assert_eq!(
        c.cmd("b SEARCH SAVEDSINCE 1-Jan-2000 SAVEDATESUPPORTED")
            .await,
        ["* SEARCH 1 2 3", "b OK SEARCH completed"]
    );
    assert_eq!(
        c.cmd("c SEARCH SAVEDBEFORE 1-Jan-2000").await,
        ["* SEARCH", "c OK SEARCH completed"]
    );
}

/// The probe of issue 17: one SEARCH of a million BODY terms (17 MB of literals) took the
/// CPU of the whole server. Programs that large are refused before any work; what is
/// accepted is evaluated on the CPU pool under the session's budget.
#[tokio::test]
async fn oversized_search_programs_are_refused() {
    let (_srv, mut c) = setup().await;
    let many = vec!["ALL"; 2001].join(" ");
    assert_eq!(
        c.cmd(&format!("k1 SEARCH {many}")).await,
        ["k1 NO [LIMIT] a search may hold at most 2000 keys"]
    );
    let fine = vec!["UNDELETED"; 1999].join(" ");
    assert_eq!(
        c.cmd(&format!("k2 SEARCH {fine}")).await,
        ["* SEARCH 1 2", "k2 OK SEARCH completed"]
    );
    let needles: Vec<String> = (0..65).map(|i| format!("BODY word{i}")).collect();
    assert_eq!(
        c.cmd(&format!("k3 SEARCH OR ALL {}", needles.join(" ")))
            .await,
        ["k3 NO [LIMIT] a search may hold at most 64 different BODY or TEXT strings"]
    );
    // Literals: the command's lines together may not pass 256 KiB.
    let mut huge = String::from("k4 SEARCH");
    for _ in 0..30_000 {
        huge.push_str(" BODY {5+}\r\nhello");
    }
    huge.push_str("\r\n");
    c.send(&huge).await;
    let reply = c.until_tagged("k4").await;
    assert_eq!(reply.len(), 1, "{reply:?}");
    assert!(reply[0].starts_with("k4 BAD [TOOBIG] "), "{reply:?}");
    assert_eq!(c.cmd("k5 NOOP").await, ["k5 OK NOOP completed"]);
}
