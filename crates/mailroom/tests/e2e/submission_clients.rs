//! Sending mail end to end: smtplib and swaks submit with AUTH over STARTTLS (587-style) and
//! implicit TLS (465-style) to a real `mailroom serve`. Mail for a local user arrives byte-exact
//! behind the trace headers and reads the same over IMAP and POP3; mail for another domain goes
//! through the outbound queue to a smart host (a Python aiosmtpd sink on loopback), DKIM-signed
//! with the key `mailroom domain add` made, and dkimpy verifies it against the TXT record
//! `mailroom domain dns` prints.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use support::{Server, run_tool};

/// A loopback SMTP sink that writes each message it receives to DIR/<n>.eml.
struct Sink {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Sink {
    fn start() -> Sink {
        let dir = tempfile::tempdir().expect("sink dir");
        let script = r#"
import asyncio, os, sys
from aiosmtpd.controller import Controller
class Save:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Save.n += 1
        path = os.path.join(sys.argv[1], "%d.eml" % Save.n)
        with open(path + ".tmp", "wb") as f:
            f.write(("X-Envelope-From: %s\r\nX-Envelope-To: %s\r\n" % (envelope.mail_from, ",".join(envelope.rcpt_tos))).encode())
            f.write(envelope.original_content)
        os.rename(path + ".tmp", path)
        return "250 OK saved"
import socket
probe = socket.socket()
probe.bind(("127.0.0.1", 0))
port = probe.getsockname()[1]
probe.close()
c = Controller(Save(), hostname="127.0.0.1", port=port)
c.start()
print(port, flush=True)
sys.stdin.read()
"#;
        let mut child = Command::new("python3")
            .args(["-c", script])
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with aiosmtpd (scripts/test installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("sink port");
        let port = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("aiosmtpd did not start: {line:?}"));
        Sink { child, port, dir }
    }

    /// Waits (bounded) until `count` messages have arrived and returns them.
    fn messages(&self, count: usize) -> Vec<Vec<u8>> {
        for _ in 0..600 {
            let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
                .expect("sink dir")
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect();
            if files.len() >= count {
                files.sort();
                return files
                    .iter()
                    .map(|p| std::fs::read(p).expect("read"))
                    .collect();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the sink never got {count} message(s)");
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn submit_with_smtplib_and_swaks_deliver_locally_and_relay_signed() {
    let sink = Sink::start();
    let listeners = format!(
        "[submission]\nlisten = [\"127.0.0.1:0\"]\nlisten_tls = [\"127.0.0.1:0\"]\n\
         [imap]\nlisten = [\"127.0.0.1:0\"]\n[pop3]\nlisten = [\"127.0.0.1:0\"]\n\
         [outbound]\nrelay = \"127.0.0.1:{}\"\n",
        sink.port
    );
    let server = Server::start(&listeners, |admin| {
        admin.account("user1@example.test", "pw1");
        admin.account("user2@example.test", "pw2");
        admin.ok(
            &["alias", "add", "sales@example.test", "user1@example.test"],
            b"",
        );
    });
    let (sub, subs) = (server.port("submission"), server.port("submissions"));
    let (imap, pop3) = (server.port("imap"), server.port("pop3"));

    let script = format!(
        r#"
import smtplib, ssl, imaplib, poplib
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
msg = (b"From: User One <user1@example.test>\r\nTo: user2@example.test, far@elsewhere.test\r\n"
       b"Subject: hello over submission\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n"
       b"Message-ID: <sub-1@example.test>\r\n\r\n.a line with a leading dot\r\nbody \xc3\xa9\r\n")
s = smtplib.SMTP("127.0.0.1", {sub})
s.ehlo()
print("auth before tls offered:", "auth" in s.esmtp_features)
s.starttls(context=ctx)
s.ehlo()
try:
    s.sendmail("user1@example.test", ["user2@example.test"], msg)
except smtplib.SMTPSenderRefused as e:
    print("mail before auth", e.smtp_code)
s.login("user1@example.test", "pw1")
try:
    s.sendmail("user2@example.test", ["user2@example.test"], msg)
except smtplib.SMTPSenderRefused as e:
    print("foreign sender", e.smtp_code)
print("refused", s.sendmail("user1@example.test", ["user2@example.test", "far@elsewhere.test"], msg))
s.quit()
t = smtplib.SMTP_SSL("127.0.0.1", {subs}, context=ctx)
try:
    t.login("user1@example.test", "wrong")
except smtplib.SMTPAuthenticationError as e:
    print("wrong password", e.smtp_code)
t.quit()
i = imaplib.IMAP4("127.0.0.1", {imap})
i.login("user2@example.test", "pw2")
i.select("INBOX")
typ, data = i.fetch("1", "(BODY.PEEK[])")
print("imap", data[0][1].hex())
i.logout()
p = poplib.POP3("127.0.0.1", {pop3})
p.user("user2@example.test")
p.pass_("pw2")
print("pop3", b"\r\n".join(p.retr(1)[1]).hex())
p.quit()
"#
    );
    let out = run_tool("python3", &["-c", &script], b"");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |prefix: &str| -> String {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {stdout}"))
            .trim()
            .to_string()
    };
    // From this host a password may go without TLS, as for IMAP and POP3 (webmail, scripts);
    // the smtp crate's tests check that other peers are refused.
    assert_eq!(line("auth before tls offered:"), "True", "{stdout}");
    assert_eq!(line("mail before auth"), "530");
    assert_eq!(line("foreign sender"), "553");
    assert_eq!(line("refused"), "{}");
    assert_eq!(line("wrong password"), "535");

    let sent: &[u8] = b"From: User One <user1@example.test>\r\nTo: user2@example.test, far@elsewhere.test\r\nSubject: hello over submission\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <sub-1@example.test>\r\n\r\n.a line with a leading dot\r\nbody \xc3\xa9\r\n";
    let imap_copy = hex(&line("imap"));
    assert!(
        imap_copy.ends_with(sent),
        "the message arrives byte-exact behind the trace headers:\n{}",
        String::from_utf8_lossy(&imap_copy)
    );
    let trace = &imap_copy[..imap_copy.len() - sent.len()];
    let trace = String::from_utf8_lossy(trace);
    assert!(trace.contains("Received: "), "{trace}");
    // POP3 shows the same bytes (poplib strips the final CRLF and undoes dot-stuffing).
    let pop3_copy = hex(&line("pop3"));
    assert_eq!(pop3_copy, imap_copy[..imap_copy.len() - 2]);

    // The remote copy went out through the smart host, signed.
    let relayed = sink.messages(1).remove(0);
    let text = String::from_utf8_lossy(&relayed);
    assert!(
        text.starts_with(
            "X-Envelope-From: user1@example.test\r\nX-Envelope-To: far@elsewhere.test\r\n"
        ),
        "{text}"
    );
    assert!(relayed.ends_with(sent), "{text}");
    assert!(text.contains("DKIM-Signature:"), "{text}");
    let dns = server.admin().ok(&["domain", "dns", "example.test"], b"");
    verify_dkim(&relayed, &dns);

    // swaks: AUTH LOGIN over STARTTLS, and AUTH PLAIN over implicit TLS, from an alias.
    let body = "Subject: from swaks\r\nFrom: user1@example.test\r\nMessage-ID: <swaks-1@example.test>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n\r\nswaks body\r\n";
    for (port, tls, auth, from) in [
        (sub.to_string(), "--tls", "LOGIN", "user1@example.test"),
        (subs.to_string(), "--tlsc", "PLAIN", "sales@example.test"),
    ] {
        let body = body.replace("From: user1@example.test", &format!("From: {from}"));
        let out = run_tool(
            "swaks",
            &[
                "--server",
                "127.0.0.1",
                "--port",
                &port,
                tls,
                "--auth",
                auth,
                "--auth-user",
                "user1@example.test",
                "--auth-password",
                "pw1",
                "--from",
                from,
                "--to",
                "user2@example.test",
                "--data",
                "-",
                "--hide-all",
            ],
            body.as_bytes(),
        );
        assert!(
            out.status.success(),
            "swaks {tls} {auth}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let check = format!(
        r#"
import imaplib
i = imaplib.IMAP4("127.0.0.1", {imap})
i.login("user2@example.test", "pw2")
i.select("INBOX")
typ, data = i.search(None, "SUBJECT", "swaks")
print(len(data[0].split()))
"#
    );
    let out = run_tool("python3", &["-c", &check], b"");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
}

/// Verifies the message's DKIM signature with dkimpy, answering its DNS query from the TXT
/// record in `mailroom domain dns` output.
fn verify_dkim(message: &[u8], dns: &str) {
    let record = dns
        .lines()
        .find(|l| l.contains("._domainkey") && l.contains("TXT"))
        .unwrap_or_else(|| panic!("no DKIM record in:\n{dns}"));
    let script = r#"
import sys, dkim, re
record = sys.argv[1]
name = record.split()[0].rstrip(".")
# The TXT value as DNS would hand it back: the quoted strings joined.
value = "".join(re.findall(r'"([^"]*)"', record)) or record.split("TXT", 1)[1].strip()
def dnsfunc(qname, timeout=5):
    q = qname.decode() if isinstance(qname, bytes) else qname
    return value.encode() if q.rstrip(".") == name else None
msg = sys.stdin.buffer.read()
msg = msg.split(b"\r\n", 2)[2]  # drop the sink's envelope lines
print("dkim", dkim.verify(msg, dnsfunc=dnsfunc))
"#;
    let out = run_tool("python3", &["-c", script, record], message);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "dkim True",
        "{record}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}
