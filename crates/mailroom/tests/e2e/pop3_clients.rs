//! POP3 end to end with real clients: Python's poplib, curl, and fetchmail in keep and delete
//! mode, against a real `mailroom serve`.

use crate::support;

use support::{Server, message, run_tool};

const LISTENERS: &str = "[pop3]\nlisten = [\"127.0.0.1:0\"]\nlisten_tls = [\"127.0.0.1:0\"]\n";

fn server_with_mail(user: &str, count: usize) -> (Server, Vec<Vec<u8>>) {
    let messages: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            message(
                &format!("pop3 test {i}"),
                &format!("line one of {i}\r\n.dotted line\r\nend of {i}"),
            )
        })
        .collect();
    let server = Server::start(LISTENERS, |admin| {
        admin.account(user, "secret pw");
        for m in &messages {
            admin.deliver(user, m);
        }
    });
    (server, messages)
}

fn python(script: &str) -> String {
    let out = run_tool("python3", &["-c", script], b"");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn poplib_downloads_byte_exact_and_deletes() {
    let (server, messages) = server_with_mail("pat@example.test", 3);
    let port = server.port("pop3");
    let tls_port = server.port("pop3s");
    let script = format!(
        r#"
import poplib, ssl, sys
p = poplib.POP3("127.0.0.1", {port})
p.user("pat@example.test"); p.pass_("secret pw")
count, size = p.stat()
print("stat", count, size)
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    sys.stdout.write("msg %d %d %s\n" % (i, octets, b"\r\n".join(lines).hex()))
p.dele(2)
print(p.quit().decode())
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = poplib.POP3_SSL("127.0.0.1", {tls_port}, context=ctx)
s.user("pat@example.test"); s.pass_("secret pw")
print("after", s.stat()[0], " ".join(u.decode() for u in s.uidl()[1]))
s.quit()
"#
    );
    let out = python(&script);
    let total: usize = messages.iter().map(Vec::len).sum();
    assert!(out.contains(&format!("stat 3 {total}")), "{out}");
    for (i, m) in messages.iter().enumerate() {
        // poplib strips the CRLF of each line and the dot-stuffing; joining restores the bytes.
        let expected = m.strip_suffix(b"\r\n").unwrap_or(m);
        let line = format!("msg {} {} ", i + 1, m.len());
        let got = out
            .lines()
            .find(|l| l.starts_with(&line))
            .unwrap_or_else(|| panic!("{line} in {out}"));
        assert_eq!(
            got.rsplit(' ').next(),
            Some(hex(expected).as_str()),
            "message {i} is byte-exact"
        );
    }
    assert!(out.contains("+OK Bye, 1 messages removed"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("after 2 1 ")), "{out}");
    let recover = server.admin().run(&["account", "list"], b"");
    assert!(recover.status.success());
}

#[test]
fn curl_reads_a_message() {
    let (server, messages) = server_with_mail("cu@example.test", 2);
    let url = format!("pop3://127.0.0.1:{}/2", server.port("pop3"));
    let out = run_tool(
        "curl",
        &["-sS", "--user", "cu@example.test:secret pw", &url],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, messages[1]);
    let list = run_tool(
        "curl",
        &[
            "-sS",
            "--user",
            "cu@example.test:secret pw",
            &format!("pop3://127.0.0.1:{}/", server.port("pop3")),
        ],
        b"",
    );
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        format!("1 {}\r\n2 {}\r\n", messages[0].len(), messages[1].len())
    );
}

fn fetchmail(server: &Server, user: &str, keep: bool) -> (i32, Vec<String>) {
    let out_dir = server.path().join(if keep { "keep" } else { "delete" });
    std::fs::create_dir_all(&out_dir).expect("out dir");
    let rc = server.path().join(format!("fetchmailrc-{keep}"));
    // Keep mode remembers UIDLs and fetches only what is new; delete mode takes everything.
    let (server_options, options) = if keep {
        ("uidl ", "keep")
    } else {
        ("", "fetchall nokeep")
    };
    std::fs::write(
        &rc,
        format!(
            "set no bouncemail\nset idfile \"{}/ids-{keep}\"\n\
             poll 127.0.0.1 with proto POP3 port {} {server_options}auth password\n  user \"{user}\" there with password \"secret pw\" is root here\n  options {options} sslproto '' mda \"cat > {}/msg-%T-$$\"\n",
            server.path().display(),
            server.port("pop3"),
            out_dir.display()
        ),
    )
    .expect("rc");
    let mut perms = std::fs::metadata(&rc).expect("rc").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&rc, perms).expect("chmod");
    let out = run_tool(
        "fetchmail",
        &[
            "-f",
            rc.to_str().unwrap_or_default(),
            "--nosyslog",
            "--nodetach",
        ],
        b"",
    );
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code <= 1,
        "fetchmail failed ({code}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fetched: Vec<String> = std::fs::read_dir(&out_dir)
        .expect("read out dir")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    (code, fetched)
}

fn pop3_stat(server: &Server, user: &str) -> usize {
    let out = python(&format!(
        "import poplib\np = poplib.POP3('127.0.0.1', {})\np.user('{user}'); p.pass_('secret pw')\nprint(p.stat()[0]); p.quit()",
        server.port("pop3")
    ));
    out.trim().parse().expect("count")
}

#[test]
fn fetchmail_keep_mode_leaves_mail_and_fetches_once() {
    let (server, _) = server_with_mail("fk@example.test", 3);
    let (code, fetched) = fetchmail(&server, "fk@example.test", true);
    assert_eq!(code, 0, "fetchmail got mail");
    assert_eq!(fetched.len(), 3);
    assert!(fetched.iter().any(|m| m.contains("Subject: pop3 test 2")));
    assert_eq!(
        pop3_stat(&server, "fk@example.test"),
        3,
        "kept on the server"
    );
    // A second run knows every UIDL already: nothing new (fetchmail's exit code 1).
    let (code, fetched_again) = fetchmail(&server, "fk@example.test", true);
    assert_eq!((code, fetched_again.len()), (1, 3));
}

#[test]
fn fetchmail_delete_mode_empties_the_maildrop_into_recovery() {
    let (server, _) = server_with_mail("fd@example.test", 3);
    let (code, fetched) = fetchmail(&server, "fd@example.test", false);
    assert_eq!(code, 0);
    assert_eq!(fetched.len(), 3);
    assert_eq!(
        pop3_stat(&server, "fd@example.test"),
        0,
        "deleted from the server"
    );
    let check = server.admin().ok(&["check"], b"");
    assert_eq!(check.trim(), "store ok");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
