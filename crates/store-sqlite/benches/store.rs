//! Store benchmark: delivery rate into one account with the benchmark mbox, and the
//! time to list UID + flags + MODSEQ of a 100,000-message mailbox (the SELECT path of IMAP).
//!
//! cargo bench -p mailroom-store-sqlite [-- --mbox FILE] [-- --count N]
//!
//! Without --mbox it generates bench/tools/make_mbox.py's 5,000 messages into target/.

use mailroom_store::{
    Delivery, Directory, MailboxName, Mailboxes, Messages, NewAccount, NewMessage, TextField,
};
use mailroom_store_sqlite::SqliteStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

const LIST_SIZE: usize = 100_000;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let count: usize = arg("--count").and_then(|c| c.parse().ok()).unwrap_or(5000);
    let mbox = arg("--mbox")
        .map(PathBuf::from)
        .unwrap_or_else(default_mbox);
    let messages = read_mbox(&mbox, count);
    let bytes: usize = messages.iter().map(|m| m.len()).sum();
    println!(
        "{} messages, {:.1} MB from {}",
        messages.len(),
        bytes as f64 / 1e6,
        mbox.display()
    );

    for conns in [1, 4, 16] {
        let (store, _dir, account) = fresh_store().await;
        let started = Instant::now();
        let chunks: Vec<Vec<Arc<[u8]>>> = (0..conns)
            .map(|c| messages.iter().skip(c).step_by(conns).cloned().collect())
            .collect();
        let mut tasks = Vec::new();
        for chunk in chunks {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for content in chunk {
                    store
                        .deliver(Delivery {
                            recipients: vec![account],
                            content,
                        })
                        .await
                        .expect("deliver");
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "deliver, {conns:>2} concurrent: {:>7.1} msg/s  {:>6.1} MB/s  ({} msgs in {secs:.2} s, each durable before it returns)",
            messages.len() as f64 / secs,
            bytes as f64 / 1e6 / secs,
            messages.len()
        );
        if conns == 1 {
            search_bench(&store, account).await;
        }
    }

    let (store, _dir, account) = fresh_store().await;
    let inbox = store
        .mailbox(account, &MailboxName::inbox())
        .await
        .expect("lookup")
        .expect("inbox");
    let filler: Vec<NewMessage> = (0..1000)
        .map(|i| NewMessage::new(format!("Subject: filler {i}\r\n\r\nbody {i}\r\n").into_bytes()))
        .collect();
    let started = Instant::now();
    for batch in 0..LIST_SIZE / 1000 {
        let mut msgs = filler.clone();
        for (i, m) in msgs.iter_mut().enumerate() {
            m.content = format!("Subject: filler {batch}-{i}\r\n\r\nbody\r\n")
                .into_bytes()
                .into();
        }
        store
            .append_batch(inbox.id, msgs)
            .await
            .expect("append batch");
    }
    println!(
        "filled a mailbox with {LIST_SIZE} messages in {:.1} s (batches of 1000)",
        started.elapsed().as_secs_f64()
    );
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let list = store.message_list(inbox.id).await.expect("list");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(list.len(), LIST_SIZE);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "list UID+FLAGS+MODSEQ of {LIST_SIZE}: median {:.1} ms, best {:.1} ms (target <= 50 ms)",
        times[times.len() / 2],
        times[0]
    );
    backup_bench(&store, inbox.id).await;
}

/// A first backup of the 100,000-message store, then an incremental one after 1,000 more
/// messages arrived.
async fn backup_bench(store: &SqliteStore, inbox: mailroom_store::MailboxId) {
    let root = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("backup dir");
    let no_progress = |_: &str, _: u64, _: u64| {};
    for round in ["first", "incremental"] {
        if round == "incremental" {
            let more: Vec<NewMessage> = (0..1000)
                .map(|i| {
                    NewMessage::new(format!("Subject: later {i}\r\n\r\nbody\r\n").into_bytes())
                })
                .collect();
            store.append_batch(inbox, more).await.expect("append");
        }
        let (store2, root2) = (store.clone(), root.path().to_path_buf());
        let started = Instant::now();
        let manifest =
            tokio::task::spawn_blocking(move || store2.backup_into(&root2, &no_progress))
                .await
                .expect("task")
                .expect("backup");
        println!(
            "backup ({round}) of {} messages: {:.1} s, copied {} blobs ({:.1} MB) + {:.1} MB metadata",
            manifest.messages,
            started.elapsed().as_secs_f64(),
            manifest.new_blobs,
            manifest.new_blob_bytes as f64 / 1e6,
            manifest.db_bytes as f64 / 1e6
        );
    }
}

/// Full-text search: the first search waits for the background indexer to catch up with
/// everything just delivered; later ones are answered from the index.
async fn search_bench(store: &SqliteStore, account: mailroom_store::AccountId) {
    let inbox = store
        .mailbox(account, &MailboxName::inbox())
        .await
        .expect("lookup")
        .expect("inbox");
    let started = Instant::now();
    let hits = store
        .search_text(inbox.id, TextField::Body, "quokka")
        .await
        .expect("search");
    println!(
        "SEARCH BODY quokka, first (indexes the backlog): {:.2} s, {} hits",
        started.elapsed().as_secs_f64(),
        hits.len()
    );
    let mut times = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        let again = store
            .search_text(inbox.id, TextField::Body, "quokka")
            .await
            .expect("search");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(again, hits);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "SEARCH BODY quokka, indexed: median {:.1} ms",
        times[times.len() / 2]
    );
}

async fn fresh_store() -> (SqliteStore, tempfile::TempDir, mailroom_store::AccountId) {
    // On the project's disk, not a tmpfs: fsync must cost what it costs in production.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("open");
    store.add_domain("example.test").await.expect("domain");
    let account = store
        .create_account(NewAccount::new("bench@example.test", "x"))
        .await
        .expect("account");
    (store, dir, account.id)
}

fn default_mbox() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench.mbox");
    if !path.exists() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/tools/make_mbox.py");
        let status = std::process::Command::new("python3")
            .arg(&script)
            .arg(&path)
            .status()
            .expect("run make_mbox.py");
        assert!(status.success(), "make_mbox.py failed");
    }
    path
}

/// Splits an mbox into messages (mboxrd: ">From " unescaped), with CRLF line ends as SMTP
/// would deliver them.
fn read_mbox(path: &Path, limit: usize) -> Vec<Arc<[u8]>> {
    let data = std::fs::read(path).expect("read mbox");
    let mut out = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in data.split(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            if let Some(m) = current.take() {
                out.push(m.into());
                if out.len() >= limit {
                    return out;
                }
            }
            current = Some(Vec::new());
            continue;
        }
        if let Some(m) = current.as_mut() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let unescaped = if line.starts_with(b">")
                && line
                    .iter()
                    .skip_while(|&&b| b == b'>')
                    .take(5)
                    .eq(b"From ".iter())
            {
                &line[1..]
            } else {
                line
            };
            m.extend_from_slice(unescaped);
            m.extend_from_slice(b"\r\n");
        }
    }
    if let Some(m) = current
        && out.len() < limit
    {
        out.push(m.into());
    }
    out
}
