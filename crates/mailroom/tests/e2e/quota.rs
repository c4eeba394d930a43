//! Quotas as users meet them: IMAP GETQUOTAROOT, an over-quota APPEND refused with
//! [OVERQUOTA], and the warning the server delivers when usage crosses 80 %.

use crate::support;

use support::{Server, message};

#[test]
fn quota_over_imap_and_the_80_percent_warning() {
    let server = Server::start("[imap]\nlisten = [\"127.0.0.1:0\"]\n", |admin| {
        admin.account("q@example.test", "pw");
        admin.ok(
            &["quota", "set", "q@example.test", "1MiB", "--messages", "10"],
            b"",
        );
        for i in 0..7 {
            admin.deliver("q@example.test", &message(&format!("filler {i}"), "x"));
        }
    });
    let admin = server.admin();
    let script = format!(
        r#"
import imaplib, time
from imapclient import IMAPClient
c = imaplib.IMAP4("127.0.0.1", {port})
c.login("q@example.test", "pw")
typ, data = c.getquotaroot("INBOX")
print("quotaroot", typ, [d.decode() if isinstance(d, bytes) else d for d in data])
big = b"Subject: too big\r\n\r\n" + b"y" * 1200000 + b"\r\n"
typ, data = c.append("INBOX", None, None, big)
print("append", typ, data)
c.logout()
w = IMAPClient("127.0.0.1", port={port}, ssl=False)
w.login("q@example.test", "pw")
w.select_folder("INBOX")
w.idle()
import sys
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.readline()
deadline = time.monotonic() + 30
exists = 0
while time.monotonic() < deadline and exists < 9:
    for r in w.idle_check(timeout=5):
        if r[1] == b"EXISTS":
            exists = r[0]
w.idle_done()
print("exists", exists)
print("subjects", [m[b"ENVELOPE"].subject for m in w.fetch(w.search("ALL"), ["ENVELOPE"]).values()])
w.logout()
"#,
        port = server.port("imap")
    );
    let mut child = std::process::Command::new("python3")
        .args(["-c", &script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = std::io::BufRead::read_line(&mut stdout, &mut line).expect("read");
        assert!(n > 0, "python ended early: {seen}");
        seen.push_str(&line);
        if line.trim() == "ready" {
            break;
        }
    }
    // The eighth message takes the account to 80 % of its 10 messages.
    admin.deliver("q@example.test", &message("the eighth", "x"));
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), b"go\n").expect("go");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
    let out = child.wait_with_output().expect("wait");
    let all = format!("{seen}{rest}");
    assert!(
        out.status.success(),
        "{all}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("quotaroot OK"), "{all}");
    assert!(all.contains("STORAGE "), "{all}");
    assert!(all.contains("MESSAGE 7 10"), "{all}");
    assert!(
        all.contains("append NO") && all.contains("OVERQUOTA"),
        "{all}"
    );
    assert!(all.contains("exists 9"), "the warning arrived: {all}");
    assert!(all.contains("Your mailbox is 80% full"), "{all}");
}
