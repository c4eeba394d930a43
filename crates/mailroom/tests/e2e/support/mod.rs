//! A real `mailroom serve` for end-to-end tests: its own data directory and config, the
//! listeners on ports the OS picks (read back from the server's log), admin commands run
//! through the real binary.

pub mod dns;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct Server {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    child: Child,
    /// "pop3" / "pop3s" / "imap" / ... → port.
    pub ports: HashMap<String, u16>,
}

impl Server {
    /// Writes a config with `listeners` (TOML sections, addresses with port 0), prepares the
    /// store with `setup`, then starts the server and waits until it runs.
    pub fn start(listeners: &str, setup: impl FnOnce(&Admin)) -> Server {
        Server::start_in(tempfile::tempdir().expect("temp dir"), listeners, setup)
    }

    /// `start` in a directory the test prepared (its `data` may be a mount of its own).
    pub fn start_in(dir: tempfile::TempDir, listeners: &str, setup: impl FnOnce(&Admin)) -> Server {
        let config = dir.path().join("mailroom.toml");
        std::fs::write(&config, format!("data_dir = \"data\"\n{listeners}")).expect("config");
        setup(&Admin {
            config: config.clone(),
        });
        let (child, ports) = spawn_serve(&config);
        Server {
            dir,
            config,
            child,
            ports,
        }
    }

    pub fn port(&self, name: &str) -> u16 {
        *self
            .ports
            .get(name)
            .unwrap_or_else(|| panic!("no {name} listener in {:?}", self.ports))
    }

    pub fn admin(&self) -> Admin {
        Admin {
            config: self.config.clone(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// SIGKILLs the server: no shutdown, no flush, sockets reset. Returns once it is gone.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGKILLs the server if it runs, then starts it again on the same data directory and
    /// config and waits until it runs. The listeners get new ports (read back into `ports`).
    pub fn kill9_and_restart(&mut self) {
        self.kill9();
        let (child, ports) = spawn_serve(&self.config);
        self.child = child;
        self.ports = ports;
    }
}

/// Starts `mailroom serve` with `config` and waits for "mailroom is running"; returns the
/// process and its listeners' ports.
fn spawn_serve(config: &Path) -> (Child, HashMap<String, u16>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stderr(Stdio::piped())
        .env("MAILROOM_LOG", "info")
        .env("NO_COLOR", "1")
        .spawn()
        .expect("spawn server");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // After start-up nobody listens: the log goes to the test's output instead, shown
        // when the test fails (spawned threads share the test's output capture).
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Err(unheard) = tx.send(line) {
                eprintln!("server: {}", unheard.0);
            }
        }
    });
    let mut ports = HashMap::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server starts");
        let plain = strip_ansi(&line);
        if let Some((proto, port)) = listening(&plain) {
            ports.insert(proto, port);
        }
        if plain.contains("mailroom is running") {
            break;
        }
    }
    (child, ports)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `pop3 listening addr=127.0.0.1:4321 tls=true` → ("pop3s", 4321).
fn listening(line: &str) -> Option<(String, u16)> {
    let (_, after) = line.split_once(" listening ")?;
    let proto = line[..line.find(" listening ")?]
        .rsplit(' ')
        .next()?
        .to_string();
    let addr = after
        .split_whitespace()
        .find_map(|w| w.strip_prefix("addr="))?;
    let port = addr.rsplit(':').next()?.parse().ok()?;
    let tls = after.contains("tls=true");
    Some((if tls { format!("{proto}s") } else { proto }, port))
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub struct Admin {
    config: PathBuf,
}

impl Admin {
    pub fn at(config: PathBuf) -> Self {
        Admin { config }
    }

    pub fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // A command that never reads its input may be gone before it is written.
        if let Err(e) = child.stdin.take().expect("stdin").write_all(stdin) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write: {e}");
        }
        child.wait_with_output().expect("wait")
    }

    pub fn ok(&self, args: &[&str], stdin: &[u8]) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds the domain of `address` if needed and the account with `password`.
    pub fn account(&self, address: &str, password: &str) {
        let domain = address.rsplit('@').next().expect("address");
        let _ = self.run(&["domain", "add", domain], b"");
        self.ok(
            &["account", "add", address, "--password-stdin"],
            format!("{password}\n").as_bytes(),
        );
    }

    pub fn deliver(&self, to: &str, message: &[u8]) {
        self.ok(&["deliver", to], message);
    }
}

/// Runs an external client program; panics with its output if it can't be started.
pub fn run_tool(program: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("{program} is needed for this test (scripts/test installs it): {e}")
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin)
        .expect("write");
    child.wait_with_output().expect("wait")
}

/// A CRLF message with a unique subject.
pub fn message(subject: &str, body: &str) -> Vec<u8> {
    format!("From: sender@example.org\r\nTo: user@example.test\r\nSubject: {subject}\r\nMessage-ID: <{}@example.org>\r\n\r\n{body}\r\n", subject.replace(' ', "."))
        .into_bytes()
}

/// (folder, uid-ordered list of (content, flags, internal date, UIDL)) of an account.
pub type Picture = std::collections::BTreeMap<String, Vec<(Vec<u8>, Vec<String>, i64, String)>>;

/// Everything a user would notice about an account's mail, read straight from the store.
pub fn picture(data: &Path, address: &str) -> Picture {
    use mailroom_store::{Directory, Mailboxes, Messages};
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = mailroom_store_sqlite::SqliteStore::open(data).expect("open");
        let account = store
            .account_by_address(address)
            .await
            .unwrap()
            .expect("account");
        let mut out = Picture::new();
        for mb in store.list_mailboxes(account.id).await.unwrap() {
            let entries = store.message_entries(mb.id).await.unwrap();
            let uids: Vec<u32> = entries.iter().map(|e| e.uid).collect();
            let metas = store.message_meta(mb.id, &uids).await.unwrap();
            let mut list = Vec::new();
            for (e, m) in entries.iter().zip(&metas) {
                let uidl = e
                    .pop3_uidl
                    .clone()
                    .unwrap_or_else(|| format!("{:08X}{:08X}", e.uid, mb.uid_validity));
                let flags = m.flags.names().map(str::to_string).collect();
                list.push((
                    store.read_blob(&m.blob).await.unwrap().to_vec(),
                    flags,
                    m.internal_date.seconds,
                    uidl,
                ));
            }
            out.insert(mb.name.to_string(), list);
        }
        out
    })
}
