//! Logs never hold a password, a message body or a session secret: the server runs at the most
//! verbose log level while clients log in every way they can and mail passes through, then its
//! whole log is searched for the secrets.

use crate::support;

use std::io::Read;
use std::process::{Command, Stdio};
use support::{Admin, run_tool};

const PASSWORD: &str = "Zebra-Password-4711";
const BODY_MARKER: &str = "Quixotic-Body-Marker-0815";

#[test]
fn trace_logs_hold_no_passwords_or_bodies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    let ports: Vec<u16> = (0..4).map(|_| free_port()).collect();
    std::fs::write(
        &config,
        format!(
            "data_dir = \"data\"\n[imap]\nlisten = [\"127.0.0.1:{}\"]\n[pop3]\nlisten = [\"127.0.0.1:{}\"]\n\
             [lmtp]\nlisten = [\"127.0.0.1:{}\"]\n[submission]\nlisten = [\"127.0.0.1:{}\"]\n",
            ports[0], ports[1], ports[2], ports[3]
        ),
    )
    .expect("config");
    let admin = Admin::at(config.clone());
    admin.account("ann@example.test", PASSWORD);
    let mut server = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("MAILROOM_LOG", "trace")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let mut stderr = server.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = stderr.read_to_end(&mut all);
        all
    });

    let script = format!(
        r#"
import imaplib, poplib, smtplib, socket, time, base64
for _ in range(300):
    try:
        socket.create_connection(("127.0.0.1", {sub}), timeout=1).close(); break
    except OSError:
        time.sleep(0.05)
pw = "{PASSWORD}"
l = smtplib.LMTP("127.0.0.1", {lmtp})
l.sendmail("x@example.org", ["ann@example.test"], b"Subject: s\r\n\r\n{BODY_MARKER}\r\n")
l.quit()
i = imaplib.IMAP4("127.0.0.1", {imap})
i.login("ann@example.test", pw)
i.select("INBOX")
i.fetch("1", "(BODY[])")
i.append("INBOX", None, None, b"Subject: a\r\n\r\n{BODY_MARKER} appended\r\n")
i.logout()
i = imaplib.IMAP4("127.0.0.1", {imap})
i.authenticate("PLAIN", lambda _: b"\0ann@example.test\0" + pw.encode())
i.logout()
i = imaplib.IMAP4("127.0.0.1", {imap})
try:
    i.login("ann@example.test", pw + "-wrong")
except imaplib.IMAP4.error:
    pass
p = poplib.POP3("127.0.0.1", {pop3})
p.user("ann@example.test")
p.pass_(pw)
p.retr(1)
p.quit()
s = smtplib.SMTP("127.0.0.1", {sub})
s.login("ann@example.test", pw)
s.sendmail("ann@example.test", ["ann@example.test"], b"From: ann@example.test\r\nSubject: s\r\n\r\n{BODY_MARKER} sent\r\n")
s.quit()
print("done")
"#,
        imap = ports[0],
        pop3 = ports[1],
        lmtp = ports[2],
        sub = ports[3],
    );
    let out = run_tool("python3", &["-c", &script], b"");
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    let _ = server.wait();
    let log = String::from_utf8_lossy(&log.join().expect("log reader")).into_owned();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("done"),
        "clients failed: {}\n{log}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        log.contains("ann@example.test"),
        "the log is being captured"
    );
    let encoded = base64_plain(PASSWORD);
    for secret in [PASSWORD, &encoded, BODY_MARKER] {
        assert!(
            !log.contains(secret),
            "the log holds {secret:?}:\n{}",
            log.lines()
                .filter(|l| l.contains(secret))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The base64 of an AUTH PLAIN response, as a client would send it.
fn base64_plain(password: &str) -> String {
    let raw = format!("\0ann@example.test\0{password}");
    let out = run_tool("base64", &["-w0"], raw.as_bytes());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
