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

impl Imap {
    /// Sends `tag command` and returns the tagged answer.
    async fn command(&mut self, tag: &str, command: &str) -> Option<String> {
        let line = format!("{tag} {command}\r\n");
        self.io.get_mut().write_all(line.as_bytes()).await.ok()?;
        loop {
            let line = self.line().await?;
            if line.starts_with(&format!("{tag} ")) {
                return Some(line);
            }
        }
    }
}

const LOCKED: &str = "NO [AUTHENTICATIONFAILED] invalid credentials";

/// Three failures lock an address; the lockout is in the store, so a restart (here a
/// SIGKILL, the worst kind) does not lift it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_outlives_a_restart() {
    let config = "[auth]\nfailure_delay_ms = 1\nbase_delay_ms = 1\nmax_delay_ms = 1\n\
                  lockout_address_failures = 3\n[imap]\nlisten = [\"127.0.0.1:0\"]\n";
    let mut server = Server::start(config, |admin| admin.account(USER, PASS));
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port("imap")));
    for i in 0..3 {
        let mut imap = Imap::connect(addr, ATTACKER).await.expect("connects");
        let answer = imap.login(&format!("a{i}"), "wrong").await;
        assert_eq!(answer, Some(format!("a{i} {LOCKED}")));
    }
    server.kill9_and_restart();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port("imap")));
    let mut imap = Imap::connect(addr, ATTACKER).await.expect("connects");
    assert_eq!(
        imap.login("r", PASS).await,
        Some(format!("r {LOCKED}")),
        "still locked after the restart"
    );
    assert!(user_logs_in(addr).await.starts_with("u OK"));
}

/// A webmail on 127.0.0.1 in `trusted_networks` names each user's address in IMAP ID and
/// SMTP XCLIENT: a guesser behind it is locked out by that address, the webmail itself and
/// everyone else behind it are not. Elsewhere ID is only logged and XCLIENT refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_its_clients() {
    let config = "[auth]\nfailure_delay_ms = 1\nbase_delay_ms = 1\nmax_delay_ms = 1\n\
                  lockout_address_failures = 3\ntrusted_networks = [\"127.0.0.1\"]\n\
                  allow_plaintext = true\n\
                  [imap]\nlisten = [\"127.0.0.1:0\"]\n[submission]\nlisten = [\"127.0.0.1:0\"]\n";
    let server = Server::start(config, |admin| admin.account(USER, PASS));
    let imap_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port("imap")));
    let behind = |client: &'static str| async move {
        let mut imap = Imap::connect(imap_addr, Ipv4Addr::LOCALHOST)
            .await
            .expect("the proxy connects");
        let id = format!("ID (\"name\" \"webmail\" \"x-originating-ip\" \"{client}\")");
        assert!(
            imap.command("i", &id)
                .await
                .expect("ID")
                .starts_with("i OK")
        );
        imap
    };
    for i in 0..3 {
        let mut imap = behind("192.0.2.7").await;
        assert_eq!(
            imap.login(&format!("g{i}"), "guess").await,
            Some(format!("g{i} {LOCKED}"))
        );
    }
    let mut imap = behind("192.0.2.7").await;
    assert_eq!(
        imap.login("r", PASS).await,
        Some(format!("r {LOCKED}")),
        "the guesser is locked"
    );
    let mut imap = behind("192.0.2.8").await;
    assert!(
        imap.login("o", PASS)
            .await
            .expect("answer")
            .starts_with("o OK"),
        "others are not"
    );
    // The proxy's own failures (no ID) never lock the proxy.
    for i in 0..5 {
        let mut imap = Imap::connect(imap_addr, Ipv4Addr::LOCALHOST)
            .await
            .expect("connects");
        assert_eq!(
            imap.login(&format!("p{i}"), "typo").await,
            Some(format!("p{i} {LOCKED}"))
        );
    }
    assert!(user_logs_in(imap_addr).await.starts_with("u OK"));
    // From an address that is not trusted, ID names nobody.
    let mut imap = Imap::connect(imap_addr, ATTACKER).await.expect("connects");
    let id = "ID (\"x-originating-ip\" \"192.0.2.99\")";
    assert!(imap.command("i", id).await.expect("ID").starts_with("i OK"));
    assert!(
        imap.login("n", PASS)
            .await
            .expect("answer")
            .starts_with("n OK")
    );

    // Submission: XCLIENT from the proxy, refused from anyone else.
    let smtp_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port("submission")));
    // base64 of "\0victim@example.test\0correct horse" (AUTH PLAIN, RFC 4616).
    let plain = "AHZpY3RpbUBleGFtcGxlLnRlc3QAY29ycmVjdCBob3JzZQ==";
    let mut smtp = Smtp::connect(smtp_addr, Ipv4Addr::LOCALHOST).await;
    let ehlo = smtp.command("EHLO webmail.example.test").await;
    assert!(ehlo.contains("XCLIENT ADDR"), "{ehlo}");
    assert!(
        smtp.command("XCLIENT ADDR=192.0.2.7 HELO=laptop")
            .await
            .starts_with("220 ")
    );
    smtp.command("EHLO webmail.example.test").await;
    let auth = smtp.command(&format!("AUTH PLAIN {plain}")).await;
    assert!(
        auth.starts_with("535 "),
        "the guesser's address is locked: {auth}"
    );
    let mut smtp = Smtp::connect(smtp_addr, Ipv4Addr::LOCALHOST).await;
    smtp.command("EHLO webmail.example.test").await;
    assert!(
        smtp.command("XCLIENT ADDR=192.0.2.8")
            .await
            .starts_with("220 ")
    );
    smtp.command("EHLO webmail.example.test").await;
    let auth = smtp.command(&format!("AUTH PLAIN {plain}")).await;
    assert!(auth.starts_with("235 "), "{auth}");
    let mut smtp = Smtp::connect(smtp_addr, ATTACKER).await;
    let ehlo = smtp.command("EHLO somewhere.example").await;
    assert!(!ehlo.contains("XCLIENT"), "{ehlo}");
    let refused = smtp.command("XCLIENT ADDR=192.0.2.8").await;
    assert!(refused.starts_with("550 5.7.0"), "{refused}");
}

struct Smtp {
    io: BufReader<TcpStream>,
}

impl Smtp {
    async fn connect(server: SocketAddr, from: Ipv4Addr) -> Smtp {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind(SocketAddr::from((from, 0))).expect("bind");
        let tcp = socket.connect(server).await.expect("connect");
        let mut smtp = Smtp {
            io: BufReader::new(tcp),
        };
        let greeting = smtp.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        smtp
    }

    /// A whole reply, its lines joined with newlines.
    async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(
                std::time::Duration::from_secs(30),
                self.io.read_line(&mut line),
            );
            assert!(
                matches!(read.await, Ok(Ok(n)) if n > 0),
                "the server answers"
            );
            let line = line.trim_end().to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    async fn command(&mut self, line: &str) -> String {
        self.io
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .expect("write");
        self.reply().await
    }
}
