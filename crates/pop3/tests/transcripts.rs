//! POP3 transcripts against the real server on 127.0.0.1:0 with a real store: every command in
//! every state, the lock, the UPDATE state, and the policies.

use mailroom_auth::{Authenticator, hash_password};
use mailroom_pop3::{Pop3Config, Pop3Server};
use mailroom_store::{
    AccountUpdate, Delivery, Directory, MailboxName, Mailboxes, Messages, NewAccount, Pop3Policy,
    Protocols, Recovery, Store, SystemFlags,
};
use mailroom_store_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const M1: &[u8] =
    b"From: a@example.org\r\nSubject: one\r\n\r\nfirst line\r\n.leading dot\r\nlast\r\n";
const M2: &[u8] = b"From: b@example.org\r\nSubject: two\r\n\r\nbody two\r\n";
const M3: &[u8] = b"From: c@example.org\r\nSubject: three\r\n\r\n.\r\n..\r\nend";

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    port: u16,
    tls: mailroom_net::TlsAcceptor,
    cert: std::path::PathBuf,
}

async fn harness(config: Pop3Config) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("data")).unwrap());
    store.add_domain("example.test").await.unwrap();
    for user in ["ann", "bob", "eve"] {
        let mut new = NewAccount::new(format!("{user}@example.test"), hash_password("pw").unwrap());
        if user == "eve" {
            new.protocols = Protocols::IMAP;
        }
        store.create_account(new).await.unwrap();
    }
    let ann = store
        .account_by_address("ann@example.test")
        .await
        .unwrap()
        .unwrap();
    for m in [M1, M2, M3] {
        store
            .deliver(Delivery {
                recipients: vec![ann.id],
                content: m.into(),
            })
            .await
            .unwrap();
    }
    let tls = mailroom_net::load_or_create_tls(None, &dir.path().join("tls"), "localhost").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = Pop3Server::new(
        store.clone(),
        // The real throttle with millisecond delays, so failing tests stay fast.
        Authenticator::new(store.clone()).with_throttle(
            mailroom_auth::ThrottleConfig {
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(10),
                ..Default::default()
            },
            Arc::new(mailroom_store::SystemClock),
        ),
        Some(tls.clone()),
        config,
    );
    tokio::spawn(async move { server.serve(listener, false, std::future::pending()).await });
    let cert = dir.path().join("tls/self-signed.crt");
    Harness {
        _dir: dir,
        store,
        port,
        tls,
        cert,
    }
}

fn fast() -> Pop3Config {
    Pop3Config {
        ..Pop3Config::default()
    }
}

struct Client {
    io: BufReader<TcpStream>,
}

impl Client {
    async fn connect(h: &Harness) -> Client {
        let mut c = Client {
            io: BufReader::new(TcpStream::connect(("127.0.0.1", h.port)).await.unwrap()),
        };
        assert!(c.line().await.starts_with("+OK "));
        c
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), self.io.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "connection closed");
        assert!(line.ends_with("\r\n"), "{line:?}");
        line.truncate(line.len() - 2);
        line
    }

    async fn cmd(&mut self, line: &str) -> String {
        self.io
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .unwrap();
        self.line().await
    }

    /// A multi-line reply: the status line and the raw body bytes up to the terminator.
    async fn multi(&mut self, line: &str) -> (String, Vec<u8>) {
        let status = self.cmd(line).await;
        assert!(status.starts_with("+OK"), "{line}: {status}");
        let mut body = Vec::new();
        loop {
            let mut l = Vec::new();
            self.io.read_until(b'\n', &mut l).await.unwrap();
            if l == b".\r\n" {
                return (status, body);
            }
            body.extend_from_slice(&l);
        }
    }

    async fn login(&mut self, user: &str) {
        assert_eq!(
            self.cmd(&format!("USER {user}@example.test")).await,
            "+OK Send your password"
        );
        let reply = self.cmd("PASS pw").await;
        assert!(reply.starts_with("+OK Logged in"), "{reply}");
    }

    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(Duration::from_secs(10), self.io.read_to_end(&mut rest)).await,
            Ok(Ok(0))
        )
    }
}

fn unstuff(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in body.split_inclusive(|&b| b == b'\n') {
        out.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
    }
    out
}

#[tokio::test]
async fn authorization_state() {
    let h = harness(fast()).await;
    let mut c = Client::connect(&h).await;
    let (_, capa) = c.multi("CAPA").await;
    let capa = String::from_utf8(capa).unwrap();
    for cap in [
        "TOP",
        "UIDL",
        "USER",
        "SASL PLAIN LOGIN SCRAM-SHA-256",
        "RESP-CODES",
        "AUTH-RESP-CODE",
        "PIPELINING",
        "EXPIRE NEVER USER",
        "STLS",
        "UTF8",
        "IMPLEMENTATION Mailroom",
    ] {
        assert!(capa.lines().any(|l| l == cap), "{cap} missing from {capa}");
    }
    assert_eq!(
        c.cmd("STAT").await,
        "-ERR Not allowed before authentication"
    );
    assert_eq!(
        c.cmd("RETR 1").await,
        "-ERR Not allowed before authentication"
    );
    assert_eq!(c.cmd("PASS pw").await, "-ERR Send USER first");
    assert_eq!(c.cmd("FROB").await, "-ERR Unknown command");
    assert_eq!(c.cmd("USER").await, "-ERR USER needs a name");
    assert_eq!(c.cmd(&"X".repeat(5000)).await, "-ERR Line too long");
    assert_eq!(
        c.cmd("APOP ann 1234").await,
        "-ERR APOP is not supported; use USER/PASS or AUTH"
    );
    assert_eq!(c.cmd("UTF8").await, "+OK UTF8 enabled");
    c.cmd("USER ann@example.test").await;
    assert_eq!(
        c.cmd("PASS wrong").await,
        "-ERR [AUTH] Invalid user name or password"
    );
    c.cmd("USER nobody@example.test").await;
    assert_eq!(
        c.cmd("PASS pw").await,
        "-ERR [AUTH] Invalid user name or password",
        "same answer: no enumeration"
    );
    c.cmd("USER eve@example.test").await;
    assert_eq!(
        c.cmd("PASS pw").await,
        "-ERR [SYS/PERM] POP3 access is not enabled for this account"
    );
    c.login("ann").await;
    assert_eq!(
        c.cmd("USER ann").await,
        "-ERR Not allowed after authentication"
    );
    assert_eq!(c.cmd("QUIT").await, "+OK Bye, 0 messages removed");
    assert!(c.closed().await);
}

#[tokio::test]
async fn transaction_state_is_byte_exact() {
    let h = harness(fast()).await;
    let mut c = Client::connect(&h).await;
    c.login("ann").await;
    let total = M1.len() + M2.len() + M3.len();
    assert_eq!(c.cmd("STAT").await, format!("+OK 3 {total}"));
    let (status, list) = c.multi("LIST").await;
    assert_eq!(status, format!("+OK 3 messages ({total} octets)"));
    // M3 does not end in CRLF: it was CRLF-terminated by nothing; RETR adds the CRLF.
    assert_eq!(
        list,
        format!("1 {}\r\n2 {}\r\n3 {}\r\n", M1.len(), M2.len(), M3.len()).into_bytes()
    );
    assert_eq!(c.cmd("LIST 2").await, format!("+OK 2 {}", M2.len()));
    assert_eq!(c.cmd("LIST 9").await, "-ERR No such message");
    let (_, uidl) = c.multi("UIDL").await;
    let uidl = String::from_utf8(uidl).unwrap();
    assert_eq!(uidl.lines().count(), 3);
    let second_uidl = uidl
        .lines()
        .nth(1)
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .to_string();
    assert_eq!(c.cmd("UIDL 2").await, format!("+OK 2 {second_uidl}"));
    let (status, body) = c.multi("RETR 1").await;
    assert_eq!(status, format!("+OK {} octets", M1.len()));
    assert!(
        body.windows(13).any(|w| w == b"\r\n..leading d"),
        "dot-stuffed"
    );
    assert_eq!(unstuff(&body), M1);
    let (_, body) = c.multi("RETR 3").await;
    assert_eq!(
        body,
        b"From: c@example.org\r\nSubject: three\r\n\r\n..\r\n...\r\nend\r\n"
    );
    let (_, top) = c.multi("TOP 1 1").await;
    assert_eq!(
        top,
        b"From: a@example.org\r\nSubject: one\r\n\r\nfirst line\r\n"
    );
    let (_, top) = c.multi("TOP 2 0").await;
    assert_eq!(top, b"From: b@example.org\r\nSubject: two\r\n\r\n");
    // RFC 1939 §7: more lines than the body has is the whole message, however many.
    let (status, top) = c.multi("TOP 1 99999999999999").await;
    assert_eq!(status, "+OK Top of message follows");
    assert_eq!(unstuff(&top), M1);
    assert_eq!(c.cmd("DELE 2").await, "+OK Message 2 deleted");
    assert_eq!(c.cmd("DELE 2").await, "-ERR No such message");
    assert_eq!(c.cmd("RETR 2").await, "-ERR No such message");
    assert_eq!(
        c.cmd("STAT").await,
        format!("+OK 2 {}", M1.len() + M3.len())
    );
    let (_, list) = c.multi("LIST").await;
    assert_eq!(
        list,
        format!("1 {}\r\n3 {}\r\n", M1.len(), M3.len()).into_bytes()
    );
    assert_eq!(
        c.cmd("RSET").await,
        format!("+OK 3 messages ({total} octets)")
    );
    assert_eq!(c.cmd("DELE 2").await, "+OK Message 2 deleted");
    assert_eq!(c.cmd("NOOP").await, "+OK");
    assert_eq!(c.cmd("STLS").await, "-ERR Not allowed after authentication");
    assert_eq!(c.cmd("RETR 0").await, "-ERR invalid message number");
    assert_eq!(c.cmd("QUIT").await, "+OK Bye, 1 messages removed");

    // The next session sees two messages, with their UIDLs unchanged, and the deleted one
    // waits in the recovery area.
    let mut c = Client::connect(&h).await;
    c.login("ann").await;
    let (_, uidl2) = c.multi("UIDL").await;
    let uidl2 = String::from_utf8(uidl2).unwrap();
    assert_eq!(uidl2.lines().count(), 2);
    assert!(!uidl2.contains(&second_uidl));
    assert_eq!(uidl2.lines().next(), uidl.lines().next());
    let ann = h
        .store
        .account_by_address("ann@example.test")
        .await
        .unwrap()
        .unwrap();
    let recoverable = h
        .store
        .list_recoverable(ann.id, Default::default())
        .await
        .unwrap();
    assert_eq!(recoverable.len(), 1);
    assert_eq!(recoverable[0].subject.as_deref(), Some("two"));
}

#[tokio::test]
async fn retr_marks_seen_and_top_does_not() {
    let h = harness(fast()).await;
    let mut c = Client::connect(&h).await;
    c.login("ann").await;
    c.multi("RETR 1").await;
    c.multi("TOP 2 5").await;
    c.cmd("QUIT").await;
    let ann = h
        .store
        .account_by_address("ann@example.test")
        .await
        .unwrap()
        .unwrap();
    let inbox = h
        .store
        .mailbox(ann.id, &MailboxName::inbox())
        .await
        .unwrap()
        .unwrap();
    let list = h.store.message_list(inbox.id).await.unwrap();
    assert!(list[0].flags.system.contains(SystemFlags::SEEN));
    assert!(!list[1].flags.system.contains(SystemFlags::SEEN));
}

#[tokio::test]
async fn maildrop_is_locked_and_a_dropped_connection_removes_nothing() {
    let h = harness(fast()).await;
    let mut first = Client::connect(&h).await;
    first.login("ann").await;
    let mut second = Client::connect(&h).await;
    second.cmd("USER ann@example.test").await;
    assert_eq!(
        second.cmd("PASS pw").await,
        "-ERR [IN-USE] The maildrop is in use by another POP3 session"
    );
    // Another account is not affected.
    second.login("bob").await;
    second.cmd("QUIT").await;

    assert_eq!(first.cmd("DELE 1").await, "+OK Message 1 deleted");
    drop(first);
    // The lock is released when the server notices the drop; log in again once it has.
    let mut again = Client::connect(&h).await;
    let mut reply = String::new();
    for _ in 0..100 {
        again.cmd("USER ann@example.test").await;
        reply = again.cmd("PASS pw").await;
        if !reply.contains("IN-USE") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reply.starts_with("+OK Logged in, 3 messages"), "{reply}");
}

#[tokio::test]
async fn delete_after_download_policy_is_enforced() {
    let h = harness(fast()).await;
    let ann = h
        .store
        .account_by_address("ann@example.test")
        .await
        .unwrap()
        .unwrap();
    let update = AccountUpdate {
        pop3_policy: Some(Some(Pop3Policy::DeleteAfterDownload)),
        ..Default::default()
    };
    h.store.update_account(ann.id, update).await.unwrap();
    let mut c = Client::connect(&h).await;
    c.login("ann").await;
    let (_, capa) = c.multi("CAPA").await;
    assert!(
        String::from_utf8(capa)
            .unwrap()
            .lines()
            .any(|l| l == "EXPIRE 0")
    );
    c.multi("RETR 1").await;
    c.multi("TOP 2 1").await;
    assert_eq!(c.cmd("QUIT").await, "+OK Bye, 1 messages removed");
    let inbox = h
        .store
        .mailbox(ann.id, &MailboxName::inbox())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.store.message_list(inbox.id).await.unwrap().len(), 2);
    // Removed, not destroyed: it is recoverable.
    assert_eq!(
        h.store
            .list_recoverable(ann.id, Default::default())
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn sasl_plain_and_login() {
    let h = harness(fast()).await;
    let mut c = Client::connect(&h).await;
    let (_, mechs) = c.multi("AUTH").await;
    assert_eq!(mechs, b"PLAIN\r\nLOGIN\r\nSCRAM-SHA-256\r\n");
    // "\0ann@example.test\0pw"
    assert!(
        c.cmd("AUTH PLAIN AGFubkBleGFtcGxlLnRlc3QAcHc=")
            .await
            .starts_with("+OK Logged in")
    );
    c.cmd("QUIT").await;

    let mut c = Client::connect(&h).await;
    assert_eq!(c.cmd("AUTH PLAIN").await, "+ ");
    assert!(
        c.cmd("AGFubkBleGFtcGxlLnRlc3QAcHc=")
            .await
            .starts_with("+OK Logged in")
    );
    c.cmd("QUIT").await;

    let mut c = Client::connect(&h).await;
    assert_eq!(c.cmd("AUTH LOGIN").await, "+ VXNlcm5hbWU6");
    assert_eq!(c.cmd("Ym9iQGV4YW1wbGUudGVzdA==").await, "+ UGFzc3dvcmQ6");
    assert!(c.cmd("cHc=").await.starts_with("+OK Logged in"));
    c.cmd("QUIT").await;

    let mut c = Client::connect(&h).await;
    assert_eq!(c.cmd("AUTH PLAIN").await, "+ ");
    assert_eq!(c.cmd("*").await, "-ERR Authentication cancelled");
    assert_eq!(c.cmd("AUTH PLAIN !!!").await, "-ERR Invalid base64");
    assert_eq!(
        c.cmd("AUTH PLAIN AGFubgB4").await,
        "-ERR [AUTH] Invalid user name or password"
    );
    assert_eq!(
        c.cmd("AUTH CRAM-MD5").await,
        "-ERR Unsupported SASL mechanism"
    );
    assert_eq!(
        c.cmd("NOOP").await,
        "-ERR Not allowed before authentication"
    );
}

#[tokio::test]
async fn mail_arriving_during_a_session_waits_for_the_next() {
    let h = harness(fast()).await;
    let mut c = Client::connect(&h).await;
    c.login("ann").await;
    let ann = h
        .store
        .account_by_address("ann@example.test")
        .await
        .unwrap()
        .unwrap();
    h.store
        .deliver(Delivery {
            recipients: vec![ann.id],
            content: M2.into(),
        })
        .await
        .unwrap();
    assert!(c.cmd("STAT").await.starts_with("+OK 3 "));
    c.cmd("QUIT").await;
    let mut c = Client::connect(&h).await;
    c.login("ann").await;
    assert!(c.cmd("STAT").await.starts_with("+OK 4 "));
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let h = harness(fast()).await;
    let mut c = Client::connect(&h).await;
    c.io.get_mut()
        .write_all(b"USER ann@example.test\r\nPASS pw\r\nSTAT\r\nLIST 1\r\nNOOP\r\nQUIT\r\n")
        .await
        .unwrap();
    assert_eq!(c.line().await, "+OK Send your password");
    assert!(c.line().await.starts_with("+OK Logged in"));
    assert!(c.line().await.starts_with("+OK 3 "));
    assert_eq!(c.line().await, format!("+OK 1 {}", M1.len()));
    assert_eq!(c.line().await, "+OK");
    assert!(c.line().await.starts_with("+OK Bye"));
}

#[tokio::test]
async fn idle_sessions_are_logged_out() {
    let h = harness(Pop3Config {
        idle_timeout: Duration::from_millis(300),
        ..fast()
    })
    .await;
    let mut c = Client::connect(&h).await;
    c.login("ann").await;
    c.cmd("DELE 1").await;
    assert_eq!(c.line().await, "-ERR Autologout: idle for too long");
    assert!(c.closed().await);
    // Autologout does not enter the UPDATE state.
    let ann = h
        .store
        .account_by_address("ann@example.test")
        .await
        .unwrap()
        .unwrap();
    let inbox = h
        .store
        .mailbox(ann.id, &MailboxName::inbox())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(h.store.message_list(inbox.id).await.unwrap().len(), 3);
}

#[tokio::test]
async fn stls_discards_pipelined_plaintext() {
    let h = harness(fast()).await;
    let mut c = Client::connect(&h).await;
    // CAPA sent in the clear right behind STLS must never be answered.
    c.io.get_mut().write_all(b"STLS\r\nCAPA\r\n").await.unwrap();
    assert_eq!(c.line().await, "+OK Begin TLS negotiation");
    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(&h.cert).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, c.io.into_inner()).await.unwrap();
    let mut tls = BufReader::new(tls);
    tls.get_mut().write_all(b"NOOP\r\n").await.unwrap();
    let mut line = String::new();
    tls.read_line(&mut line).await.unwrap();
    assert_eq!(
        line, "-ERR Not allowed before authentication\r\n",
        "the plaintext CAPA was not run"
    );
    tls.get_mut().write_all(b"CAPA\r\n").await.unwrap();
    line.clear();
    tls.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("+OK"));
    let _ = &h.tls;
    let _: Arc<dyn Store> = h.store.clone();
}
