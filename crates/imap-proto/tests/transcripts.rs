//! Golden transcripts (habit 9): the client side of the command examples
//! in RFC 9051 §6 and of the extension RFCs this crate implements, replayed
//! through the framer exactly as bytes would arrive; each parsed command is
//! serialised again and must parse back to the same value. A second table
//! checks server lines from the RFCs byte for byte against the writer.

use std::num::{NonZeroU32, NonZeroU64};

use mailroom_imap_proto::response::{
    Address, BodyData, BodyFields, BodyStructure, Code, Completion, Data, Delimiter, ESearch,
    ESearchItem, Envelope, FetchItem, ListItem, MailboxAttr, NamespaceDesc, Response, SinglePart,
    SinglePartKind, StatusKind, StatusValue, Text, WriteOptions,
};
use mailroom_imap_proto::{
    AuthenticateResponse, Capability, Command, CommandBody, Date, DateTime, FetchFlag, Flag,
    Framer, Limits, LineOutcome, Mailbox, NonEmpty, Outcome, PermanentFlag, Tag,
    parse_authenticate_response, parse_idle_done,
};

/// What the replayed client input is expected to be read as.
enum Mode {
    Command,
    /// SASL exchange of the AUTHENTICATE command with this tag.
    Authenticate(String),
    Idle,
}

/// Replays the `C:` lines of a transcript; returns the command names read
/// and the number of AUTHENTICATE lines and DONE lines.
fn replay(transcript: &str) -> (Vec<&'static str>, usize, usize) {
    let mut framer = Framer::new(Limits::default());
    let mut buf: Vec<u8> = Vec::new();
    let mut mode = Mode::Command;
    let mut names = Vec::new();
    let (mut auth_lines, mut done_lines) = (0, 0);
    for raw in transcript.lines() {
        let line = raw.trim_start();
        if let Some(server) = line.strip_prefix("S:") {
            if let Mode::Authenticate(tag) = &mode
                && server.trim_start().starts_with(&format!("{tag} "))
            {
                mode = Mode::Command;
            }
            continue;
        }
        let Some(client) = line.strip_prefix("C:") else {
            continue;
        };
        buf.extend_from_slice(client.strip_prefix(' ').unwrap_or(client).as_bytes());
        buf.extend_from_slice(b"\r\n");
        loop {
            match &mode {
                Mode::Authenticate(_) => match parse_authenticate_response(&buf, 8192) {
                    LineOutcome::Complete { value, consumed } => {
                        assert!(matches!(
                            value,
                            AuthenticateResponse::Data(_) | AuthenticateResponse::Cancel
                        ));
                        auth_lines += 1;
                        buf.drain(..consumed);
                    }
                    LineOutcome::Incomplete => break,
                    LineOutcome::Failed { error, .. } => panic!("auth line {raw:?}: {error}"),
                },
                Mode::Idle => match parse_idle_done(&buf) {
                    LineOutcome::Complete { consumed, .. } => {
                        done_lines += 1;
                        buf.drain(..consumed);
                        mode = Mode::Command;
                    }
                    LineOutcome::Incomplete => break,
                    LineOutcome::Failed { error, .. } => panic!("idle line {raw:?}: {error}"),
                },
                Mode::Command => match framer.decode(&buf) {
                    Outcome::Incomplete | Outcome::NeedLiteral { .. } => break,
                    Outcome::Complete { command, consumed } => {
                        buf.drain(..consumed);
                        round_trip(&command);
                        names.push(command.body.name());
                        match &command.body {
                            CommandBody::Authenticate(a) if a.initial_response.is_none() => {
                                mode = Mode::Authenticate(command.tag.to_string());
                            }
                            CommandBody::Idle => mode = Mode::Idle,
                            _ => {}
                        }
                    }
                    other => panic!("{raw:?}: {other:?}"),
                },
            }
            if buf.is_empty() {
                break;
            }
        }
    }
    assert!(
        buf.is_empty(),
        "left over: {:?}",
        String::from_utf8_lossy(&buf)
    );
    (names, auth_lines, done_lines)
}

/// Serialise, frame again, compare.
fn round_trip(command: &Command) {
    let bytes = command.to_bytes();
    let mut framer = Framer::new(Limits::default());
    match framer.decode(&bytes) {
        Outcome::Complete {
            command: again,
            consumed,
        } => {
            assert_eq!(&again, command, "{}", String::from_utf8_lossy(&bytes));
            assert_eq!(consumed, bytes.len());
        }
        other => panic!("{}: {other:?}", String::from_utf8_lossy(&bytes)),
    }
}

#[test]
fn rfc9051_any_and_not_authenticated_state() {
    let transcript = r##"
        C: abcd CAPABILITY
        S: * CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED
        S: abcd OK CAPABILITY completed
        C: efgh STARTTLS
        S: efgh OK STARTTLS completed
        C: ijkl CAPABILITY
        S: ijkl OK CAPABILITY completed
        C: a002 NOOP
        S: a002 OK NOOP completed
        C: A001 AUTHENTICATE GSSAPI
        S: +
        C: YIIB+wYJKoZIhvcSAQICAQBuggHqMIIB5qADAgEFoQMCAQ6iBwMFACAAAACjggEmYYIBIjCCAR6gAwIBBaESGxB1
        S: + YGgGCSqGSIb3EgECAgIAb1kwV6ADAgEFoQMCAQ+iSzBJoAMCAQGiQgRAtHTEuOP2BXb9sBYFR4SJlDZxmg39
        C:
        S: + YDMGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=
        C: YDMGCSqGSIb3EgECAgIBAAD/////3LQBHXTpFfZgrejpLlLImPwkhbfa2QteAQAgAG1yYwE=
        S: A001 OK GSSAPI authentication successful
        C: A002 AUTHENTICATE PLAIN dGVzdAB0ZXN0AHRlc3Q=
        S: A002 OK Success (tls protection)
        C: A003 AUTHENTICATE EXTERNAL =
        C: A004 AUTHENTICATE PLAIN
        S: +
        C: *
        S: A004 BAD authentication cancelled
        C: a001 LOGIN SMITH SESAME
        S: a001 OK LOGIN completed
        C: A023 LOGOUT
        S: * BYE IMAP4rev2 Server logging out
    "##;
    let (names, auth, _) = replay(transcript);
    assert_eq!(
        names,
        [
            "CAPABILITY",
            "STARTTLS",
            "CAPABILITY",
            "NOOP",
            "AUTHENTICATE",
            "AUTHENTICATE",
            "AUTHENTICATE",
            "AUTHENTICATE",
            "LOGIN",
            "LOGOUT"
        ]
    );
    assert_eq!(auth, 4);
}

#[test]
fn rfc9051_authenticated_state() {
    let transcript = r##"
        C: t1 CAPABILITY
        C: t2 ENABLE CONDSTORE X-GOOD-IDEA
        S: * ENABLED X-GOOD-IDEA
        C: A142 SELECT INBOX
        S: A142 OK [READ-WRITE] SELECT completed
        C: A932 EXAMINE blurdybloop
        C: A003 CREATE owatagusiam/
        C: A004 CREATE owatagusiam/blurdybloop
        C: t1 CREATE "Important Messages" (USE (\Important))
        C: A682 LIST "" *
        C: A683 DELETE blurdybloop
        C: A684 DELETE foo
        C: A685 DELETE foo/bar
        C: A683 RENAME blurdybloop sarasoop
        C: Z433 RENAME INBOX old-mail
        C: A002 SUBSCRIBE #news.comp.mail.mime
        C: A002 UNSUBSCRIBE #news.comp.mail.mime
        C: A101 LIST "" ""
        C: A102 LIST #news.comp.mail.misc ""
        C: A103 LIST /usr/staff/jones ""
        C: A202 LIST ~/Mail/ %
        C: A01 LIST "" %
        C: A02 LIST (SUBSCRIBED) "" "*"
        C: A03 LIST () "" "%" RETURN (CHILDREN)
        C: A04 LIST (REMOTE) "" "%" RETURN (CHILDREN)
        C: A05 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)
        C: A06 LIST "" ("INBOX" "Drafts" "Sent/%")
        C: A07 LIST (SUBSCRIBED) "" ("foo/*" "bar/*") RETURN (CHILDREN)
        C: A08 LIST "" % RETURN (STATUS (MESSAGES UNSEEN))
        C: A09 LIST (SPECIAL-USE) "" "*"
        C: A10 LIST "" "%" RETURN (SPECIAL-USE)
        C: A11 LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN STATUS (MESSAGES SIZE))
        C: A002 LSUB "#news." "comp.mail.*"
        C: A001 NAMESPACE
        C: A042 STATUS blurdybloop (UIDNEXT MESSAGES)
        C: A043 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ APPENDLIMIT MAILBOXID)
        C: A003 APPEND saved-messages (\Seen) {326}
        S: + Ready for literal data
        C: Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)
        C: From: Fred Foobar <foobar@Blurdybloop.example>
        C: Subject: afternoon meeting
        C: To: mooch@owatagu.siam.edu.example
        C: Message-Id: <B27397-0100000@Blurdybloop.example>
        C: MIME-Version: 1.0
        C: Content-Type: TEXT/PLAIN; CHARSET=US-ASCII
        C:
        C: Hello Joe, do you think we can meet at 3:30 tomorrow?
        C:
        S: A003 OK APPEND completed
        C: A004 APPEND Drafts (\Draft) "07-Feb-1994 21:52:25 -0800" {5+}
        C: Hi!
        C:  (\Seen) {2+}
        C: ok
        C: A005 IDLE
        S: + idling
        S: * 4 EXISTS
        C: DONE
        S: A005 OK IDLE terminated
        C: G0001 GETQUOTA "!partition/sda4"
        C: G0002 GETQUOTAROOT INBOX
        C: S0000 SETQUOTA "#user/alice" (STORAGE 510)
        C: a023 ID ("name" "sodr" "version" "19.34" "vendor" "Pink Floyd Music Limited")
        C: a024 ID NIL
        C: a025 COMPRESS DEFLATE
        C: a026 UNAUTHENTICATE
    "##;
    let (names, _, done) = replay(transcript);
    assert_eq!(names.len(), 44);
    assert_eq!(done, 1);
    assert_eq!(names.iter().filter(|n| **n == "LIST").count(), 16);
    assert_eq!(names.iter().filter(|n| **n == "APPEND").count(), 2);
}

#[test]
fn rfc9051_selected_state() {
    let transcript = r##"
        C: A341 CLOSE
        C: A342 UNSELECT
        C: A202 EXPUNGE
        C: A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
        S: * ESEARCH (TAG "A282") MIN 2 COUNT 3
        C: A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"
        C: A284 SEARCH TEXT "string not in mailbox"
        C: A285 SEARCH CHARSET UTF-8 TEXT {12}
        S: + Ready for literal text
        C: отпуск
        C: A286 SEARCH CHARSET WHATEVER TEXT "string not in mailbox"
        C: A301 SEARCH RETURN (SAVE) SINCE 28-Oct-2006 NOT SINCE 31-Oct-2006
        C: A302 FETCH $ (UID INTERNALDATE FLAGS RFC822.SIZE)
        C: A303 SEARCH RETURN (SAVE MIN MAX) OR $ UNSEEN 1:10
        C: A304 UID SEARCH RETURN (ALL) UID $ KEYWORD $Junk
        C: A305 SEARCH OR (FROM alice TO bob) (HEADER X-Spam yes LARGER 100) UNDELETED
        C: A306 SEARCH OLDER 3600 YOUNGER 86400 SENTON 1-Jan-2020 ON 2-Jan-2020 BEFORE 3-Jan-2020
        C: A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])
        C: A655 FETCH 2:4 (BODY.PEEK[1.2.MIME] BODY[3.TEXT]<0.1024> BINARY.PEEK[1] BINARY.SIZE[1] RFC822.TEXT)
        C: A656 FETCH 1 FULL
        C: A657 FETCH 1:* (EMAILID THREADID SAVEDATE MODSEQ)
        C: A003 STORE 2:4 +FLAGS (\Deleted)
        C: A004 STORE 2:4 -FLAGS.SILENT (\Seen $Forwarded)
        C: A005 COPY 2:4 MEETING
        C: a MOVE 1:3 Archive
        C: a UID MOVE 42:69 foo
        C: A999 UID FETCH 4827313:4828442 FLAGS
        C: A998 UID COPY 4827313:4828442 MEETING
        C: A997 UID STORE 4827313 FLAGS (\Answered)
        C: A003 UID EXPUNGE 3000:3002
    "##;
    let (names, _, _) = replay(transcript);
    assert_eq!(
        names,
        [
            "CLOSE",
            "UNSELECT",
            "EXPUNGE",
            "SEARCH",
            "SEARCH",
            "SEARCH",
            "SEARCH",
            "SEARCH",
            "SEARCH",
            "FETCH",
            "SEARCH",
            "UID SEARCH",
            "SEARCH",
            "SEARCH",
            "FETCH",
            "FETCH",
            "FETCH",
            "FETCH",
            "STORE",
            "STORE",
            "COPY",
            "MOVE",
            "UID MOVE",
            "UID FETCH",
            "UID COPY",
            "UID STORE",
            "UID EXPUNGE"
        ]
    );
}

#[test]
fn extension_rfcs() {
    let transcript = r##"
        C: A142 SELECT INBOX (CONDSTORE)
        C: A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))
        C: B02 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))
        C: a103 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)
        C: s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)
        C: d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\Deleted)
        C: a SEARCH MODSEQ "/flags/\\draft" all 620162338
        C: t SEARCH OR NOT MODSEQ 720162338 LARGER 50000
        C: A283 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994
        C: A284 SORT (SUBJECT) US-ASCII TEXT "not in mailbox"
        C: A285 SORT (SUBJECT REVERSE DATE) UTF-8 ALL
        C: A286 UID SORT (REVERSE ARRIVAL DISPLAYFROM) UTF-8 UNDELETED
        C: A287 SORT RETURN (MIN MAX) (DATE) UTF-8 UNDELETED UNKEYWORD $Junk
        C: A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000
        C: A284 THREAD ORDEREDSUBJECT US-ASCII TEXT "gewp"
        C: A285 UID THREAD REFERENCES UTF-8 SINCE 5-MAR-2000
        C: a UID SEARCH EMAILID M6d99ac3275bb4e
        C: b SEARCH THREADID T64b478a75b7ea9 SAVEDSINCE 1-Jan-2021
        C: notify NOTIFY SET STATUS (selected (MessageNew (uid body.peek[header.fields (from to subject)]) MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))
        C: n2 NOTIFY NONE
    "##;
    let (names, _, _) = replay(transcript);
    assert_eq!(names.len(), 20);
    assert_eq!(names.last(), Some(&"NOTIFY"));
}

fn text(s: &str) -> Text {
    Text::new(s).unwrap()
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn s(v: &str) -> Vec<u8> {
    v.as_bytes().to_vec()
}

#[test]
fn rfc9051_server_lines() {
    let tag = |t: &str| Tag::new(t).unwrap();
    let gray = Address::new(Some(b"Terry Gray"), b"gray", b"cac.washington.edu");
    let envelope = Envelope {
        date: Some(s("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)")),
        subject: Some(s("IMAP4rev2 WG mtg summary and minutes")),
        from: vec![gray.clone()],
        sender: vec![gray.clone()],
        reply_to: vec![gray],
        to: vec![Address::new(None, b"imap", b"cac.washington.edu")],
        cc: vec![
            Address::new(None, b"minutes", b"CNRI.Reston.VA.US"),
            Address::new(Some(b"John Klensin"), b"KLENSIN", b"MIT.EDU"),
        ],
        bcc: vec![],
        in_reply_to: None,
        message_id: Some(s("<B27397-0100000@cac.washington.edu>")),
    };
    let body = BodyStructure::Single {
        part: SinglePart {
            kind: SinglePartKind::Text {
                subtype: s("PLAIN"),
                lines: 92,
            },
            fields: BodyFields {
                params: vec![(s("CHARSET"), s("US-ASCII"))],
                id: None,
                description: None,
                encoding: s("7BIT"),
                octets: 3028,
            },
        },
        extension: None,
    };
    let date = Date::new(1996, 7, 17)
        .and_then(|d| DateTime::new(d, 2, 44, 25, -420))
        .unwrap();
    let caps = |list: &[&str]| {
        NonEmpty::from_vec(
            list.iter()
                .map(|c| Capability::new(*c).unwrap())
                .collect::<Vec<_>>(),
        )
        .unwrap()
    };
    let slash = Delimiter::new('/').ok();
    let cases: Vec<(Response, &str)> = vec![
        (
            Response::Data(Data::Capability(caps(&[
                "IMAP4rev2",
                "STARTTLS",
                "AUTH=GSSAPI",
                "LOGINDISABLED",
            ]))),
            "* CAPABILITY IMAP4rev2 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n",
        ),
        (
            Response::tagged(
                tag("abcd"),
                Completion::Ok,
                None,
                text("CAPABILITY completed"),
            ),
            "abcd OK CAPABILITY completed\r\n",
        ),
        (
            Response::Data(Data::Enabled(caps(&["X-GOOD-IDEA"]).to_vec())),
            "* ENABLED X-GOOD-IDEA\r\n",
        ),
        (Response::Data(Data::Exists(172)), "* 172 EXISTS\r\n"),
        (
            Response::untagged(
                StatusKind::Ok,
                Some(Code::UidValidity(nz(3857529045))),
                text("UIDs valid"),
            ),
            "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
        ),
        (
            Response::untagged(
                StatusKind::Ok,
                Some(Code::UidNext(nz(4392))),
                text("Predicted next UID"),
            ),
            "* OK [UIDNEXT 4392] Predicted next UID\r\n",
        ),
        (
            Response::Data(Data::Flags(vec![
                Flag::Answered,
                Flag::Flagged,
                Flag::Deleted,
                Flag::Seen,
                Flag::Draft,
            ])),
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n",
        ),
        (
            Response::untagged(
                StatusKind::Ok,
                Some(Code::PermanentFlags(vec![
                    PermanentFlag::Flag(Flag::Deleted),
                    PermanentFlag::Flag(Flag::Seen),
                    PermanentFlag::Wildcard,
                ])),
                text("Limited"),
            ),
            "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n",
        ),
        (
            Response::Data(Data::List(ListItem::new(vec![], slash, Mailbox::inbox()))),
            "* LIST () \"/\" INBOX\r\n",
        ),
        (
            Response::tagged(
                tag("A142"),
                Completion::Ok,
                Some(Code::ReadWrite),
                text("SELECT completed"),
            ),
            "A142 OK [READ-WRITE] SELECT completed\r\n",
        ),
        (
            Response::tagged(
                tag("A932"),
                Completion::Ok,
                Some(Code::ReadOnly),
                text("EXAMINE completed"),
            ),
            "A932 OK [READ-ONLY] EXAMINE completed\r\n",
        ),
        (
            Response::Data(Data::List(ListItem::new(
                vec![MailboxAttr::NoSelect],
                slash,
                Mailbox::new("foo"),
            ))),
            "* LIST (\\Noselect) \"/\" foo\r\n",
        ),
        (
            Response::tagged(
                tag("A684"),
                Completion::No,
                Some(Code::HasChildren),
                text("Name \"foo\" has inferior hierarchical names"),
            ),
            "A684 NO [HASCHILDREN] Name \"foo\" has inferior hierarchical names\r\n",
        ),
        (
            Response::Data(Data::Status {
                mailbox: Mailbox::new("blurdybloop"),
                items: vec![StatusValue::Messages(231), StatusValue::UidNext(nz(44292))],
            }),
            "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n",
        ),
        (
            Response::Data(Data::Namespace {
                personal: vec![NamespaceDesc {
                    prefix: vec![],
                    delimiter: slash,
                }],
                other_users: vec![],
                shared: vec![],
            }),
            "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n",
        ),
        (
            Response::Data(Data::ESearch(ESearch {
                tag: Some(tag("A282")),
                uid: false,
                items: vec![ESearchItem::Min(nz(2)), ESearchItem::Count(3)],
            })),
            "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n",
        ),
        (
            Response::tagged(
                tag("A286"),
                Completion::No,
                Some(Code::BadCharset(vec![])),
                text("Charset not supported"),
            ),
            "A286 NO [BADCHARSET] Charset not supported\r\n",
        ),
        (
            Response::Data(Data::Fetch {
                seq: nz(2),
                items: NonEmpty::new(FetchItem::Flags(vec![
                    FetchFlag::Flag(Flag::Deleted),
                    FetchFlag::Flag(Flag::Seen),
                ])),
            }),
            "* 2 FETCH (FLAGS (\\Deleted \\Seen))\r\n",
        ),
        (
            Response::Data(Data::Fetch {
                seq: nz(12),
                items: NonEmpty::from_vec(vec![
                    FetchItem::Flags(vec![FetchFlag::Flag(Flag::Seen)]),
                    FetchItem::InternalDate(date),
                    FetchItem::Rfc822Size(4286),
                    FetchItem::Envelope(Box::new(envelope)),
                    FetchItem::Body(Box::new(body)),
                ])
                .unwrap(),
            }),
            "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 \
             ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev2 WG mtg summary and minutes\" \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) \
             ((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) ((NIL NIL \"imap\" \"cac.washington.edu\")) \
             ((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL \
             \"<B27397-0100000@cac.washington.edu>\") \
             BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n",
        ),
        (
            Response::Data(Data::Fetch {
                seq: nz(23),
                items: NonEmpty::from_vec(vec![
                    FetchItem::Uid(nz(4827313)),
                    FetchItem::BodySection {
                        section: Default::default(),
                        origin: None,
                        data: BodyData::Bytes(bytes::Bytes::from_static(b"Hi\r\n")),
                    },
                ])
                .unwrap(),
            }),
            "* 23 FETCH (UID 4827313 BODY[] {4}\r\nHi\r\n)\r\n",
        ),
        (
            Response::tagged(
                tag("A003"),
                Completion::Ok,
                Some(Code::AppendUid {
                    uid_validity: nz(38505),
                    uids: mailroom_imap_proto::SequenceSet::single(nz(3955)),
                }),
                text("APPEND completed"),
            ),
            "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n",
        ),
        (
            Response::untagged(
                StatusKind::Ok,
                Some(Code::HighestModSeq(NonZeroU64::new(715194045007).unwrap())),
                text("Highest"),
            ),
            "* OK [HIGHESTMODSEQ 715194045007] Highest\r\n",
        ),
        (Response::continue_text(text("idling")), "+ idling\r\n"),
        (
            Response::untagged(StatusKind::Bye, None, text("IMAP4rev2 Server logging out")),
            "* BYE IMAP4rev2 Server logging out\r\n",
        ),
    ];
    for (response, expected) in cases {
        let bytes = response.to_bytes(WriteOptions::default()).unwrap();
        assert_eq!(String::from_utf8_lossy(&bytes), expected);
    }
}
