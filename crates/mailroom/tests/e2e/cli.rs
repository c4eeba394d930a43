//! The admin CLI as an administrator uses it, beside a running server.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::Admin;

struct Env {
    _dir: tempfile::TempDir,
    config: PathBuf,
}

fn env(extra: &str) -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(&config, format!("data_dir = \"data\"\n{extra}")).expect("config");
    Env { _dir: dir, config }
}

fn mailroom(env: &Env, args: &[&str], stdin: &[u8]) -> Output {
    Admin::at(env.config.clone()).run(args, stdin)
}

fn ok(env: &Env, args: &[&str], stdin: &[u8]) -> String {
    Admin::at(env.config.clone()).ok(args, stdin)
}

const MESSAGE: &[u8] = b"From: a@example.org\nSubject: hi\n\nhello\n";

#[test]
fn admin_commands_work_while_the_server_runs() {
    let env = env("[imap]\nlisten = [\"127.0.0.1:0\"]\n");
    let mut server = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(&env.config)
        .args(["serve", "--demo"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let stderr = server.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server starts");
        if line.contains("mailroom is running") {
            break;
        }
    }
    ok(&env, &["domain", "add", "example.com"], b"");
    assert!(ok(&env, &["account", "add", "alice@example.com"], b"").contains("password: "));
    ok(
        &env,
        &["alias", "add", "info@example.com", "alice@example.com"],
        b"",
    );
    assert!(
        ok(
            &env,
            &["deliver", "info@example.com", "demo@example.test"],
            MESSAGE
        )
        .contains("delivered as UID 1")
    );
    let list = ok(&env, &["account", "list"], b"");
    let alice = list
        .lines()
        .find(|l| l.starts_with("alice@example.com"))
        .expect("alice listed");
    // One message; its size counts the CRLF line ends it is stored with.
    assert!(alice.split_whitespace().nth(1) == Some("1"), "{alice}");
    assert!(
        alice.contains(&format!("{} B", MESSAGE.len() + 4)),
        "{alice}"
    );
    assert!(
        list.contains("demo@example.test"),
        "the demo account exists"
    );
    assert_eq!(ok(&env, &["check"], b"").trim(), "store ok");

    // SIGTERM stops the server cleanly.
    let pid = server.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    assert!(server.wait().expect("wait").success());
}

#[test]
fn deliver_exit_codes_follow_sysexits() {
    let env = env("[storage]\nmax_message_size = \"1 KiB\"\n");
    ok(&env, &["domain", "add", "example.com"], b"");
    ok(
        &env,
        &[
            "account",
            "add",
            "bob@example.com",
            "--password-stdin",
            "--max-messages",
            "1",
        ],
        b"pw\n",
    );
    let code = |args: &[&str], stdin: &[u8]| mailroom(&env, args, stdin).status.code();
    assert_eq!(
        code(&["deliver", "nobody@example.com"], MESSAGE),
        Some(67),
        "EX_NOUSER"
    );
    assert_eq!(
        code(&["deliver", "bob@example.com"], b""),
        Some(65),
        "EX_DATAERR: empty"
    );
    assert_eq!(
        code(&["deliver", "bob@example.com"], &vec![b'x'; 2000]),
        Some(65),
        "EX_DATAERR: too large"
    );
    assert_eq!(code(&["deliver", "bob@example.com"], MESSAGE), Some(0));
    assert_eq!(
        code(&["deliver", "bob@example.com"], MESSAGE),
        Some(75),
        "EX_TEMPFAIL: over quota"
    );
    assert_eq!(
        code(&["domain", "remove", "example.com"], b""),
        Some(1),
        "domain still has accounts"
    );
    let unknown_key = env_with_bad_config();
    assert_eq!(
        mailroom(&unknown_key, &["domain", "list"], b"")
            .status
            .code(),
        Some(78),
        "EX_CONFIG"
    );
}

fn env_with_bad_config() -> Env {
    env("colour = \"blue\"\n")
}

#[test]
fn passwords_and_settings() {
    let env = env("");
    ok(&env, &["domain", "add", "example.com"], b"");
    ok(
        &env,
        &["account", "add", "carol@example.com", "--password-stdin"],
        b"first\n",
    );
    assert!(ok(&env, &["account", "password", "carol@example.com"], b"").contains("password: "));
    let set = ok(
        &env,
        &[
            "account",
            "set",
            "carol@example.com",
            "--quota",
            "25GB",
            "--protocols",
            "imap",
            "--pop3-policy",
            "delete",
            "--disable",
        ],
        b"",
    );
    assert!(
        set.contains("protocols imap, pop3 delete, disabled"),
        "{set}"
    );
    assert!(
        !mailroom(
            &env,
            &["account", "set", "carol@example.com", "--quota", "lots"],
            b""
        )
        .status
        .success()
    );
    ok(&env, &["account", "remove", "carol@example.com"], b"");
    assert!(!ok(&env, &["account", "list"], b"").contains("carol"));
}

#[test]
fn recover_and_quota_commands() {
    use mailroom_store::{MailboxName, Mailboxes, Messages};
    let env = env("");
    ok(&env, &["domain", "add", "example.com"], b"");
    ok(
        &env,
        &["account", "add", "dan@example.com", "--password-stdin"],
        b"pw\n",
    );
    for subject in ["first", "second", "third"] {
        ok(
            &env,
            &["deliver", "dan@example.com"],
            format!("Subject: {subject}\nFrom: Eve <eve@example.org>\n\nbody\n").as_bytes(),
        );
    }
    // Delete two messages the way a mail client would, through the store the server uses.
    let data = env.config.parent().expect("dir").join("data");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let original = runtime.block_on(async {
        let store = mailroom_store_sqlite::SqliteStore::open(&data).expect("open");
        let dan = mailroom_store::Directory::account_by_address(&store, "dan@example.com")
            .await
            .unwrap()
            .unwrap();
        let inbox = store
            .mailbox(dan.id, &MailboxName::inbox())
            .await
            .unwrap()
            .unwrap();
        let meta = store.message_meta(inbox.id, &[1]).await.unwrap();
        let bytes = store.read_blob(&meta[0].blob).await.unwrap();
        store.expunge(inbox.id, &[1, 3]).await.unwrap();
        bytes
    });
    let list = ok(&env, &["recover", "list", "dan@example.com"], b"");
    assert!(
        list.contains("first") && list.contains("third") && !list.contains("second"),
        "{list}"
    );
    assert!(list.contains("Eve <eve@example.org>"), "{list}");
    assert!(list.contains("2 recoverable message(s)"), "{list}");
    assert!(
        ok(
            &env,
            &["recover", "list", "dan@example.com", "--folder", "Sent"],
            b""
        )
        .contains("0 recoverable")
    );
    let id = list
        .lines()
        .find(|l| l.contains("first"))
        .and_then(|l| l.split_whitespace().next())
        .expect("id")
        .to_string();
    let restored = ok(
        &env,
        &["recover", "restore", "dan@example.com", "--id", &id],
        b"",
    );
    assert!(restored.contains("into INBOX as UID 4"), "{restored}");
    let back = runtime.block_on(async {
        let store = mailroom_store_sqlite::SqliteStore::open(&data).expect("open");
        let dan = mailroom_store::Directory::account_by_address(&store, "dan@example.com")
            .await
            .unwrap()
            .unwrap();
        let inbox = store
            .mailbox(dan.id, &MailboxName::inbox())
            .await
            .unwrap()
            .unwrap();
        let meta = store.message_meta(inbox.id, &[4]).await.unwrap();
        store.read_blob(&meta[0].blob).await.unwrap()
    });
    assert_eq!(back, original, "restored byte-identical");
    assert!(
        ok(
            &env,
            &["recover", "restore", "dan@example.com", "--all"],
            b""
        )
        .contains("1 message(s) restored")
    );
    assert!(
        !mailroom(&env, &["recover", "restore", "dan@example.com"], b"")
            .status
            .success(),
        "nothing chosen"
    );
    assert!(
        !mailroom(
            &env,
            &["recover", "list", "dan@example.com", "--since", "yesterday"],
            b""
        )
        .status
        .success()
    );

    let set = ok(
        &env,
        &[
            "quota",
            "set",
            "dan@example.com",
            "1MiB",
            "--messages",
            "100",
        ],
        b"",
    );
    assert!(
        set.contains("of 1.0 MiB") && set.contains("3 of 100 (3%)"),
        "{set}"
    );
    assert!(ok(&env, &["quota", "show", "dan@example.com"], b"").contains("messages 3 of 100"));
    assert!(ok(&env, &["quota", "recalc"], b"").contains("dan@example.com: "));
    assert!(ok(&env, &["quota", "set", "dan@example.com", "none"], b"").contains("of unlimited"));
}

#[test]
fn domain_defaults() {
    let env = env("");
    ok(&env, &["domain", "add", "example.org"], b"");
    let set = ok(
        &env,
        &[
            "domain",
            "set",
            "example.org",
            "--quota",
            "2GiB",
            "--max-messages",
            "1000",
            "--recovery-days",
            "30",
        ],
        b"",
    );
    assert_eq!(
        set.trim(),
        "example.org  quota 2.0 GiB  max-messages 1000  recovery 30 days"
    );
    ok(
        &env,
        &["account", "add", "new@example.org", "--password-stdin"],
        b"pw\n",
    );
    assert!(
        ok(&env, &["quota", "show", "new@example.org"], b"").contains("of 2.0 GiB"),
        "inherits the default"
    );
    assert_eq!(
        ok(
            &env,
            &["domain", "set", "example.org", "--recovery-days", "default"],
            b""
        )
        .trim(),
        "example.org  quota 2.0 GiB  max-messages 1000"
    );
    assert!(
        !mailroom(
            &env,
            &["domain", "set", "example.org", "--recovery-days", "soon"],
            b""
        )
        .status
        .success()
    );
}

/// `mailroom account list | head -1` and `mailroom domain dns D > /dev/full`: no panic, no
/// backtrace. A reader that went away ends the command quietly; a full disk is one line.
#[test]
fn output_to_a_closed_pipe_or_a_full_disk_is_no_panic() {
    let env = env("");
    for i in 0..3 {
        let address = format!("user{i}@example.test");
        let _ = mailroom(&env, &["domain", "add", "example.test"], b"");
        ok(
            &env,
            &["account", "add", &address, "--password-stdin"],
            b"pw\n",
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(&env.config)
        .args(["account", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // The reader goes away before the first line: the child opens the store first, so every
    // write it makes meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.is_empty(), "{stderr}");
    assert!(out.status.success(), "{:?}", out.status);

    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(&env.config)
        .args(["domain", "dns", "example.test"])
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        stderr.trim(),
        "mailroom: cannot write to standard output: No space left on device (os error 28)"
    );
}
