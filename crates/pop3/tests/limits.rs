//! Connection limits per address, the command rate and the login deadline.

use mailroom_auth::{Authenticator, hash_password};
use mailroom_net::RateConfig;
use mailroom_pop3::{Pop3Config, Pop3Server};
use mailroom_store::{Directory, NewAccount};
use mailroom_store_sqlite::SqliteStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A server with the account ann@example.test / pw; returns its port.
async fn start(config: Pop3Config) -> (tempfile::TempDir, u16) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("data")).unwrap());
    store.add_domain("example.test").await.unwrap();
    store
        .create_account(NewAccount::new(
            "ann@example.test",
            hash_password("pw").unwrap(),
        ))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = Pop3Server::new(store.clone(), Authenticator::new(store), None, config);
    tokio::spawn(async move { server.serve(listener, false, std::future::pending()).await });
    (dir, port)
}

struct Client {
    io: BufReader<TcpStream>,
}

impl Client {
    async fn connect(port: u16) -> (Client, String) {
        let mut c = Client {
            io: BufReader::new(TcpStream::connect(("127.0.0.1", port)).await.unwrap()),
        };
        let greeting = c.line().await;
        (c, greeting)
    }

    /// A line without CRLF; "" once the server closed.
    async fn line(&mut self) -> String {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), self.io.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        line.trim_end_matches("\r\n").to_string()
    }

    async fn send(&mut self, text: &str) {
        self.io.get_mut().write_all(text.as_bytes()).await.unwrap();
    }
}

#[tokio::test]
async fn the_51st_connection_not_logged_in_from_one_address_is_refused() {
    let (_dir, port) = start(Pop3Config::default()).await;
    let mut clients = Vec::new();
    for _ in 0..50 {
        let (c, greeting) = Client::connect(port).await;
        assert!(greeting.starts_with("+OK "), "{greeting}");
        clients.push(c);
    }
    let (mut refused, greeting) = Client::connect(port).await;
    assert_eq!(
        greeting,
        "-ERR [SYS/TEMP] Too many connections from your address"
    );
    assert_eq!(refused.line().await, "", "closed");
    clients[0].send("CAPA\r\n").await;
    assert!(clients[0].line().await.starts_with("+OK"));
}

#[tokio::test]
async fn a_client_hammering_past_the_rate_is_closed() {
    let config = Pop3Config {
        commands: RateConfig {
            per_second: 1,
            burst: 2,
            max_throttled: Duration::ZERO,
        },
        ..Pop3Config::default()
    };
    let (_dir, port) = start(config).await;
    let (mut c, _) = Client::connect(port).await;
    c.send("USER ann@example.test\r\nUSER ann@example.test\r\nUSER ann@example.test\r\n")
        .await;
    assert!(c.line().await.starts_with("+OK"));
    assert!(c.line().await.starts_with("+OK"));
    assert_eq!(c.line().await, "-ERR Too many commands, slow down");
    assert_eq!(c.line().await, "", "closed");
}

#[tokio::test]
async fn busy_clients_must_still_log_in_in_time() {
    let config = Pop3Config {
        auth_timeout: Duration::from_millis(300),
        ..Pop3Config::default()
    };
    let (_dir, port) = start(config).await;
    let (mut c, _) = Client::connect(port).await;
    let mut answers = 0;
    loop {
        c.send("USER ann@example.test\r\n").await;
        let line = c.line().await;
        if line.starts_with("-ERR") {
            assert_eq!(line, "-ERR Autologout: no successful login in time");
            break;
        }
        assert!(line.starts_with("+OK"), "{line}");
        answers += 1;
        assert!(answers < 1_000_000, "never closed");
    }
    assert_eq!(c.line().await, "", "closed");
}

/// The same error budget as IMAP's and SMTP's: a stream of unknown commands ends the session.
#[tokio::test]
async fn a_stream_of_bad_commands_ends_the_session() {
    let (_dir, port) = start(Pop3Config {
        max_bad_commands: 3,
        ..Pop3Config::default()
    })
    .await;
    let (mut c, _) = Client::connect(port).await;
    c.send(&"FROB\r\n".repeat(1000)).await;
    for _ in 0..3 {
        assert_eq!(c.line().await, "-ERR Unknown command");
    }
    assert_eq!(
        c.line().await,
        "-ERR Too many invalid commands, closing connection"
    );
    assert_eq!(c.line().await, "", "closed");
}
