//! SORT and THREAD transcripts.

use crate::common;
use common::*;

fn msg(from: &str, to: &str, subject: &str, date: &str, ids: &str, body_len: usize) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n{ids}\r\n{}\r\n",
        "x".repeat(body_len)
    )
}

async fn setup() -> (TestServer, Client) {
    let srv = start().await;
    let mut c = Client::select(srv.addr, "INBOX").await;
    let messages = [
        msg(
            "Zed <zed@example.test>",
            "b@example.test",
            "Plan",
            "Mon, 7 Feb 1994 10:00:00 +0000",
            "Message-ID: <a@x>\r\n",
            300,
        ),
        msg(
            "Amy <amy@example.test>",
            "a@example.test",
            "Re: Plan",
            "Tue, 8 Feb 1994 10:00:00 +0000",
            "Message-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\n",
            100,
        ),
        msg(
            "Bob <bob@example.test>",
            "c@example.test",
            "Another",
            "Sun, 6 Feb 1994 10:00:00 +0000",
            "Message-ID: <c@x>\r\n",
            200,
        ),
        msg(
            "Cy <cy@example.test>",
            "a@example.test",
            "Re: Plan",
            "Wed, 9 Feb 1994 10:00:00 +0000",
            "Message-ID: <d@x>\r\nReferences: <a@x> <b@x>\r\n",
            50,
        ),
    ];
    for (i, m) in messages.iter().enumerate() {
        append(&mut c, &format!("a{i}"), "INBOX", "", m).await;
    }
    (srv, c)
}

#[tokio::test]
async fn sort_keys() {
    let (_srv, mut c) = setup().await;
    let cases = [
        ("(DATE) UTF-8 ALL", "* SORT 3 1 2 4"),
        ("(REVERSE DATE) UTF-8 ALL", "* SORT 4 2 1 3"),
        ("(ARRIVAL) UTF-8 ALL", "* SORT 1 2 3 4"),
        ("(SIZE) UTF-8 ALL", "* SORT 4 2 3 1"),
        ("(SUBJECT DATE) UTF-8 ALL", "* SORT 3 1 2 4"),
        ("(FROM) UTF-8 ALL", "* SORT 2 3 4 1"),
        ("(TO REVERSE SIZE) UTF-8 ALL", "* SORT 2 4 1 3"),
        ("(DISPLAYFROM) UTF-8 NOT FROM zed", "* SORT 2 3 4"),
    ];
    for (i, (args, expected)) in cases.iter().enumerate() {
        let tag = format!("s{i}");
        assert_eq!(
            c.cmd(&format!("{tag} SORT {args}")).await,
            [expected.to_string(), format!("{tag} OK SORT completed")],
            "{args}"
        );
    }
    assert_eq!(
        c.cmd("u UID SORT (SIZE) US-ASCII 1:2").await,
        ["* SORT 2 1", "u OK UID SORT completed"]
    );
    assert_eq!(
        c.cmd("b SORT (SIZE) KOI8-R ALL").await,
        ["b NO [BADCHARSET (UTF-8 US-ASCII)] unsupported charset"]
    );
}

#[tokio::test]
async fn threads() {
    let (_srv, mut c) = setup().await;
    assert_eq!(
        c.cmd("a THREAD ORDEREDSUBJECT UTF-8 ALL").await,
        ["* THREAD (3)(1 (2)(4))", "a OK THREAD completed"]
    );
    assert_eq!(
        c.cmd("b THREAD REFERENCES UTF-8 ALL").await,
        ["* THREAD (3)(1 2 4)", "b OK THREAD completed"]
    );
    assert_eq!(
        c.cmd("c UID THREAD REFERENCES UTF-8 NOT UID 2").await,
        ["* THREAD (3)(1 4)", "c OK UID THREAD completed"]
    );
}
