//! Real processes, really killed: `mailroom deliver` processes are SIGKILLed at random moments
//! while they write. Every delivery that was acknowledged (exit 0) must be in the store exactly
//! once and byte-exact, a killed delivery must be either complete or absent, and the store's
//! integrity check must pass after every round.

use mailroom_store::{Directory, MailboxName, Mailboxes, Maintenance, Messages};
use mailroom_store_sqlite::SqliteStore;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: u32 = 6;
const PER_ROUND: u32 = 12;

struct Env {
    _dir: tempfile::TempDir,
    config: PathBuf,
    data: PathBuf,
}

fn mailroom(env: &Env) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mailroom"));
    cmd.arg("--config").arg(&env.config);
    cmd
}

fn setup() -> Env {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(
        &config,
        format!("data_dir = {:?}\n", data.display().to_string()),
    )
    .expect("config");
    let env = Env {
        _dir: dir,
        config,
        data,
    };
    assert!(
        mailroom(&env)
            .args(["domain", "add", "example.test"])
            .status()
            .expect("run")
            .success()
    );
    let mut add = mailroom(&env)
        .args(["account", "add", "victim@example.test", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(b"pw\n")
        .expect("write");
    assert!(add.wait().expect("wait").success());
    env
}

/// A message of a few hundred bytes to a few hundred kilobytes, identified by its Message-ID.
fn message(id: &str, seed: u32) -> Vec<u8> {
    let lines = 5 + (seed.wrapping_mul(2_654_435_761) % 3000) as usize;
    let mut m = format!("From: load@example.org\r\nTo: victim@example.test\r\nSubject: crash {id}\r\nMessage-ID: <{id}>\r\n\r\n").into_bytes();
    for i in 0..lines {
        m.extend_from_slice(
            format!("line {i} of message {id} with some filler text\r\n").as_bytes(),
        );
    }
    m
}

fn spawn_delivery(env: &Env, content: &[u8]) -> Child {
    let mut child = mailroom(env)
        .args(["deliver", "victim@example.test"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn deliver");
    // The child may die before reading everything; a broken pipe is part of the test.
    let _ = child.stdin.take().expect("stdin").write_all(content);
    child
}

#[test]
fn acknowledged_deliveries_survive_sigkill() {
    let env = setup();
    let mut sent: HashMap<String, Vec<u8>> = HashMap::new();
    let mut acked: Vec<String> = Vec::new();
    let mut killed = 0;
    let mut rng = 0x9E37_79B9u32;
    for round in 0..ROUNDS {
        let mut children = Vec::new();
        for i in 0..PER_ROUND {
            let id = format!("r{round}-m{i}@crash.test");
            let content = message(&id, round * 100 + i);
            children.push((id.clone(), spawn_delivery(&env, &content)));
            sent.insert(id, content);
        }
        // Let some finish and catch others mid-write.
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        std::thread::sleep(Duration::from_millis(u64::from(10 + rng % 120)));
        for (id, mut child) in children {
            match child.try_wait().expect("try_wait") {
                Some(status) if status.success() => acked.push(id),
                Some(status) => panic!("delivery of {id} failed without being killed: {status}"),
                None => {
                    child.kill().expect("SIGKILL");
                    let status = child.wait().expect("wait");
                    // It may have finished between try_wait and kill.
                    if status.success() {
                        acked.push(id);
                    } else {
                        killed += 1;
                    }
                }
            }
        }
        verify(&env, &sent, &acked);
    }
    eprintln!("{} acknowledged, {killed} killed mid-delivery", acked.len());
    assert!(!acked.is_empty(), "no delivery ever completed");
}

fn verify(env: &Env, sent: &HashMap<String, Vec<u8>>, acked: &[String]) {
    let status = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(&env.config)
        .arg("check")
        .stdout(Stdio::null())
        .status()
        .expect("check");
    assert!(status.success(), "integrity check failed");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(Path::new(&env.data)).expect("reopen");
        let account = store
            .account_by_address("victim@example.test")
            .await
            .unwrap()
            .unwrap();
        let inbox = store
            .mailbox(account.id, &MailboxName::inbox())
            .await
            .unwrap()
            .unwrap();
        let uids: Vec<u32> = store
            .message_list(inbox.id)
            .await
            .unwrap()
            .iter()
            .map(|m| m.uid)
            .collect();
        let mut seen: HashMap<String, u32> = HashMap::new();
        for meta in store.message_meta(inbox.id, &uids).await.unwrap() {
            let id = meta.facts.envelope.message_id.clone().expect("message id");
            let id = id.trim_matches(['<', '>']).to_string();
            let bytes = store.read_blob(&meta.blob).await.unwrap().to_vec();
            assert_eq!(Some(&bytes), sent.get(&id), "{id} is not byte-exact");
            assert_eq!(meta.size, bytes.len() as u64);
            *seen.entry(id).or_default() += 1;
        }
        for id in acked {
            assert_eq!(
                seen.get(id),
                Some(&1),
                "acknowledged {id} must be present exactly once"
            );
        }
        assert!(seen.values().all(|&n| n == 1), "no message is stored twice");
        assert!(store.check_integrity().await.unwrap().is_empty());
    });
    let _ = Instant::now();
}
