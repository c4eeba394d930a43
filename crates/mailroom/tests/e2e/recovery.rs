//! Deleted mail comes back: deleted over IMAP and over POP3, listed and restored with the CLI,
//! and read back over IMAP byte-identical, with its flags.

use crate::support;

use support::{Server, message, run_tool};

#[test]
fn delete_over_imap_and_pop3_then_restore_with_the_cli() {
    let messages: Vec<Vec<u8>> = (0..3)
        .map(|i| message(&format!("keepsake {i}"), &format!("text {i}")))
        .collect();
    let server = Server::start(
        "[imap]\nlisten = [\"127.0.0.1:0\"]\n[pop3]\nlisten = [\"127.0.0.1:0\"]\n",
        |admin| {
            admin.account("oops@example.test", "pw");
            for m in &messages {
                admin.deliver("oops@example.test", m);
            }
        },
    );
    let (imap, pop3) = (server.port("imap"), server.port("pop3"));
    let delete = format!(
        r#"
import imaplib, poplib
c = imaplib.IMAP4("127.0.0.1", {imap})
c.login("oops@example.test", "pw")
c.select("INBOX")
c.store("1", "+FLAGS", "(\\Flagged \\Deleted)")
c.expunge()
c.logout()
p = poplib.POP3("127.0.0.1", {pop3})
p.user("oops@example.test"); p.pass_("pw")
p.dele(2)
p.quit()
"#
    );
    let out = run_tool("python3", &["-c", &delete], b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let admin = server.admin();
    let list = admin.ok(&["recover", "list", "oops@example.test"], b"");
    assert!(
        list.contains("keepsake 0") && list.contains("keepsake 2"),
        "{list}"
    );
    assert!(list.contains("2 recoverable message(s)"), "{list}");
    assert!(
        admin
            .ok(&["recover", "restore", "oops@example.test", "--all"], b"")
            .contains("2 message(s) restored")
    );

    let read = format!(
        r#"
import imaplib
c = imaplib.IMAP4("127.0.0.1", {imap})
c.login("oops@example.test", "pw")
c.select("INBOX")
typ, data = c.fetch("1:*", "(FLAGS BODY.PEEK[])")
for part in data:
    if isinstance(part, tuple):
        print(part[0].decode(), part[1].hex())
c.logout()
"#
    );
    let out = run_tool("python3", &["-c", &read], b"");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    for m in &messages {
        assert!(
            text.contains(&hex(m)),
            "every message is back byte-identical:\n{text}"
        );
    }
    let restored_first = text
        .lines()
        .find(|l| l.contains(&hex(&messages[0])))
        .unwrap_or_default();
    assert!(
        restored_first.contains("\\Flagged"),
        "with its flags: {restored_first}"
    );
    assert!(
        !restored_first.contains("\\Deleted"),
        "but not the \\Deleted that removed it: {restored_first}"
    );
}
