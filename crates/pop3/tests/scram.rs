//! AUTH SCRAM-SHA-256 (RFC 5802, RFC 7677; RFC 5034 framing) and app passwords over a real
//! POP3 connection.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use mailroom_auth::{
    Authenticator, ThrottleConfig, app_password, hash_password, scram, scram_credentials,
};
use mailroom_pop3::{Pop3Config, Pop3Server};
use mailroom_store::{AccountId, Directory, NewAccount, SystemClock};
use mailroom_store_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const USER: &str = "ann@example.test";
const PASS: &str = "pencil";

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    ann: AccountId,
    port: u16,
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    store.add_domain("example.test").await.unwrap();
    let mut new = NewAccount::new(USER, hash_password(PASS).unwrap());
    new.scram_sha256 = Some(scram_credentials(PASS).unwrap());
    let ann = store.create_account(new).await.unwrap().id;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let throttle = ThrottleConfig {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(10),
        ..ThrottleConfig::default()
    };
    let auth = Authenticator::new(store.clone()).with_throttle(throttle, Arc::new(SystemClock));
    let config = Pop3Config {
        ..Pop3Config::default()
    };
    let server = Pop3Server::new(store.clone(), auth, None, config);
    tokio::spawn(async move { server.serve(listener, false, std::future::pending()).await });
    Harness {
        _dir: dir,
        store,
        ann,
        port,
    }
}

struct Client(BufReader<TcpStream>);

impl Client {
    async fn connect(h: &Harness) -> Client {
        let tcp = TcpStream::connect(("127.0.0.1", h.port)).await.unwrap();
        let mut c = Client(BufReader::new(tcp));
        assert!(c.line().await.starts_with("+OK "));
        c
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.0.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        line.trim_end_matches("\r\n").to_string()
    }

    async fn cmd(&mut self, line: &str) -> String {
        let raw = format!("{line}\r\n");
        self.0.get_mut().write_all(raw.as_bytes()).await.unwrap();
        self.line().await
    }
}

fn unb64(line: &str) -> String {
    let data = line.strip_prefix("+ ").expect("a challenge");
    String::from_utf8(B64.decode(data).unwrap()).unwrap()
}

/// A whole exchange; returns the final reply.
async fn scram(c: &mut Client, user: &str, password: &str, initial: bool) -> String {
    let bare = format!("n={user},r=fyko+d2lbbFgONRv9qkxdawL");
    let first = B64.encode(format!("n,,{bare}"));
    let challenge = if initial {
        c.cmd(&format!("AUTH SCRAM-SHA-256 {first}")).await
    } else {
        assert_eq!(c.cmd("AUTH SCRAM-SHA-256").await, "+ ");
        c.cmd(&first).await
    };
    let server_first = unb64(&challenge);
    let (client_final, server_final) =
        scram::client_final(password, "n,,", &bare, &server_first).unwrap();
    let reply = c.cmd(&B64.encode(client_final)).await;
    if !reply.starts_with("+ ") {
        return reply;
    }
    assert_eq!(unb64(&reply), server_final);
    c.cmd("").await
}

#[tokio::test]
async fn scram_sha256_logs_in() {
    let h = harness().await;
    let mut c = Client::connect(&h).await;
    c.0.get_mut().write_all(b"CAPA\r\n").await.unwrap();
    let mut capa = Vec::new();
    loop {
        let line = c.line().await;
        if line == "." {
            break;
        }
        capa.push(line);
    }
    assert!(
        capa.contains(&"SASL PLAIN LOGIN SCRAM-SHA-256".to_string()),
        "{capa:?}"
    );
    let reply = scram(&mut c, USER, PASS, true).await;
    assert!(reply.starts_with("+OK Logged in"), "{reply}");
    c.cmd("QUIT").await;

    let mut c = Client::connect(&h).await;
    let reply = scram(&mut c, USER, PASS, false).await;
    assert!(reply.starts_with("+OK Logged in"), "{reply}");
}

#[tokio::test]
async fn scram_failures_look_like_wrong_passwords() {
    let h = harness().await;
    let mut c = Client::connect(&h).await;
    for (user, password) in [(USER, "wrong"), ("who@example.test", PASS)] {
        assert_eq!(
            scram(&mut c, user, password, true).await,
            "-ERR [AUTH] Invalid user name or password"
        );
    }
    let cb = B64.encode(format!("p=tls-exporter,,n={USER},r=abc"));
    assert_eq!(
        c.cmd(&format!("AUTH SCRAM-SHA-256 {cb}")).await,
        "-ERR [AUTH] Authentication failed: channel binding is not supported"
    );
    assert_eq!(c.cmd("AUTH SCRAM-SHA-256").await, "+ ");
    assert_eq!(c.cmd("*").await, "-ERR Authentication cancelled");
}

#[tokio::test]
async fn app_passwords_log_in_until_revoked() {
    let h = harness().await;
    let (secret, stored) = app_password::generate().unwrap();
    h.store
        .add_app_password(h.ann, "phone", &stored)
        .await
        .unwrap();
    let mut c = Client::connect(&h).await;
    c.cmd(&format!("USER {USER}")).await;
    let reply = c.cmd(&format!("PASS {secret}")).await;
    assert!(reply.starts_with("+OK Logged in"), "{reply}");
    c.cmd("QUIT").await;
    h.store.remove_app_password(h.ann, "phone").await.unwrap();
    let mut c = Client::connect(&h).await;
    c.cmd(&format!("USER {USER}")).await;
    assert_eq!(
        c.cmd(&format!("PASS {secret}")).await,
        "-ERR [AUTH] Invalid user name or password"
    );
}
