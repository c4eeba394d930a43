//! Inbound mail end to end: Python's smtplib delivers over LMTP and over SMTP (MX) to a real
//! `mailroom serve`, and the messages read back over IMAP are the bytes sent plus the trace
//! headers.

use crate::support;

use support::{Server, run_tool};

const LISTENERS: &str = "[smtp]\nlisten = [\"127.0.0.1:0\"]\n[lmtp]\nlisten = [\"127.0.0.1:0\"]\n\
                         [imap]\nlisten = [\"127.0.0.1:0\"]\n";

#[test]
fn smtplib_over_lmtp_and_mx_then_imap_reads_it() {
    let server = Server::start(LISTENERS, |admin| {
        admin.account("rcpt@example.test", "pw");
        admin.account("full@example.test", "pw");
        admin.ok(&["quota", "set", "full@example.test", "1KiB"], b"");
        admin.ok(
            &["alias", "add", "sales@example.test", "rcpt@example.test"],
            b"",
        );
    });
    let script = format!(
        r#"
import smtplib, imaplib
body = b"From: Sender <sender@example.org>\r\nTo: rcpt@example.test\r\nSubject: via %s\r\n\r\n.leading dot line\r\nbody\r\n"
big = b"Subject: big\r\n\r\n" + b"x" * 4000 + b"\r\n"
l = smtplib.LMTP("127.0.0.1", {lmtp})
try:
    l.sendmail("sender@example.org", ["rcpt@example.test", "nobody@example.test"], body % b"LMTP")
except smtplib.SMTPRecipientsRefused as e:
    print("lmtp refused all", e)
except Exception as e:
    print("lmtp error", type(e).__name__, e)
else:
    print("lmtp partial ok")
try:
    l.sendmail("sender@example.org", ["full@example.test"], big)
except smtplib.SMTPDataError as e:
    print("lmtp full", e.smtp_code)
except smtplib.SMTPRecipientsRefused as e:
    print("lmtp full refused", list(e.recipients.values())[0][0])
l.quit()
s = smtplib.SMTP("127.0.0.1", {smtp})
print("mx refused", s.sendmail("sender@example.org", ["sales@example.test"], body % b"MX"))
try:
    s.sendmail("sender@example.org", ["someone@elsewhere.example"], body % b"relay")
except smtplib.SMTPRecipientsRefused as e:
    print("relay denied", list(e.recipients.values())[0][0])
s.quit()
i = imaplib.IMAP4("127.0.0.1", {imap})
i.login("rcpt@example.test", "pw")
i.select("INBOX")
for n in (1, 2):
    typ, data = i.fetch(str(n), "(BODY.PEEK[])")
    print("msg", n, data[0][1].hex())
i.logout()
"#,
        lmtp = server.port("lmtp"),
        smtp = server.port("smtp"),
        imap = server.port("imap")
    );
    let out = run_tool("python3", &["-c", &script], b"");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("mx refused {}"), "{text}");
    // LMTP: the unknown recipient is refused at RCPT, the known one gets the message; the full
    // mailbox gets a temporary per-recipient failure, never a silent loss.
    assert!(text.contains("lmtp partial ok"), "{text}");
    assert!(
        text.contains("lmtp full 452") || text.contains("lmtp full refused 452"),
        "{text}"
    );
    assert!(text.contains("relay denied 554"), "{text}");
    for (n, via) in [(1, "LMTP"), (2, "MX")] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("msg {n} ")))
            .unwrap_or_else(|| panic!("{text}"));
        let hex = line.rsplit(' ').next().unwrap_or_default();
        let bytes: Vec<u8> = (0..hex.len() / 2)
            .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
            .collect();
        let sent = format!(
            "From: Sender <sender@example.org>\r\nTo: rcpt@example.test\r\nSubject: via {via}\r\n\r\n.leading dot line\r\nbody\r\n"
        );
        assert!(
            bytes.starts_with(b"Return-Path: <sender@example.org>\r\nReceived: "),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        assert!(
            bytes.ends_with(sent.as_bytes()),
            "message {n} is the sent bytes after the trace headers"
        );
    }
}
