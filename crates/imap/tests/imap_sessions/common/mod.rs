//! A real server on 127.0.0.1:0 over a SqliteStore in a tempdir, and a tiny raw-IMAP client.

use mailroom_auth::{Authenticator, ThrottleConfig, hash_password, scram_credentials};
use mailroom_imap::{ImapConfig, ImapServer};
use mailroom_store::{Directory, NewAccount, Store};
use mailroom_store_sqlite::SqliteStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

pub const USER: &str = "ann@example.test";
pub const PASS: &str = "s3cret";
/// Generous: only reached when the server fails to answer.
pub const WAIT: Duration = Duration::from_secs(10);

/// The real throttle with millisecond delays: tests that fail logins on purpose stay fast.
pub fn test_throttle() -> ThrottleConfig {
    ThrottleConfig {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
        ..ThrottleConfig::default()
    }
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// Completes the server's shutdown future.
    pub fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn start() -> TestServer {
    start_with(ImapConfig::default()).await
}

pub async fn start_with(config: ImapConfig) -> TestServer {
    start_full_impl(config, None).await
}

/// With a self-signed certificate; `implicit` makes it a port-993 style listener.
pub async fn start_tls(implicit: bool) -> TestServer {
    start_full_impl(ImapConfig::default(), Some(implicit)).await
}

async fn start_full_impl(config: ImapConfig, tls: Option<bool>) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    store.add_domain("example.test").await.unwrap();
    let mut account = NewAccount::new(USER, hash_password(PASS).unwrap());
    account.scram_sha256 = Some(scram_credentials(PASS).unwrap());
    store.create_account(account).await.unwrap();
    let dynstore: Arc<dyn Store> = store.clone();
    let auth = Authenticator::new(store.clone())
        .with_throttle(test_throttle(), Arc::new(mailroom_store::SystemClock));
    let acceptor =
        tls.map(|_| mailroom_net::load_or_create_tls(None, dir.path(), "localhost").unwrap());
    let implicit = tls == Some(true);
    let server = ImapServer::new(dynstore, auth, acceptor, config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        server
            .serve(listener, implicit, async {
                let _ = stopped.await;
            })
            .await;
    });
    TestServer {
        addr,
        store,
        _dir: dir,
        stop: Some(stop),
    }
}

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct Client {
    stream: Box<dyn Io>,
    buf: Vec<u8>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> (Client, String) {
        let stream = TcpStream::connect(addr).await.unwrap();
        Client::over(Box::new(stream)).await
    }

    /// A client over a stream whose greeting was already read (after STARTTLS).
    pub fn raw(stream: Box<dyn Io>) -> Client {
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// A client over any stream (e.g. TLS); reads the greeting.
    pub async fn over(stream: Box<dyn Io>) -> (Client, String) {
        let mut client = Client {
            stream,
            buf: Vec::new(),
        };
        let greeting = client.line().await;
        (client, greeting)
    }

    /// Connected and logged in.
    pub async fn login(addr: SocketAddr) -> Client {
        let (mut c, _) = Client::connect(addr).await;
        let lines = c.cmd(&format!("l LOGIN {USER} {PASS}")).await;
        assert!(lines.last().unwrap().starts_with("l OK"), "{lines:?}");
        c
    }

    /// Logged in with the mailbox selected.
    pub async fn select(addr: SocketAddr, mailbox: &str) -> Client {
        let mut c = Client::login(addr).await;
        let lines = c.cmd(&format!("s SELECT {mailbox}")).await;
        assert!(lines.last().unwrap().starts_with("s OK"), "{lines:?}");
        c
    }

    pub async fn send(&mut self, raw: &str) {
        self.send_bytes(raw.as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).await.unwrap();
    }

    /// One line without CRLF; literals are returned inline with their bytes.
    pub async fn line(&mut self) -> String {
        tokio::time::timeout(WAIT, self.read_line())
            .await
            .expect("timed out waiting for the server")
    }

    /// A line if one comes within `wait`.
    pub async fn line_within(&mut self, wait: Duration) -> Option<String> {
        tokio::time::timeout(wait, self.read_line()).await.ok()
    }

    async fn read_line(&mut self) -> String {
        let mut out = Vec::new();
        loop {
            let raw = self.raw_line().await;
            out.extend_from_slice(&raw);
            // A line ending in {n} is followed by n octets of literal and more of the line.
            if let Some(n) = literal_len(&raw) {
                out.extend_from_slice(b"\r\n");
                let data = self.take(n).await;
                out.extend_from_slice(&data);
                continue;
            }
            return String::from_utf8_lossy(&out).into_owned();
        }
    }

    async fn raw_line(&mut self) -> Vec<u8> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..pos].to_vec();
                self.buf.drain(..pos + 2);
                return line;
            }
            self.fill().await;
        }
    }

    async fn take(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            self.fill().await;
        }
        self.buf.drain(..n).collect()
    }

    async fn fill(&mut self) {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// Sends `tagged` + CRLF and returns every line up to and including the tagged reply.
    pub async fn cmd(&mut self, tagged: &str) -> Vec<String> {
        let tag = tagged.split(' ').next().unwrap().to_string();
        self.send(&format!("{tagged}\r\n")).await;
        self.until_tagged(&tag).await
    }

    pub async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let line = self.line().await;
            let done = line.starts_with(&format!("{tag} "));
            lines.push(line);
            if done {
                return lines;
            }
        }
    }

    /// True when the server closed the connection (after reading what is left).
    pub async fn closed(&mut self) -> bool {
        let mut chunk = [0u8; 1024];
        loop {
            match tokio::time::timeout(WAIT, self.stream.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => continue,
                Err(_) => return false,
            }
        }
    }
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let rest = line.strip_suffix(b"}")?;
    let open = rest.iter().rposition(|&b| b == b'{')?;
    let digits = rest.get(open + 1..)?;
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A small message with the given subject.
pub fn message(subject: &str, body: &str) -> String {
    format!(
        "From: Ann Example <ann@example.test>\r\nTo: bob@example.test\r\nSubject: {subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <{subject}@example.test>\r\n\r\n{body}\r\n"
    )
}

/// APPENDs with a synchronizing literal, waiting for the continuation.
pub async fn append(
    c: &mut Client,
    tag: &str,
    mailbox: &str,
    flags: &str,
    msg: &str,
) -> Vec<String> {
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!("{flags} ")
    };
    c.send(&format!(
        "{tag} APPEND {mailbox} {flags}{{{}}}\r\n",
        msg.len()
    ))
    .await;
    let cont = c.line().await;
    assert!(cont.starts_with("+ "), "{cont}");
    c.send(&format!("{msg}\r\n")).await;
    c.until_tagged(tag).await
}
