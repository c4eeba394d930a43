//! IMAP end to end with real clients against a real `mailroom serve`: Python's imaplib and
//! imapclient (two sessions of one user, IDLE), curl, mbsync (a two-way sync of a folder tree
//! with flags, then a sync that changes nothing), and an IMAP session in IDLE watching POP3
//! deletions arrive.

use crate::support;

use support::{Server, message, run_tool};

const LISTENERS: &str = "[imap]\nlisten = [\"127.0.0.1:0\"]\nlisten_tls = [\"127.0.0.1:0\"]\n\
                         [pop3]\nlisten = [\"127.0.0.1:0\"]\n";

fn server(user: &str, messages: usize) -> Server {
    Server::start(LISTENERS, |admin| {
        admin.account(user, "pw");
        for i in 0..messages {
            admin.deliver(
                user,
                &message(&format!("imap test {i}"), &format!("body of message {i}")),
            );
        }
    })
}

fn python(script: &str) -> String {
    let out = run_tool("python3", &["-c", script], b"");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn imaplib_session_and_second_session_sees_changes() {
    let server = server("ann@example.test", 2);
    let port = server.port("imap");
    let out = python(&format!(
        r#"
import imaplib, ssl
a = imaplib.IMAP4("127.0.0.1", {port})
a.login("ann@example.test", "pw")
b = imaplib.IMAP4("127.0.0.1", {port})
b.login("ann@example.test", "pw")
typ, data = a.list()
print("list", [d.decode() for d in data])
print("select", a.select("INBOX")[1][0].decode())
b.select("INBOX")
typ, data = a.fetch("1:*", "(UID FLAGS RFC822.SIZE ENVELOPE)")
print("fetch", len([d for d in data if isinstance(d, bytes) and b"ENVELOPE" in d]))
typ, data = a.fetch("2", "(BODY.PEEK[TEXT])")
print("text", data[0][1])
a.store("1", "+FLAGS", "(\\Flagged)")
typ, data = b.noop()
print("b noop", b.untagged_responses.get("FETCH"))
a.append("INBOX", "(\\Seen)", None, b"Subject: appended\r\n\r\nnew\r\n")
b.noop()
print("b exists", b.untagged_responses.get("EXISTS"))
a.create("Projects/2026")
a.copy("1", "Projects/2026")
print("status", a.status("Projects/2026", "(MESSAGES UIDNEXT)")[1][0].decode())
a.store("2", "+FLAGS", "(\\Deleted)")
print("expunge", a.expunge()[1])
b.noop()
print("b expunge", b.untagged_responses.get("EXPUNGE"))
print("search", a.search(None, "BODY", '"message 0"')[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = imaplib.IMAP4_SSL("127.0.0.1", {tls}, ssl_context=ctx)
s.login("ann@example.test", "pw")
print("tls", s.select("INBOX")[1][0].decode())
t = imaplib.IMAP4("127.0.0.1", {port})
t.starttls(ssl_context=ctx)
t.login("ann@example.test", "pw")
print("starttls ok")
for c in (a, b, s, t):
    c.logout()
"#,
        tls = server.port("imaps")
    ));
    for expected in [
        "\\\\Sent) \"/\" Sent",
        "select 2",
        "fetch 2",
        "text b'body of message 1\\r\\n'",
        "b noop [b'1 (FLAGS (\\\\Flagged) UID 1)']",
        "b exists [b'2', b'3']",
        "Projects/2026 (MESSAGES 1 UIDNEXT 2)",
        "expunge [b'2']",
        "b expunge [b'2']",
        "search [b'1']",
        "tls 2",
        "starttls ok",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
}

#[test]
fn imapclient_idle_hears_another_sessions_append() {
    let server = server("idle@example.test", 1);
    let out = python(&format!(
        r#"
import time
from imapclient import IMAPClient
watcher = IMAPClient("127.0.0.1", port={port}, ssl=False)
watcher.login("idle@example.test", "pw")
watcher.select_folder("INBOX")
watcher.idle()
writer = IMAPClient("127.0.0.1", port={port}, ssl=False)
writer.login("idle@example.test", "pw")
start = time.monotonic()
writer.append("INBOX", b"Subject: pushed\r\n\r\nnow\r\n")
responses = watcher.idle_check(timeout=5)
elapsed = time.monotonic() - start
watcher.idle_done()
print("idle", responses, "%.3f" % elapsed)
writer.logout(); watcher.logout()
"#,
        port = server.port("imap")
    ));
    assert!(out.contains("(2, b'EXISTS')"), "{out}");
    let elapsed: f64 = out
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("elapsed");
    // The APPEND's own round trip is inside this figure; the push itself is well under it.
    assert!(elapsed < 1.0, "IDLE push took {elapsed} s");
}

#[test]
fn idle_session_watches_pop3_deletions_arrive() {
    let server = server("both@example.test", 3);
    let out = python(&format!(
        r#"
import poplib
from imapclient import IMAPClient
watcher = IMAPClient("127.0.0.1", port={imap}, ssl=False)
watcher.login("both@example.test", "pw")
watcher.select_folder("INBOX")
watcher.idle()
p = poplib.POP3("127.0.0.1", {pop3})
p.user("both@example.test"); p.pass_("pw")
p.dele(1); p.dele(3)
p.quit()
seen = []
for _ in range(10):
    seen += watcher.idle_check(timeout=5)
    if sum(1 for r in seen if r[1] == b"EXPUNGE") >= 2:
        break
watcher.idle_done()
print("idle", seen)
print("left", watcher.search("ALL"))
watcher.logout()
"#,
        imap = server.port("imap"),
        pop3 = server.port("pop3")
    ));
    assert_eq!(out.matches("b'EXPUNGE'").count(), 2, "{out}");
    assert!(out.contains("left [2]"), "{out}");
}

#[test]
fn curl_lists_and_fetches() {
    let server = server("curl@example.test", 2);
    let base = format!("imap://127.0.0.1:{}", server.port("imap"));
    let fetch = run_tool(
        "curl",
        &[
            "-sS",
            "--user",
            "curl@example.test:pw",
            &format!("{base}/INBOX;UID=2"),
        ],
        b"",
    );
    assert!(
        fetch.status.success(),
        "{}",
        String::from_utf8_lossy(&fetch.stderr)
    );
    assert_eq!(fetch.stdout, message("imap test 1", "body of message 1"));
    let list = run_tool(
        "curl",
        &["-sS", "--user", "curl@example.test:pw", &format!("{base}/")],
        b"",
    );
    let list = String::from_utf8_lossy(&list.stdout);
    for folder in ["INBOX", "Sent", "Drafts", "Trash", "Junk", "Archive"] {
        assert!(list.contains(folder), "{folder} in {list}");
    }
}

#[test]
fn mbsync_two_way_sync_then_nothing_to_do() {
    let server = server("sync@example.test", 3);
    let port = server.port("imap");
    python(&format!(
        r#"
import imaplib
a = imaplib.IMAP4("127.0.0.1", {port})
a.login("sync@example.test", "pw")
a.create("Projects/2026")
a.append("Projects/2026", "(\\Flagged)", None, b"Subject: plan\r\n\r\nthe plan\r\n")
a.select("INBOX")
a.store("1", "+FLAGS", "(\\Seen)")
a.logout()
"#
    ));
    let local = server.path().join("maildir");
    let notes = local.join("Notes");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(notes.join(sub)).expect("maildir");
    }
    std::fs::write(
        notes.join("cur/1700000000.1.host:2,S"),
        "Subject: local note\r\n\r\nwritten offline\r\n",
    )
    .expect("note");
    let rc = server.path().join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount mr\nHost 127.0.0.1\nPort {port}\nUser sync@example.test\nPass pw\nSSLType None\nAuthMechs LOGIN\n\n\
             IMAPStore remote\nAccount mr\n\n\
             MaildirStore local\nPath {dir}/\nInbox {dir}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
            dir = local.display()
        ),
    )
    .expect("rc");
    let sync = || {
        let out = run_tool(
            "mbsync",
            &["-c", rc.to_str().unwrap_or_default(), "-a"],
            b"",
        );
        assert!(
            out.status.success(),
            "mbsync failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sync();
    let state = |server: &Server| {
        let remote = python(&format!(
            r#"
import imaplib
a = imaplib.IMAP4("127.0.0.1", {port})
a.login("sync@example.test", "pw")
for box in ["INBOX", "Projects/2026", "Notes"]:
    typ, data = a.select(box)
    print(box, typ, data[0].decode() if typ == "OK" else "")
    if typ == "OK":
        typ, data = a.fetch("1:*", "(UID FLAGS)")
        print(" ", sorted(d.decode() for d in data if d))
a.logout()
"#
        ));
        let _ = server;
        let mut files: Vec<String> = walk(&local);
        files.sort();
        (remote, files)
    };
    let (remote, files) = state(&server);
    assert!(
        remote.contains("Notes OK 1"),
        "the local folder reached the server:\n{remote}"
    );
    assert!(remote.contains("Projects/2026 OK 1"), "{remote}");
    assert!(remote.contains("\\\\Seen"), "{remote}");
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("Projects/2026/") && f.contains(":2,F")),
        "{files:?}"
    );
    assert_eq!(
        files.iter().filter(|f| f.starts_with("INBOX/")).count(),
        3,
        "{files:?}"
    );
    // Flag a message locally; the next sync carries it over, the one after changes nothing.
    let inbox_file = files
        .iter()
        .find(|f| f.starts_with("INBOX/") && !f.contains(":2,S"))
        .cloned()
        .expect("unseen");
    let flagged = format!("{}F", inbox_file);
    std::fs::rename(local.join(&inbox_file), local.join(&flagged)).expect("flag locally");
    sync();
    let (remote_after, files_after) = state(&server);
    assert!(
        remote_after.matches("\\\\Flagged").count() > remote.matches("\\\\Flagged").count(),
        "{remote_after}"
    );
    sync();
    let (remote_again, files_again) = state(&server);
    assert_eq!(
        remote_again, remote_after,
        "a sync with nothing to do changes nothing on the server"
    );
    assert_eq!(files_again, files_after, "nor locally");
}

fn walk(root: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                let rel = rel.to_string_lossy().into_owned();
                if rel.contains("/cur/") || rel.contains("/new/") {
                    out.push(rel);
                }
            }
        }
    }
    out
}
