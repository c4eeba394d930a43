//! FETCH transcripts: data items, sections, BINARY, \Seen, CHANGEDSINCE.

use crate::common;
use common::*;

const MIME: &str = "From: =?UTF-8?Q?J=C3=B6ran?= <joran@example.test>\r\nTo: Group: a@example.test, b@example.test;\r\nSubject: Report\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <r1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\npreamble\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n--xx\r\nContent-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\nAAEC\r\n--xx\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nFrom: x@example.test\r\n\r\ninner body\r\n--xx--\r\n";

async fn setup() -> (TestServer, Client) {
    let srv = start().await;
    let mut c = Client::select(srv.addr, "INBOX").await;
    let lines = append(
        &mut c,
        "a",
        "INBOX",
        "(\\Flagged) \"07-Feb-1994 21:52:25 -0800\"",
        MIME,
    )
    .await;
    assert!(lines.last().unwrap().starts_with("a OK"), "{lines:?}");
    append(
        &mut c,
        "b",
        "INBOX",
        "(\\Seen)",
        &message("plain", "just text"),
    )
    .await;
    (srv, c)
}

#[tokio::test]
async fn envelope_and_basic_items() {
    let (_srv, mut c) = setup().await;
    let lines = c
        .cmd("f FETCH 1 (FLAGS UID INTERNALDATE RFC822.SIZE ENVELOPE)")
        .await;
    let from = "((\"=?UTF-8?B?SsO2cmFu?=\" NIL \"joran\" \"example.test\"))";
    assert_eq!(
        lines[0],
        format!(
            "* 1 FETCH (FLAGS (\\Recent \\Flagged) UID 1 INTERNALDATE \"07-Feb-1994 21:52:25 -0800\" \
             RFC822.SIZE {} ENVELOPE (\"Mon, 7 Feb 1994 21:52:25 -0800\" \"Report\" {from} {from} {from} \
             ((NIL NIL \"Group\" NIL)(NIL NIL \"a\" \"example.test\")(NIL NIL \"b\" \"example.test\")(NIL NIL NIL NIL)) \
             NIL NIL NIL \"<r1@example.test>\"))",
            MIME.len()
        )
    );
    assert_eq!(lines[1], "f OK FETCH completed");
    // With UTF8=ACCEPT the name goes out as UTF-8.
    c.cmd("e ENABLE UTF8=ACCEPT").await;
    let lines = c.cmd("g FETCH 1 ENVELOPE").await;
    assert!(lines[0].contains("((\"Jöran\" NIL \"joran\""), "{lines:?}");
    // Macros.
    let lines = c.cmd("h FETCH 2 FAST").await;
    assert!(
        lines[0].starts_with("* 2 FETCH (FLAGS (\\Recent \\Seen) INTERNALDATE \""),
        "{lines:?}"
    );
}

#[tokio::test]
async fn body_structure_from_facts() {
    let (_srv, mut c) = setup().await;
    let lines = c.cmd("f FETCH 1 BODYSTRUCTURE").await;
    assert_eq!(
        lines[0],
        "* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 9 1 NIL NIL NIL NIL)\
         (\"APPLICATION\" \"OCTET-STREAM\" (\"NAME\" \"a.bin\") NIL NIL \"BASE64\" 4 NIL (\"attachment\" (\"FILENAME\" \"a.bin\")) NIL NIL)\
         (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 50 (NIL \"inner\" ((NIL NIL \"x\" \"example.test\")) ((NIL NIL \"x\" \"example.test\")) \
         ((NIL NIL \"x\" \"example.test\")) NIL NIL NIL NIL NIL) (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL) \
         4 NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"xx\") NIL NIL NIL))"
    );
    let lines = c.cmd("g FETCH 2 BODY").await;
    assert_eq!(
        lines[0],
        "* 2 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 11 1))"
    );
}

#[tokio::test]
async fn sections_partial_and_binary() {
    let (_srv, mut c) = setup().await;
    assert_eq!(
        c.cmd("f FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[TEXT]<0.4>)")
            .await,
        [
            "* 2 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {56}\r\nFrom: Ann Example <ann@example.test>\r\nSubject: plain\r\n\r\n BODY[TEXT]<0> {4}\r\njust)",
            "f OK FETCH completed"
        ]
    );
    assert_eq!(
        c.cmd("g FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[2] BODY.PEEK[3.HEADER] BODY.PEEK[3.1])")
            .await,
        [
            "* 1 FETCH (BINARY[1] {5}\r\ncafé BINARY.SIZE[2] 3 BODY[3.HEADER] {40}\r\nSubject: inner\r\nFrom: x@example.test\r\n\r\n BODY[3.1] {10}\r\ninner body)",
            "g OK FETCH completed"
        ]
    );
    assert_eq!(
        c.cmd("h FETCH 1 (BODY.PEEK[1.MIME] BODY.PEEK[7])").await,
        [
            "* 1 FETCH (BODY[1.MIME] {88}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n BODY[7] NIL)",
            "h OK FETCH completed"
        ]
    );
    let lines = c.cmd("i FETCH 2 (RFC822.HEADER RFC822.TEXT)").await;
    assert!(
        lines[0].starts_with("* 2 FETCH (RFC822.HEADER {"),
        "{lines:?}"
    );
    assert!(
        lines[0].ends_with(" RFC822.TEXT {11}\r\njust text\r\n)"),
        "{lines:?}"
    );
    // The whole message, byte for byte.
    let lines = c.cmd("j UID FETCH 1 BODY.PEEK[]").await;
    assert_eq!(
        lines[0],
        format!("* 1 FETCH (UID 1 BODY[] {{{}}}\r\n{MIME})", MIME.len())
    );
}

#[tokio::test]
async fn body_fetch_sets_seen() {
    let (_srv, mut c) = setup().await;
    assert_eq!(
        c.cmd("f FETCH 1 (BODY[1])").await,
        [
            "* 1 FETCH (BODY[1] {9}\r\ncaf=C3=A9 FLAGS (\\Recent \\Seen \\Flagged))",
            "f OK FETCH completed"
        ]
    );
    assert_eq!(
        c.cmd("g FETCH 1 FLAGS").await,
        [
            "* 1 FETCH (FLAGS (\\Recent \\Seen \\Flagged))",
            "g OK FETCH completed"
        ]
    );
    // EXAMINE never changes flags.
    c.cmd("h EXAMINE INBOX").await;
    c.cmd("i STATUS INBOX (UNSEEN)").await;
    let lines = c.cmd("j FETCH 1 (BODY[TEXT]<0.3>)").await;
    assert!(lines[0].ends_with("{3}\r\npre)"), "{lines:?}");
}

#[tokio::test]
async fn condstore_fetch() {
    let (_srv, mut c) = setup().await;
    c.cmd("s STORE 2 +FLAGS.SILENT (\\Answered)").await;
    let lines = c.cmd("f UID FETCH 1:* (FLAGS) (CHANGEDSINCE 3)").await;
    // RFC 7162 §3.1: the first CONDSTORE-enabling command reports HIGHESTMODSEQ.
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("* OK [HIGHESTMODSEQ "), "{lines:?}");
    assert!(
        lines[1].starts_with("* 2 FETCH (UID 2 FLAGS (\\Recent \\Seen \\Answered) MODSEQ ("),
        "{lines:?}"
    );
    let lines = c.cmd("g FETCH 1:2 (EMAILID THREADID MODSEQ)").await;
    assert!(lines[0].starts_with("* 1 FETCH (EMAILID (E"), "{lines:?}");
    // Every message here has a Message-ID and starts its own thread (RFC 8474 §5.2).
    assert!(lines[0].contains(") THREADID (T"), "{lines:?}");
}

#[tokio::test]
async fn fetch_errors() {
    let (_srv, mut c) = setup().await;
    assert_eq!(
        c.cmd("f FETCH 5 FLAGS").await,
        ["f BAD invalid message sequence number"]
    );
    assert_eq!(
        c.cmd("g UID FETCH 99 FLAGS").await,
        ["g OK UID FETCH completed"]
    );
    let bad = c.cmd("h FETCH 1 (BODY[HEADER.FIELDS])").await;
    assert!(bad[0].starts_with("h BAD "), "{bad:?}");
    assert_eq!(c.cmd("i NOOP").await, ["i OK NOOP completed"]);
}

/// A client that stops reading in the middle of a large FETCH is dropped after the write
/// deadline: the session, and the responses it holds, do not stay forever (issue 11).
#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_after_the_write_deadline() {
    use mailroom_store::{Directory, MailboxName, Mailboxes, Messages, NewMessage};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let srv = start_with(mailroom_imap::ImapConfig {
        write_timeout: std::time::Duration::from_secs(1),
        ..mailroom_imap::ImapConfig::default()
    })
    .await;
    let account = srv.store.account_by_address(USER).await.unwrap().unwrap();
    let inbox = srv
        .store
        .mailbox(account.id, &MailboxName::inbox())
        .await
        .unwrap()
        .unwrap();
    let body = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(2 << 20));
    for _ in 0..8 {
        srv.store
            .append(inbox.id, NewMessage::new(body.clone().into_bytes()))
            .await
            .unwrap();
    }
    let fetch_everything = |reader_waits: bool| {
        let addr = srv.addr;
        async move {
            let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            tcp.write_all(format!("l LOGIN {USER} {PASS}\r\ns SELECT INBOX\r\nf FETCH 1:* BODY.PEEK[]\r\nz LOGOUT\r\n").as_bytes())
                .await
                .unwrap();
            if reader_waits {
                // Past the deadline, with the server's writes stuck on a full socket.
                tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            }
            let mut got = Vec::new();
            tokio::time::timeout(WAIT * 3, tcp.read_to_end(&mut got))
                .await
                .expect("the connection neither ended nor finished")
                .ok();
            String::from_utf8_lossy(&got).into_owned()
        }
    };
    let reading = fetch_everything(false).await;
    assert!(
        reading.contains("\r\nf OK FETCH completed\r\n"),
        "a reading client gets it all"
    );
    let stalled = fetch_everything(true).await;
    assert!(
        !stalled.contains("f OK FETCH completed"),
        "the stalled client was served to the end"
    );
    assert!(stalled.len() < 8 * (2 << 20), "{} octets", stalled.len());
}
