//! The probe of issue 17 against the real server: two sessions each sending a SEARCH of a
//! million BODY terms (17 MB of literals), then as many sessions as the machine has cores
//! looping the heaviest commands the server accepts, while another client keeps logging in
//! and reading. Before the CPU pool the two searches stopped every other client for about 45
//! seconds; the bound here is generous (a stall, not a speed, is what it catches).

use crate::support;

use support::{Server, run_tool};

#[test]
fn heavy_sessions_do_not_stall_other_clients() {
    let server = Server::start("[imap]\nlisten = [\"127.0.0.1:0\"]\n", |admin| {
        admin.account("heavy@example.test", "pw");
        admin.account("probe@example.test", "pw");
    });
    let port = server.port("imap");
    let script = format!(
        r#"
import imaplib, socket, threading, time
PORT = {port}
HEAVY = 4

s = imaplib.IMAP4("127.0.0.1", PORT)
s.login("heavy@example.test", "pw")
for i in range(300):
    words = " ".join("w%d" % ((i * 7 + k) % 97) for k in range(40))
    msg = ("From: a%d@example.org\r\nSubject: Re: [list] topic %d\r\nMessage-ID: <m%d@x>\r\n"
           "References: <m%d@x>\r\n\r\n%s\r\n" % (i % 13, i % 29, i, max(i - 3, 0), words)).encode()
    s.append("INBOX", None, None, msg)
s.logout()

# The original probe: a million BODY terms as LITERAL+ literals, sent whole.
def million_term_search(results):
    c = socket.create_connection(("127.0.0.1", PORT))
    f = c.makefile("rb")
    f.readline()
    c.sendall(b"a LOGIN heavy@example.test pw\r\n")
    while not f.readline().startswith(b"a "):
        pass
    c.sendall(b"b SELECT INBOX\r\n")
    while not f.readline().startswith(b"b "):
        pass
    chunk = b" BODY {{5+}}\r\nhello" * 10000
    c.sendall(b"c SEARCH")
    for _ in range(100):
        c.sendall(chunk)
    c.sendall(b"\r\n")
    while True:
        line = f.readline()
        if not line or line.startswith(b"c "):
            results.append(line.strip().decode())
            break
    c.close()

heavy_done = [0] * HEAVY
stop = threading.Event()
def heavy(n):
    c = imaplib.IMAP4("127.0.0.1", PORT)
    c.login("heavy@example.test", "pw")
    c.select("INBOX")
    keys = " ".join(["UNDELETED"] * 900)
    bodies = " ".join("OR BODY w%d" % k for k in range(60)) + " BODY w96"
    commands = [
        lambda: c.search(None, "(%s) (%s)" % (keys, bodies)),
        lambda: c.sort("(SUBJECT)", "UTF-8", "ALL"),
        lambda: c.thread("REFERENCES", "UTF-8", "ALL"),
        lambda: c.fetch("1:*", "(BODYSTRUCTURE)"),
    ]
    i = n
    while not stop.is_set():
        typ, _ = commands[i % len(commands)]()
        assert typ == "OK", typ
        heavy_done[n] += 1
        i += 1
    c.logout()

refusals = []
searchers = [threading.Thread(target=million_term_search, args=(refusals,)) for _ in range(2)]
workers = [threading.Thread(target=heavy, args=(n,)) for n in range(HEAVY)]
for t in searchers + workers:
    t.start()

rounds = []
deadline = time.time() + 8
while time.time() < deadline:
    start = time.time()
    p = imaplib.IMAP4("127.0.0.1", PORT)
    p.login("probe@example.test", "pw")
    p.select("INBOX")
    p.fetch("1:*", "(FLAGS)")
    p.logout()
    rounds.append(time.time() - start)
    time.sleep(0.2)
stop.set()
for t in searchers + workers:
    t.join(120)
print("refusals", refusals)
print("rounds", len(rounds), "slowest %.3f" % max(rounds))
print("heavy", heavy_done)
"#
    );
    let out = run_tool("python3", &["-c", &script], b"");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("no {key} in {stdout}"))
            .trim()
            .to_string()
    };
    let refusals = line("refusals");
    assert_eq!(
        refusals.matches("BAD [TOOBIG]").count(),
        2,
        "both million-term searches are refused: {refusals}"
    );
    let rounds = line("rounds");
    let mut fields = rounds.split_whitespace();
    let count: usize = fields.next().and_then(|n| n.parse().ok()).expect("count");
    let slowest: f64 = fields.nth(1).and_then(|s| s.parse().ok()).expect("slowest");
    assert!(
        count >= 4,
        "the probe got through only {count} rounds in 8 s"
    );
    assert!(
        slowest < 5.0,
        "a probe round (connect, LOGIN, SELECT, FETCH) took {slowest} s while heavy sessions ran"
    );
    // The heavy sessions are slowed, not stopped (one heavy command may take the whole
    // window on a debug build, so count them together).
    let heavy = line("heavy");
    let done: u32 = heavy
        .trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .filter_map(|n| n.trim().parse::<u32>().ok())
        .sum();
    assert!(done >= 4, "heavy sessions finished only {heavy} commands");
}
