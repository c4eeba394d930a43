//! One transcript per fix found by Dovecot's imaptest compliance set (issue 12): each fails
//! without its fix. The imaptest group it comes from is named above each test.

use crate::common;
use common::*;

/// Appends `raw` (LF line ends become CRLF) to INBOX and selects it.
async fn with(raw: &str) -> (TestServer, Client) {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let msg = raw.replace('\n', "\r\n");
    let lines = append(&mut c, "a", "INBOX", "", &msg).await;
    assert!(lines.last().unwrap().starts_with("a OK"), "{lines:?}");
    c.cmd("s SELECT INBOX").await;
    (srv, c)
}

/// fetch-body-message-rfc822*: part 1 of a message/rfc822 message is the whole message inside;
/// 1.HEADER and 1.TEXT are its header and body (the epilogue included), 1.1 its first part.
#[tokio::test]
async fn message_rfc822_part_numbers() {
    let (_srv, mut c) = with(
        "From: a@example.test\nContent-Type: message/rfc822\n\nFrom: sub@example.test\nSubject: inner\nContent-Type: multipart/mixed; boundary=\"b\"\n\npre\n--b\n\nfirst\n--b--\nepilogue\n",
    )
    .await;
    let inner = "From: sub@example.test\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\npre\r\n--b\r\n\r\nfirst\r\n--b--\r\nepilogue\r\n";
    let lines = c.cmd("f FETCH 1 (BODY.PEEK[1])").await;
    assert_eq!(
        lines[0],
        format!("* 1 FETCH (BODY[1] {{{}}}\r\n{inner})", inner.len())
    );
    let lines = c.cmd("g FETCH 1 (BODY.PEEK[1.HEADER])").await;
    assert!(
        lines[0].starts_with("* 1 FETCH (BODY[1.HEADER] {"),
        "{lines:?}"
    );
    assert!(lines[0].ends_with("boundary=\"b\"\r\n\r\n)"), "{lines:?}");
    let lines = c.cmd("h FETCH 1 (BODY.PEEK[1.TEXT])").await;
    assert!(lines[0].ends_with("--b--\r\nepilogue\r\n)"), "{lines:?}");
    let lines = c.cmd("i FETCH 1 (BODY.PEEK[1.1])").await;
    assert_eq!(lines[0], "* 1 FETCH (BODY[1.1] {5}\r\nfirst)");
}

/// search-date: SENT* look at the Date header's own calendar day, not its day in UTC.
#[tokio::test]
async fn sent_dates_disregard_time_and_zone() {
    let (_srv, mut c) =
        with("From: a@example.test\nDate: Sun, 25 Mar 2007 00:30:00 +0200\n\nx\n").await;
    assert_eq!(c.cmd("a SEARCH SENTON 25-Mar-2007").await[0], "* SEARCH 1");
    assert_eq!(c.cmd("b SEARCH SENTON 24-Mar-2007").await[0], "* SEARCH");
    assert_eq!(
        c.cmd("c SEARCH SENTBEFORE 25-Mar-2007").await[0],
        "* SEARCH"
    );
    assert_eq!(
        c.cmd("d SEARCH SENTSINCE 25-Mar-2007").await[0],
        "* SEARCH 1"
    );
}

/// fetch-envelope, search-addresses, sort-addresses: groups in the envelope have nothing but
/// their members; a bare word gets MISSING_DOMAIN; group names are searched and sorted on.
#[tokio::test]
async fn envelope_groups() {
    let (_srv, mut c) = with(
        "From: a@example.test\nTo: d\nCc: group:;, group2: (foo) ;\nBcc: team: x@example.test;\n\nx\n",
    )
    .await;
    let lines = c.cmd("f FETCH 1 ENVELOPE").await;
    assert!(
        lines[0].contains(
            "((NIL NIL \"d\" \"MISSING_DOMAIN\")) ((NIL NIL \"group\" NIL)(NIL NIL NIL NIL)(NIL NIL \"group2\" NIL)(NIL NIL NIL NIL)) ((NIL NIL \"team\" NIL)(NIL NIL \"x\" \"example.test\")(NIL NIL NIL NIL))"
        ),
        "{lines:?}"
    );
    assert_eq!(c.cmd("g SEARCH CC group2").await[0], "* SEARCH 1");
    assert_eq!(c.cmd("h SEARCH BCC team").await[0], "* SEARCH 1");
}

/// sort-subject: base subjects by RFC 5256 §2.1, folded so `[` and `_` sort after letters.
#[tokio::test]
async fn sort_by_base_subject() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    for (i, subject) in [
        "re: [fwd: [fwd: re: [fwd: babylon]]]",
        "_",
        "[xyz]",
        "Re: apple",
        "Fwd: [list] cherry",
    ]
    .iter()
    .enumerate()
    {
        append(
            &mut c,
            &format!("a{i}"),
            "INBOX",
            "",
            &message(subject, "x"),
        )
        .await;
    }
    c.cmd("s SELECT INBOX").await;
    assert_eq!(
        c.cmd("t SORT (SUBJECT) UTF-8 ALL").await[0],
        "* SORT 4 1 5 3 2"
    );
}

/// thread: REFERENCES step 1C breaks an existing parent link before it links anew.
#[tokio::test]
async fn thread_references_relinks() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let msgs = [
        "Message-ID: <a@b>\r\nSubject: one\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n1\r\n",
        "Message-ID: <b@b>\r\nReferences: <a@b> <c@b>\r\nSubject: two\r\nDate: Mon, 1 Jan 2024 11:00:00 +0000\r\n\r\n2\r\n",
        "Message-ID: <c@b>\r\nReferences: <b@b>\r\nSubject: three\r\nDate: Mon, 1 Jan 2024 09:00:00 +0000\r\n\r\n3\r\n",
    ];
    for (i, m) in msgs.iter().enumerate() {
        append(&mut c, &format!("a{i}"), "INBOX", "", m).await;
    }
    c.cmd("s SELECT INBOX").await;
    assert_eq!(
        c.cmd("t THREAD REFERENCES UTF-8 ALL").await[0],
        "* THREAD (3 2)(1)"
    );
}

/// fetch-binary-mime-qp: trailing blanks on a quoted-printable line are padding, and `=`
/// with blanks after it is still a soft line break.
#[tokio::test]
async fn quoted_printable_padding() {
    let (_srv, mut c) = with(
        "From: a@example.test\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\nhello  \nfoo = \nbar\n",
    )
    .await;
    assert_eq!(
        c.cmd("f FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[1])").await[0],
        "* 1 FETCH (BINARY[1] {16}\r\nhello\r\nfoo bar\r\n BINARY.SIZE[1] 16)"
    );
}

/// id: a command line of RFC 2971's largest ID (30 pairs of 30 and 1,024 octets).
#[tokio::test]
async fn largest_id_is_accepted() {
    let srv = start().await;
    let (mut c, _) = Client::connect(srv.addr).await;
    let pairs: Vec<String> = (0..30)
        .map(|i| format!("\"{:0>30}\" \"{}\"", i, "v".repeat(1024)))
        .collect();
    let lines = c.cmd(&format!("i ID ({})", pairs.join(" "))).await;
    assert_eq!(lines.last().unwrap(), "i OK ID completed");
}

/// atoms: a name that is a fine astring but not modified UTF-7 is NO, not BAD; such a pattern
/// lists nothing.
#[tokio::test]
async fn names_that_are_not_modified_utf7() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let lines = c.cmd("a SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}").await;
    assert_eq!(
        lines,
        ["a NO [CANNOT] mailbox name is not valid modified UTF-7"]
    );
    assert_eq!(c.cmd("b LIST \"\" &foo%").await, ["b OK LIST completed"]);
}

/// subscribe: LSUB with `%` stops at an unsubscribed parent and shows it \Noselect.
#[tokio::test]
async fn lsub_percent_shows_unsubscribed_parents() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    c.cmd("a CREATE top/child").await;
    c.cmd("b SUBSCRIBE top/child").await;
    assert_eq!(
        c.cmd("c LSUB \"\" %").await,
        [
            "* LSUB () \"/\" INBOX",
            "* LSUB () \"/\" Archive",
            "* LSUB () \"/\" Drafts",
            "* LSUB () \"/\" Junk",
            "* LSUB () \"/\" Sent",
            "* LSUB () \"/\" Trash",
            "* LSUB (\\Noselect) \"/\" top",
            "c OK LSUB completed"
        ]
    );
}

/// move: MOVE into the selected mailbox gives new UIDs.
#[tokio::test]
async fn move_into_the_selected_mailbox() {
    let (_srv, mut c) = with("From: a@example.test\n\nx\n").await;
    let lines = c.cmd("m MOVE 1 INBOX").await;
    assert!(lines[0].starts_with("* OK [COPYUID "), "{lines:?}");
    assert!(lines[0].ends_with(" 1 2] moved"), "{lines:?}");
    assert!(lines.contains(&"* 1 EXPUNGE".to_string()), "{lines:?}");
    assert!(lines.contains(&"* 1 EXISTS".to_string()), "{lines:?}");
    assert_eq!(c.cmd("u UID SEARCH ALL").await[0], "* SEARCH 2");
}

/// select, copy, search-flags: \Recent for IMAP4rev1 — the first session to SELECT takes the
/// new messages over; EXAMINE only looks.
#[tokio::test]
async fn recent_belongs_to_the_first_session() {
    let srv = start().await;
    let mut a = Client::login(srv.addr).await;
    append(&mut a, "a1", "INBOX", "", &message("one", "x")).await;
    append(&mut a, "a2", "INBOX", "", &message("two", "x")).await;
    let mut looker = Client::login(srv.addr).await;
    assert!(
        looker
            .cmd("e EXAMINE INBOX")
            .await
            .contains(&"* 2 RECENT".to_string())
    );
    let lines = a.cmd("s SELECT INBOX").await;
    assert!(lines.contains(&"* 2 RECENT".to_string()), "{lines:?}");
    assert_eq!(a.cmd("r SEARCH RECENT").await[0], "* SEARCH 1 2");
    let mut b = Client::login(srv.addr).await;
    let lines = b.cmd("s SELECT INBOX").await;
    assert!(lines.contains(&"* 0 RECENT".to_string()), "{lines:?}");
    assert_eq!(b.cmd("r SEARCH OLD").await[0], "* SEARCH 1 2");
    // IMAP4rev2 has no \Recent (RFC 9051 §2.3.2).
    let mut v2 = Client::login(srv.addr).await;
    v2.cmd("e ENABLE IMAP4rev2").await;
    append(&mut v2, "v", "INBOX", "", &message("three", "x")).await;
    let lines = v2.cmd("s SELECT INBOX").await;
    assert!(!lines.iter().any(|l| l.ends_with("RECENT")), "{lines:?}");
}

/// The only error of imaptest's stress runs: a keyword another session set appears in a
/// FETCH only after FLAGS has announced it.
#[tokio::test]
async fn new_keywords_are_announced_first() {
    let (srv, mut c) = with("From: a@example.test\n\nx\n").await;
    let mut other = Client::select(srv.addr, "INBOX").await;
    other.cmd("k STORE 1 +FLAGS ($Label1)").await;
    let lines = c.cmd("n NOOP").await;
    assert!(
        lines[0].starts_with("* FLAGS (") && lines[0].contains("$Label1"),
        "{lines:?}"
    );
    assert!(lines[1].starts_with("* OK [PERMANENTFLAGS ("), "{lines:?}");
    assert!(lines[2].starts_with("* 1 FETCH (FLAGS ("), "{lines:?}");
}

/// append-binary: a binary part with NUL is stored base64, so BODY[1] is plain text and
/// BINARY[1] gives the bytes back.
#[tokio::test]
async fn binary_parts_with_nul() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let msg = b"From: a@example.test\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\xed\n\r\n";
    c.send(&format!("a APPEND INBOX ~{{{}+}}\r\n", msg.len()))
        .await;
    c.send_bytes(msg).await;
    c.send("\r\n").await;
    assert!(
        c.until_tagged("a")
            .await
            .last()
            .unwrap()
            .starts_with("a OK")
    );
    c.cmd("s SELECT INBOX").await;
    let lines = c.cmd("f FETCH 1 (BODY.PEEK[1] BINARY.SIZE[1])").await;
    assert_eq!(
        lines[0],
        "* 1 FETCH (BODY[1] {10}\r\nAO0KDQo=\r\n BINARY.SIZE[1] 5)"
    );
}

/// esort, search-partial, sort-partial: ESEARCH answers for SORT, and PARTIAL ranges of a
/// result (RFC 5267 §3, RFC 9394).
#[tokio::test]
async fn esort_and_partial_results() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    for i in 1..=5 {
        append(
            &mut c,
            &format!("a{i}"),
            "INBOX",
            "",
            &message(&format!("m{i}"), "x"),
        )
        .await;
    }
    c.cmd("s SELECT INBOX").await;
    assert_eq!(
        c.cmd("t SORT RETURN (MIN MAX COUNT) (ARRIVAL) UTF-8 ALL")
            .await[0],
        "* ESEARCH (TAG \"t\") MIN 1 MAX 5 COUNT 5"
    );
    assert_eq!(
        c.cmd("u SORT RETURN (ALL) (REVERSE SUBJECT) UTF-8 ALL")
            .await[0],
        "* ESEARCH (TAG \"u\") ALL 5,4,3,2,1"
    );
    assert_eq!(
        c.cmd("v SEARCH RETURN (PARTIAL 4:2) ALL").await[0],
        "* ESEARCH (TAG \"v\") PARTIAL (2:4 2:4)"
    );
    assert_eq!(
        c.cmd("w SEARCH RETURN (PARTIAL -1:-2) ALL").await[0],
        "* ESEARCH (TAG \"w\") PARTIAL (-1:-2 4:5)"
    );
    assert_eq!(
        c.cmd("x SEARCH RETURN (PARTIAL 6:9) ALL").await[0],
        "* ESEARCH (TAG \"x\") PARTIAL (6:9 NIL)"
    );
    assert!(c.cmd("y SEARCH RETURN (PARTIAL 1:*) ALL").await[0].starts_with("y BAD "));
}

/// search-context-update*: RETURN (UPDATE) keeps the result, and its changes are reported as
/// they happen, also the other session's, until CANCELUPDATE (RFC 5267 §4).
#[tokio::test]
async fn search_context_updates() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    for i in 1..=3 {
        append(
            &mut c,
            &format!("a{i}"),
            "INBOX",
            "",
            &message(&format!("m{i}"), "x"),
        )
        .await;
    }
    c.cmd("s SELECT INBOX").await;
    assert_eq!(
        c.cmd("q SEARCH RETURN (UPDATE ALL) SEEN").await,
        ["* ESEARCH (TAG \"q\")", "q OK SEARCH completed"]
    );
    let lines = c.cmd("b STORE 1,3 +FLAGS.SILENT (\\Seen)").await;
    assert_eq!(lines[0], "* ESEARCH (TAG \"q\") ADDTO (1 1,3)", "{lines:?}");
    let mut other = Client::select(srv.addr, "INBOX").await;
    other.cmd("o STORE 3 -FLAGS.SILENT (\\Seen)").await;
    let lines = c.cmd("n NOOP").await;
    assert!(
        lines.contains(&"* ESEARCH (TAG \"q\") REMOVEFROM (2 3)".to_string()),
        "{lines:?}"
    );
    assert_eq!(
        c.cmd("c CANCELUPDATE \"q\"").await,
        ["c OK CANCELUPDATE completed"]
    );
    let lines = c.cmd("d STORE 2 +FLAGS.SILENT (\\Seen)").await;
    assert_eq!(lines, ["d OK STORE completed"]);
}

/// catenate: a message made of literals and of parts of stored messages (RFC 4469); a URL
/// naming nothing of the user's is NO [BADURL].
#[tokio::test]
async fn catenate_builds_messages_from_parts() {
    let (_srv, mut c) = with("From: a@example.test\nSubject: one\n\nfirst body\n").await;
    let lines = c.cmd("v STATUS INBOX (UIDVALIDITY)").await;
    let validity: String = lines[0].chars().filter(|ch| ch.is_ascii_digit()).collect();
    let body = "\r\nappended\r\n";
    let lines = c
        .cmd(&format!(
            "a APPEND INBOX CATENATE (URL \"/INBOX;UIDVALIDITY={validity}/;UID=1/;SECTION=HEADER\" TEXT {{{}+}}\r\n{body})",
            body.len()
        ))
        .await;
    assert!(
        lines.last().unwrap().starts_with("a OK [APPENDUID "),
        "{lines:?}"
    );
    let lines = c.cmd("f FETCH 2 (BODY.PEEK[])").await;
    assert!(
        lines
            .iter()
            .any(|l| l.contains("From: a@example.test\r\nSubject: one\r\n\r\n\r\nappended\r\n")),
        "{lines:?}"
    );
    let lines = c
        .cmd("b APPEND INBOX CATENATE (URL \"/INBOX;UIDVALIDITY=12345/;UID=1\")")
        .await;
    assert_eq!(
        lines,
        ["b NO [BADURL /INBOX;UIDVALIDITY=12345/;UID=1] the URL names no message of yours"]
    );
}

/// THREADID (RFC 8474 §5.2): a reply shares its thread's id; SEARCH THREADID finds the thread.
#[tokio::test]
async fn thread_ids_follow_references() {
    let srv = start().await;
    let mut c = Client::login(srv.addr).await;
    let first = "Message-ID: <root@x>\r\nSubject: a\r\n\r\n1\r\n";
    let reply = "Message-ID: <r@x>\r\nIn-Reply-To: <root@x>\r\nReferences: <root@x>\r\nSubject: Re: a\r\n\r\n2\r\n";
    let other = "Message-ID: <o@x>\r\nSubject: b\r\n\r\n3\r\n";
    for (i, m) in [first, reply, other].iter().enumerate() {
        append(&mut c, &format!("a{i}"), "INBOX", "", m).await;
    }
    c.cmd("s SELECT INBOX").await;
    let lines = c.cmd("f FETCH 1:3 THREADID").await;
    let id = |line: &str| {
        line.split("THREADID (")
            .nth(1)
            .unwrap()
            .trim_end_matches("))")
            .to_string()
    };
    assert_eq!(id(&lines[0]), id(&lines[1]));
    assert_ne!(id(&lines[0]), id(&lines[2]));
    let thread = id(&lines[0]);
    assert_eq!(
        c.cmd(&format!("t SEARCH THREADID {thread}")).await[0],
        "* SEARCH 1 2"
    );
}
