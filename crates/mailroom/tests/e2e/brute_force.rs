//! A password-guessing attack against the real server: 1,000 wrong passwords for one account
//! from 127.0.0.2 over many concurrent IMAP connections. The attacker's address is locked out
//! (then even the right password fails from it), while the real user logs in from 127.0.0.1
//! throughout. Outcomes only: nothing here depends on how long anything takes.

use crate::support;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::Server;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

const USER: &str = "victim@example.test";
const PASS: &str = "correct horse";
const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const GUESSES: usize = 1000;
const CONNECTIONS: usize = 8;

/// Quick lockout and millisecond delays so the attack runs in seconds.
const CONFIG: &str = "[auth]\nfailure_delay_ms = 1\nfree_failures = 2\nbase_delay_ms = 1\n\
                      max_delay_ms = 5\nlockout_address_failures = 20\n\
                      lockout_account_failures = 0\nlockout_secs = 900\n\
                      [imap]\nlisten = [\"127.0.0.1:0\"]\n";

struct Imap {
    io: BufReader<TcpStream>,
}

impl Imap {
    /// Connects from `from`; None if the server refused (a BYE greeting or a reset).
    async fn connect(server: SocketAddr, from: Ipv4Addr) -> Option<Imap> {
        let socket = TcpSocket::new_v4().ok()?;
        socket.bind(SocketAddr::from((from, 0))).ok()?;
        let tcp = socket.connect(server).await.ok()?;
        let mut imap = Imap {
            io: BufReader::new(tcp),
        };
        let greeting = imap.line().await?;
        greeting.starts_with("* OK").then_some(imap)
    }

    async fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        let read = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            self.io.read_line(&mut line),
        );
        match read.await {
            Ok(Ok(n)) if n > 0 => Some(line.trim_end().to_string()),
            _ => None,
        }
    }

    /// The tagged answer to a LOGIN; None if the connection ended first.
    async fn login(&mut self, tag: &str, password: &str) -> Option<String> {
        let command = format!("{tag} LOGIN {USER} \"{password}\"\r\n");
        self.io.get_mut().write_all(command.as_bytes()).await.ok()?;
        loop {
            let line = self.line().await?;
            if line.starts_with(&format!("{tag} ")) {
                return Some(line);
            }
        }
    }
}

/// One attacking connection after another until the shared count reaches `GUESSES`; returns
/// every tagged answer seen.
async fn attacker(server: SocketAddr, sent: Arc<AtomicUsize>) -> Vec<String> {
    let mut answers = Vec::new();
    let mut refused = 0;
    while sent.load(Ordering::Relaxed) < GUESSES {
        let Some(mut imap) = Imap::connect(server, ATTACKER).await else {
            // A refused connection (a per-address limit, say) is a failure too; the bound
            // keeps a server that refuses everything from spinning the test forever.
            refused += 1;
            assert!(
                refused < 10 * GUESSES,
                "the server refuses every connection"
            );
            tokio::task::yield_now().await;
            continue;
        };
        // The session ends after 5 failures (BYE): guess until it does.
        for i in 0.. {
            let n = sent.fetch_add(1, Ordering::Relaxed);
            if n >= GUESSES {
                break;
            }
            match imap.login(&format!("a{i}"), &format!("guess {n}")).await {
                Some(answer) => answers.push(answer),
                None => break,
            }
        }
    }
    answers
}

async fn user_logs_in(server: SocketAddr) -> String {
    let mut imap = Imap::connect(server, Ipv4Addr::LOCALHOST)
        .await
        .expect("the user connects");
    imap.login("u", PASS).await.expect("an answer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn guessing_from_one_address_is_locked_out_without_locking_out_the_user() {
    let server = Server::start(CONFIG, |admin| admin.account(USER, PASS));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port("imap")));

    let sent = Arc::new(AtomicUsize::new(0));
    let attackers: Vec<_> = (0..CONNECTIONS)
        .map(|_| tokio::spawn(attacker(addr, sent.clone())))
        .collect();
    // The real user, from another address, once the attacker is locked out (its lockout
    // comes after 20 of the 1,000 guesses; polled, never timed).
    while sent.load(Ordering::Relaxed) < GUESSES / 2 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let during = user_logs_in(addr).await;
    let mut answers = Vec::new();
    for task in attackers {
        answers.extend(task.await.expect("attacker task"));
    }
    assert!(
        during.starts_with("u OK"),
        "user during the attack: {during}"
    );
    assert!(
        answers.len() >= GUESSES / 2,
        "only {} answers",
        answers.len()
    );
    for answer in &answers {
        assert!(
            answer.ends_with("NO [AUTHENTICATIONFAILED] invalid credentials"),
            "{answer}"
        );
    }

    // Locked out: the right password from the attacker's address fails the same way.
    let mut imap = Imap::connect(addr, ATTACKER)
        .await
        .expect("the attacker connects");
    assert_eq!(
        imap.login("r", PASS).await.as_deref(),
        Some("r NO [AUTHENTICATIONFAILED] invalid credentials")
    );
    // The user is not.
    let after = user_logs_in(addr).await;
    assert!(after.starts_with("u OK"), "user after the attack: {after}");
}
