//! A real server on 127.0.0.1:0 over a SqliteStore in a temporary directory, and a line client.

use mailroom_smtp::{Mode, SmtpConfig, SmtpServer, Timeouts};
use mailroom_store::{
    AccountUpdate, Delivery, Directory, MailboxName, Mailboxes, Messages, NewAccount,
};
use mailroom_store_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Harness {
    _dir: tempfile::TempDir,
    /// The store's directory.
    pub data: std::path::PathBuf,
    pub store: Arc<SqliteStore>,
    pub port: u16,
    pub cert: std::path::PathBuf,
}

pub fn config() -> SmtpConfig {
    SmtpConfig {
        hostname: "mx.example.test".into(),
        max_message_size: 4000,
        max_recipients: 4,
        timeouts: Timeouts {
            command: Duration::from_secs(20),
            data: Duration::from_secs(20),
            write: Duration::from_secs(20),
        },
        ..SmtpConfig::default()
    }
}

/// Domain example.test with ann, bob, tight (300-byte quota, empty) and full (over quota), and
/// the alias info@ → bob.
pub async fn harness(mode: Mode, config: SmtpConfig) -> Harness {
    harness_with(mode, config, |s, _| s).await
}

/// The password of every account in the harness.
pub const PASSWORD: &str = "s3cret";

/// As `harness`, with a chance to add to the server before it starts.
pub async fn harness_with(
    mode: Mode,
    config: SmtpConfig,
    setup: impl FnOnce(SmtpServer, Arc<SqliteStore>) -> SmtpServer,
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("data")).unwrap());
    store.add_domain("example.test").await.unwrap();
    let hash = mailroom_auth::hash_password(PASSWORD).unwrap();
    for user in ["ann", "bob", "tight", "full"] {
        let mut new = NewAccount::new(format!("{user}@example.test"), hash.clone());
        if user == "tight" {
            new.quota_bytes = Some(300);
        }
        store.create_account(new).await.unwrap();
    }
    let bob = account(&store, "bob").await;
    store.add_alias("info@example.test", bob).await.unwrap();
    let full = account(&store, "full").await;
    store
        .deliver(Delivery {
            recipients: vec![full],
            content: b"Subject: x\r\n\r\nfilling\r\n"[..].into(),
        })
        .await
        .unwrap();
    let update = AccountUpdate {
        quota_bytes: Some(Some(10)),
        ..AccountUpdate::default()
    };
    store.update_account(full, update).await.unwrap();
    let tls = mailroom_net::load_or_create_tls(None, &dir.path().join("tls"), "localhost").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = setup(
        SmtpServer::new(store.clone(), Some(tls), config, mode),
        store.clone(),
    );
    tokio::spawn(async move { server.serve(listener, false, std::future::pending()).await });
    Harness {
        cert: dir.path().join("tls/self-signed.crt"),
        data: dir.path().join("data"),
        _dir: dir,
        store,
        port,
    }
}

pub async fn account(store: &SqliteStore, user: &str) -> mailroom_store::AccountId {
    store
        .account_by_address(&format!("{user}@example.test"))
        .await
        .unwrap()
        .unwrap()
        .id
}

/// The messages in a user's INBOX, oldest first.
pub async fn inbox(store: &SqliteStore, user: &str) -> Vec<Vec<u8>> {
    let id = account(store, user).await;
    let mailbox = store
        .mailbox(id, &MailboxName::inbox())
        .await
        .unwrap()
        .unwrap();
    let mut out = Vec::new();
    for entry in store.message_entries(mailbox.id).await.unwrap() {
        out.push(store.read_blob(&entry.blob).await.unwrap().to_vec());
    }
    out
}

/// Splits a delivered message into its two trace fields and the rest.
pub fn strip_trace(message: &[u8]) -> (String, &[u8]) {
    let text = String::from_utf8_lossy(message);
    assert!(text.starts_with("Return-Path: <"), "{text}");
    let received = text.find("\r\nReceived: ").unwrap() + 2;
    // The Received field ends at the first line that doesn't start with a tab.
    let mut end = received;
    loop {
        let next = text[end..].find("\r\n").unwrap() + end + 2;
        end = next;
        if !text[end..].starts_with('\t') {
            break;
        }
    }
    (text[..end].to_string(), &message[end..])
}

/// A rustls client that trusts the harness's self-signed certificate.
pub fn tls_connector(cert: &std::path::Path) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

pub struct Client<S> {
    pub io: BufReader<S>,
}

impl Client<TcpStream> {
    pub async fn connect(h: &Harness) -> Self {
        let mut c = Client {
            io: BufReader::new(TcpStream::connect(("127.0.0.1", h.port)).await.unwrap()),
        };
        let greeting = c.reply().await;
        assert!(greeting.starts_with("220 mx.example.test "), "{greeting}");
        c
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub async fn line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(Duration::from_secs(10), self.io.read_line(&mut line))
            .await
            .expect("reply timed out")
            .unwrap();
        assert!(n > 0, "connection closed");
        assert!(line.ends_with("\r\n"), "{line:?}");
        line.truncate(line.len() - 2);
        line
    }

    /// One reply; the lines of a multi-line reply are joined with '\n'.
    pub async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.unwrap();
    }

    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    pub async fn ok(&mut self, line: &str, code: &str) {
        let reply = self.cmd(line).await;
        assert!(reply.starts_with(code), "{line} -> {reply}");
    }

    /// Reads one reply and checks its start.
    pub async fn expect(&mut self, code: &str) {
        let reply = self.reply().await;
        assert!(reply.starts_with(code), "expected {code}, got {reply}");
    }

    /// One transaction after EHLO: MAIL FROM:<from> and RCPT TO each of `to` (each accepted
    /// with 250), DATA (354), then `message` (dot-stuffed, with its terminator); the reply to it
    /// must start with `reply`.
    pub async fn transaction(&mut self, from: &str, to: &[&str], message: &[u8], reply: &str) {
        self.ok(&format!("MAIL FROM:<{from}>"), "250").await;
        for rcpt in to {
            self.ok(&format!("RCPT TO:<{rcpt}>"), "250").await;
        }
        self.ok("DATA", "354").await;
        self.send(message).await;
        self.expect(reply).await;
    }

    /// True once the server has closed the connection.
    pub async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(Duration::from_secs(10), self.io.read_to_end(&mut rest)).await,
            Ok(Ok(_))
        )
    }
}
