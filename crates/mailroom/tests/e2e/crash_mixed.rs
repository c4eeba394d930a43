//! Crash safety under mixed load: a real `mailroom serve` is SIGKILLed at a random moment while
//! LMTP and SMTP deliveries, IMAP APPENDs, IMAP STORE \Deleted + EXPUNGE and POP3 sessions
//! (RETR, DELE, QUIT) run at once, then restarted on the same data directory, several rounds.
//!
//! Every operation the server acknowledged must have happened: a delivered or appended
//! message is in its folder exactly once and byte-exact; a message removed by an acknowledged
//! EXPUNGE or POP3 QUIT is gone from its folder and in the recovery area. What was not
//! acknowledged may or may not have happened, but no message is ever there twice or cut short,
//! and `mailroom check` passes after every restart.
//!
//! The kill comes after a random number of acknowledgements (seeded; the seed is printed, set
//! `MAILROOM_CRASH_SEED` to replay a run's choices), so no clock decides anything.

use crate::support;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use support::Server;

const ROUNDS: u32 = 8;
const VICTIM: &str = "victim@example.test";
const PASSWORD: &str = "pw";
const LISTENERS: &str = "[smtp]\nlisten = [\"127.0.0.1:0\"]\n[lmtp]\nlisten = [\"127.0.0.1:0\"]\n\
                         [imap]\nlisten = [\"127.0.0.1:0\"]\n[pop3]\nlisten = [\"127.0.0.1:0\"]\n";
/// Only a guard against a hung server: a read that waits this long fails the test.
const HANG: Duration = Duration::from_secs(60);

/// POP3 sessions lock the maildrop with a lease that outlives a killed server (it expires
/// after two minutes), so each round has a POP3 account of its own.
fn pop_account(round: u32) -> String {
    format!("pop{round}@example.test")
}

#[test]
fn acknowledged_operations_survive_sigkill_under_mixed_load() {
    let seed = std::env::var("MAILROOM_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos() as u64
                | 1
        });
    eprintln!("crash_mixed: MAILROOM_CRASH_SEED={seed}");
    let mut rng = Rng(seed);
    let mut server = Server::start(LISTENERS, |admin| {
        admin.account(VICTIM, PASSWORD);
        for round in 0..ROUNDS {
            admin.account(&pop_account(round), PASSWORD);
        }
    });
    let ledger = Arc::new(Ledger::default());
    for round in 0..ROUNDS {
        if round > 0 {
            server.kill9_and_restart();
        }
        server.admin().ok(&["check"], b"");
        let target = 10 + rng.below(90);
        ledger.lock().round_start(round);
        let ports = Ports {
            lmtp: server.port("lmtp"),
            smtp: server.port("smtp"),
            imap: server.port("imap"),
            pop3: server.port("pop3"),
        };
        let workers = start_workers(&ledger, round, ports, rng.next());
        {
            let mut state = ledger.lock();
            while state.acks_this_round < target && state.running > 0 && !state.stop {
                state = ledger.wait(state);
            }
            state.stop = true;
        }
        server.kill9();
        ledger.changed.notify_all();
        for worker in workers {
            worker.join().expect("a worker failed");
        }
        let state = ledger.lock();
        eprintln!(
            "round {round}: killed after {} acknowledgements (target {target})",
            state.acks_this_round
        );
        assert!(
            state.acks_this_round >= target,
            "round {round}: every worker stopped before the server was killed"
        );
    }
    server.kill9_and_restart();
    server.admin().ok(&["check"], b"");
    verify(&server, &ledger.lock());
}

// ---- the ledger: what was sent and what the server acknowledged ----

#[derive(Clone, Copy)]
struct Ports {
    lmtp: u16,
    smtp: u16,
    imap: u16,
    pop3: u16,
}

/// (account, marker): the marker is the message's Subject, unique per message.
type Key = (String, String);

#[derive(Default)]
struct Ledger {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    /// Marker → the bytes sent (before SMTP/LMTP trace headers are added).
    sent: HashMap<String, Vec<u8>>,
    /// Acknowledged delivery or append → the folder it went to.
    stored: HashMap<Key, String>,
    /// Acknowledged removal (EXPUNGE OK, POP3 QUIT +OK): gone from the folder, recoverable.
    removed: HashSet<Key>,
    /// Removal asked for but not (yet) acknowledged: in the folder or recoverable, once.
    maybe_removed: HashSet<Key>,
    /// The victim's INBOX messages appended with a known UID, not yet picked for expunging.
    expungeable: Vec<(u32, String)>,
    /// Marked \Deleted with an acknowledged STORE; the next acknowledged EXPUNGE removes them.
    flagged: Vec<String>,
    /// Acknowledged deliveries to this round's POP3 account.
    pop_deliveries: u64,
    acks_this_round: u32,
    /// Acknowledgements over the whole run, by operation.
    acks_by_kind: BTreeMap<&'static str, u32>,
    running: u32,
    stop: bool,
    round: u32,
}

impl Ledger {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    fn ack(&self, kind: &'static str, f: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        f(&mut state);
        state.acks_this_round += 1;
        *state.acks_by_kind.entry(kind).or_default() += 1;
        drop(state);
        self.changed.notify_all();
    }

    fn stopped(&self) -> bool {
        self.lock().stop
    }
}

impl State {
    fn round_start(&mut self, round: u32) {
        self.round = round;
        self.acks_this_round = 0;
        self.pop_deliveries = 0;
        self.stop = false;
    }
}

/// Counts a worker as running until it returns or panics.
struct Running(Arc<Ledger>);

impl Drop for Running {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.running -= 1;
        // A failed worker stops the round, so no one waits for acknowledgements forever.
        if std::thread::panicking() {
            state.stop = true;
        }
        drop(state);
        self.0.changed.notify_all();
    }
}

fn start_workers(
    ledger: &Arc<Ledger>,
    round: u32,
    ports: Ports,
    seed: u64,
) -> Vec<std::thread::JoinHandle<()>> {
    type Work = fn(&Ledger, Worker, Ports, &mut Rng) -> io::Result<()>;
    let work: [(&str, Work); 7] = [
        ("lmtp", lmtp_worker),
        ("lmtp", lmtp_worker),
        ("smtp", smtp_worker),
        ("append", append_worker),
        ("append", append_worker),
        ("expunge", expunge_worker),
        ("pop3", pop3_worker),
    ];
    ledger.lock().running = work.len() as u32;
    work.into_iter()
        .enumerate()
        .map(|(i, (name, work))| {
            let ledger = ledger.clone();
            let mut rng = Rng(seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            std::thread::Builder::new()
                .name(format!("{name}-{round}"))
                .spawn(move || {
                    let _running = Running(ledger.clone());
                    let me = Worker { round, index: i };
                    if let Err(e) = work(&ledger, me, ports, &mut rng) {
                        // The server was killed under it; a server that hangs is a failure.
                        assert!(
                            !matches!(
                                e.kind(),
                                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                            ),
                            "{name}: the server stopped answering: {e}"
                        );
                        assert!(
                            ledger.stopped(),
                            "{name}: connection lost before the kill: {e}"
                        );
                    }
                })
                .expect("spawn worker")
        })
        .collect()
}

// ---- the workers: each loops until the server is gone ----

#[derive(Clone, Copy)]
struct Worker {
    round: u32,
    index: usize,
}

impl Worker {
    /// A unique marker (Subject) for the `n`th message of kind `kind`.
    fn marker(self, kind: char, n: u32) -> String {
        format!("cm-{kind}{}w{}-{n}", self.round, self.index)
    }
}

fn lmtp_worker(ledger: &Ledger, me: Worker, ports: Ports, rng: &mut Rng) -> io::Result<()> {
    let pop = pop_account(me.round);
    let mut c = Conn::open(ports.lmtp)?;
    c.smtp_expect("greeting", "220")?;
    c.send(b"LHLO crash.test\r\n")?;
    c.smtp_expect("LHLO", "250")?;
    for n in 0.. {
        if ledger.stopped() {
            return Ok(());
        }
        let marker = me.marker('d', n);
        let content = message(&marker, rng);
        ledger.lock().sent.insert(marker.clone(), content.clone());
        c.send(
            format!(
                "MAIL FROM:<load@example.org>\r\nRCPT TO:<{VICTIM}>\r\nRCPT TO:<{pop}>\r\nDATA\r\n"
            )
            .as_bytes(),
        )?;
        for step in ["MAIL", "RCPT", "RCPT"] {
            c.smtp_expect(step, "250")?;
        }
        c.smtp_expect("DATA", "354")?;
        c.send(&dot_stuffed(&content))?;
        // LMTP: one reply per accepted recipient (RFC 2033 §4.2).
        for rcpt in [VICTIM, &pop] {
            c.smtp_expect("end of data", "250")?;
            let key = (rcpt.to_string(), marker.clone());
            ledger.ack("LMTP 250", |s| {
                s.stored.insert(key, "INBOX".into());
                if rcpt == pop {
                    s.pop_deliveries += 1;
                }
            });
        }
    }
    Ok(())
}

fn smtp_worker(ledger: &Ledger, me: Worker, ports: Ports, rng: &mut Rng) -> io::Result<()> {
    let mut c = Conn::open(ports.smtp)?;
    c.smtp_expect("greeting", "220")?;
    c.send(b"EHLO crash.test\r\n")?;
    c.smtp_expect("EHLO", "250")?;
    for n in 0.. {
        if ledger.stopped() {
            return Ok(());
        }
        let marker = me.marker('s', n);
        let content = message(&marker, rng);
        ledger.lock().sent.insert(marker.clone(), content.clone());
        c.send(b"MAIL FROM:<load@example.org>\r\n")?;
        c.smtp_expect("MAIL", "250")?;
        c.send(format!("RCPT TO:<{VICTIM}>\r\n").as_bytes())?;
        c.smtp_expect("RCPT", "250")?;
        c.send(b"DATA\r\n")?;
        c.smtp_expect("DATA", "354")?;
        c.send(&dot_stuffed(&content))?;
        c.smtp_expect("end of data", "250")?;
        ledger.ack("SMTP 250", |s| {
            s.stored.insert((VICTIM.into(), marker), "INBOX".into());
        });
    }
    Ok(())
}

fn append_worker(ledger: &Ledger, me: Worker, ports: Ports, rng: &mut Rng) -> io::Result<()> {
    let mut c = Conn::imap_login(ports.imap, VICTIM)?;
    for n in 0.. {
        if ledger.stopped() {
            return Ok(());
        }
        let marker = me.marker('a', n);
        let content = message(&marker, rng);
        let folder = if n % 3 == 2 { "Archive" } else { "INBOX" };
        ledger.lock().sent.insert(marker.clone(), content.clone());
        let tag = format!("a{n}");
        c.send(format!("{tag} APPEND {folder} (\\Seen) {{{}}}\r\n", content.len()).as_bytes())?;
        let go = c.imap_response()?;
        assert!(go.starts_with(b"+"), "APPEND continuation: {}", show(&go));
        c.send(&content)?;
        c.send(b"\r\n")?;
        let (_, done) = c.imap_until_tagged(&tag)?;
        let uid = appenduid(&done)
            .unwrap_or_else(|| panic!("APPEND {marker}: no APPENDUID in {}", show(&done)));
        ledger.ack("APPENDUID", |s| {
            s.stored
                .insert((VICTIM.into(), marker.clone()), folder.into());
            if folder == "INBOX" {
                s.expungeable.push((uid, marker));
            }
        });
    }
    Ok(())
}

fn expunge_worker(ledger: &Ledger, _me: Worker, ports: Ports, rng: &mut Rng) -> io::Result<()> {
    let mut c = Conn::imap_login(ports.imap, VICTIM)?;
    c.imap_ok("s", "SELECT INBOX")?;
    for n in 0.. {
        // Wait for an appended message to remove.
        let picked: Vec<(u32, String)> = {
            let mut state = ledger.lock();
            while state.expungeable.is_empty() && !state.stop {
                state = ledger.wait(state);
            }
            if state.stop {
                return Ok(());
            }
            let take = (1 + rng.below(3) as usize).min(state.expungeable.len());
            let picked: Vec<_> = (0..take)
                .map(|_| {
                    let i = rng.below(state.expungeable.len() as u32) as usize;
                    state.expungeable.swap_remove(i)
                })
                .collect();
            for (_, marker) in &picked {
                state.maybe_removed.insert((VICTIM.into(), marker.clone()));
            }
            picked
        };
        // A session knows of a message once it was told EXISTS; a UID it does not know is
        // ignored (RFC 9051 §6.4.9). NOOP brings the view up to date with the appends.
        c.imap_ok(&format!("n{n}"), "NOOP")?;
        let uids: Vec<String> = picked.iter().map(|(uid, _)| uid.to_string()).collect();
        let tag = format!("f{n}");
        let (untagged, done) = c.imap_until_tagged_cmd(
            &tag,
            &format!("UID STORE {} +FLAGS (\\Deleted)", uids.join(",")),
        )?;
        assert!(
            done.starts_with(format!("{tag} OK").as_bytes()),
            "STORE: {}",
            show(&done)
        );
        // Flagged for sure: those the server reports with their new flags. Any other stays
        // "maybe removed" and is not picked again.
        let reported: HashSet<u32> = untagged.iter().filter_map(|r| fetch_uid(r)).collect();
        let flagged: Vec<String> = picked
            .iter()
            .filter(|(uid, _)| reported.contains(uid))
            .map(|(_, m)| m.clone())
            .collect();
        assert!(
            !flagged.is_empty() || picked.is_empty(),
            "UID STORE {uids:?} reported none of them: {:?}",
            untagged.iter().map(|r| show(r)).collect::<Vec<_>>()
        );
        if flagged.len() < picked.len() {
            eprintln!(
                "expunge: UID STORE {uids:?} reported only {} of them after NOOP",
                flagged.len()
            );
        }
        ledger.ack("STORE OK", |s| s.flagged.extend(flagged));
        // Every message flagged before this EXPUNGE was sent is gone once it is acknowledged
        // (RFC 9051 §6.4.3), including those flagged in an earlier round.
        let flagged_before: Vec<String> = ledger.lock().flagged.clone();
        c.imap_ok(&format!("x{n}"), "EXPUNGE")?;
        ledger.ack("EXPUNGE OK", |s| {
            for marker in &flagged_before {
                let key = (VICTIM.to_string(), marker.clone());
                s.maybe_removed.remove(&key);
                s.removed.insert(key);
            }
            s.flagged.retain(|m| !flagged_before.contains(m));
        });
    }
    Ok(())
}

fn pop3_worker(ledger: &Ledger, me: Worker, ports: Ports, rng: &mut Rng) -> io::Result<()> {
    let account = pop_account(me.round);
    let mut seen_deliveries = 0;
    loop {
        {
            let mut state = ledger.lock();
            while state.pop_deliveries == seen_deliveries && !state.stop {
                state = ledger.wait(state);
            }
            if state.stop {
                return Ok(());
            }
            seen_deliveries = state.pop_deliveries;
        }
        let mut c = Conn::open(ports.pop3)?;
        c.pop_ok("greeting")?;
        c.send(format!("USER {account}\r\n").as_bytes())?;
        c.pop_ok("USER")?;
        c.send(format!("PASS {PASSWORD}\r\n").as_bytes())?;
        c.pop_ok("PASS")?;
        c.send(b"STAT\r\n")?;
        let stat = c.pop_ok("STAT")?;
        let count: u32 = std::str::from_utf8(&stat)
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
            .unwrap_or_else(|| panic!("STAT: {}", show(&stat)));
        let mut deleted = Vec::new();
        for n in 1..=count {
            if rng.below(3) == 0 {
                continue;
            }
            c.send(format!("RETR {n}\r\n").as_bytes())?;
            c.pop_ok("RETR")?;
            let body = c.pop_multiline()?;
            let marker = subject(&body).unwrap_or_else(|| panic!("RETR {n}: no subject"));
            check_content(&ledger.lock().sent, &marker, &body);
            if rng.below(4) != 0 {
                c.send(format!("DELE {n}\r\n").as_bytes())?;
                c.pop_ok("DELE")?;
                deleted.push(marker);
            }
        }
        {
            let mut state = ledger.lock();
            for marker in &deleted {
                state
                    .maybe_removed
                    .insert((account.clone(), marker.clone()));
            }
        }
        c.send(b"QUIT\r\n")?;
        c.pop_ok("QUIT")?;
        ledger.ack("POP3 QUIT", |s| {
            for marker in deleted {
                let key = (account.clone(), marker);
                s.maybe_removed.remove(&key);
                s.removed.insert(key);
            }
        });
    }
}

// ---- the final picture ----

fn verify(server: &Server, state: &State) {
    let data = server.path().join("data");
    let mut accounts = vec![VICTIM.to_string()];
    accounts.extend((0..ROUNDS).map(pop_account));
    let (mut kept, mut gone, mut unsure) = (0, 0, 0);
    for account in &accounts {
        // Where each marker is now: (folder → count) and in the recovery area.
        let picture = support::picture(&data, account);
        let mut found: HashMap<String, Vec<String>> = HashMap::new();
        for (folder, messages) in &picture {
            for (bytes, ..) in messages {
                let marker = subject(bytes)
                    .unwrap_or_else(|| panic!("{account}/{folder}: a message without subject"));
                check_content(&state.sent, &marker, bytes);
                found.entry(marker).or_default().push(folder.clone());
            }
        }
        let listing = server.admin().ok(&["recover", "list", account], b"");
        let mut recoverable: HashMap<String, u32> = HashMap::new();
        for word in listing.split_whitespace().filter(|w| w.starts_with("cm-")) {
            *recoverable.entry(word.to_string()).or_default() += 1;
        }
        for (marker, folders) in &found {
            assert_eq!(
                folders.len(),
                1,
                "{account}: {marker} is stored {folders:?}"
            );
        }
        let mut markers: Vec<&String> = found.keys().chain(recoverable.keys()).collect();
        markers.extend(
            state
                .stored
                .keys()
                .chain(&state.removed)
                .filter(|(a, _)| a == account)
                .map(|(_, m)| m),
        );
        markers.sort();
        markers.dedup();
        for marker in markers {
            let key = (account.clone(), marker.clone());
            let here = found.get(marker).map_or(&[][..], Vec::as_slice);
            let recovered = recoverable.get(marker).copied().unwrap_or(0);
            let what = format!("{account}: {marker} (in {here:?}, {recovered} recoverable)");
            if state.removed.contains(&key) {
                assert!(here.is_empty(), "removal acknowledged, still there: {what}");
                assert_eq!(
                    recovered, 1,
                    "removal acknowledged, not recoverable: {what}"
                );
                gone += 1;
            } else if state.maybe_removed.contains(&key) {
                assert_eq!(here.len() as u32 + recovered, 1, "{what}");
                unsure += 1;
            } else if let Some(folder) = state.stored.get(&key) {
                assert_eq!(here, std::slice::from_ref(folder), "acknowledged: {what}");
                assert_eq!(recovered, 0, "never removed: {what}");
                kept += 1;
            } else {
                // Delivery not acknowledged: there at most once.
                assert!(here.len() as u32 + recovered <= 1, "{what}");
                unsure += 1;
            }
        }
    }
    assert_eq!(
        imap_view(server, "INBOX"),
        support::picture(&data, VICTIM)["INBOX"]
            .iter()
            .map(|m| m.0.clone())
            .collect::<Vec<_>>(),
        "IMAP shows the stored INBOX"
    );
    eprintln!("crash_mixed: acknowledgements {:?}", state.acks_by_kind);
    eprintln!(
        "crash_mixed: {} messages sent, {kept} acknowledged and kept, {gone} acknowledged \
         removals, {unsure} unacknowledged outcomes checked for no duplicates",
        state.sent.len()
    );
    assert!(
        kept > 0 && gone > 0,
        "the load acknowledged too little to test"
    );
}

/// Every message of `folder` through IMAP, in UID order.
fn imap_view(server: &Server, folder: &str) -> Vec<Vec<u8>> {
    let mut c = Conn::imap_login(server.port("imap"), VICTIM).expect("IMAP login");
    c.imap_ok("s", &format!("EXAMINE {folder}"))
        .expect("EXAMINE");
    let (untagged, done) = c
        .imap_until_tagged_cmd("f", "UID FETCH 1:* (UID BODY.PEEK[])")
        .expect("FETCH");
    assert!(done.starts_with(b"f OK"), "FETCH: {}", show(&done));
    let mut bodies = BTreeMap::new();
    for response in untagged {
        let Some(open) = find(&response, b"BODY[] {") else {
            continue;
        };
        let rest = &response[open + 8..];
        let close = find(rest, b"}\r\n").expect("literal");
        let len: usize = std::str::from_utf8(&rest[..close])
            .unwrap()
            .parse()
            .unwrap();
        let body = rest[close + 3..close + 3 + len].to_vec();
        let uid_at = find(&response, b"UID ").expect("UID in FETCH") + 4;
        let digits: String = response[uid_at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .map(|&b| b as char)
            .collect();
        let uid: u32 = digits.parse().expect("UID value");
        bodies.insert(uid, body);
    }
    bodies.into_values().collect()
}

/// Stored bytes are the bytes sent, after the trace headers SMTP and LMTP add (RFC 5321
/// §4.4), never a truncated or altered copy.
fn check_content(sent: &HashMap<String, Vec<u8>>, marker: &str, stored: &[u8]) {
    let original = sent
        .get(marker)
        .unwrap_or_else(|| panic!("{marker}: a message nobody sent"));
    assert!(
        stored.ends_with(original),
        "{marker}: stored {} bytes do not end with the {} bytes sent",
        stored.len(),
        original.len()
    );
    let trace = &stored[..stored.len() - original.len()];
    if !trace.is_empty() {
        assert!(
            trace.starts_with(b"Return-Path: ") && trace.ends_with(b"\r\n"),
            "{marker}: unexpected bytes before the message: {}",
            show(trace)
        );
    }
}

// ---- messages ----

/// A CRLF message of a few hundred bytes to a few hundred kilobytes; its Subject is the
/// marker. Some lines start with a dot, so SMTP's transparency is part of the test.
fn message(marker: &str, rng: &mut Rng) -> Vec<u8> {
    let lines = match rng.below(10) {
        0 => 2000 + rng.below(3000),
        1..=3 => 200 + rng.below(800),
        _ => 1 + rng.below(40),
    };
    let mut m = format!(
        "From: load@example.org\r\nTo: {VICTIM}\r\nSubject: {marker}\r\n\
         Message-ID: <{marker}@crash-mixed.test>\r\n\r\n"
    )
    .into_bytes();
    for i in 0..lines {
        let dot = if i % 17 == 3 { "." } else { "" };
        m.extend_from_slice(
            format!("{dot}line {i} of {marker}, filler {}\r\n", rng.next()).as_bytes(),
        );
    }
    m
}

fn dot_stuffed(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 64);
    for line in content.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// The Subject header's value: the marker.
fn subject(message: &[u8]) -> Option<String> {
    let at = find(message, b"\r\nSubject: ")? + 11;
    let end = find(&message[at..], b"\r\n")?;
    Some(String::from_utf8_lossy(&message[at..at + end]).into_owned())
}

/// `* 3 FETCH (UID 17 FLAGS (...))` → 17.
fn fetch_uid(response: &[u8]) -> Option<u32> {
    if !response.starts_with(b"* ") || find(response, b" FETCH (").is_none() {
        return None;
    }
    let at = find(response, b"UID ")? + 4;
    let digits: String = response[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    digits.parse().ok()
}

fn appenduid(response: &[u8]) -> Option<u32> {
    let text = std::str::from_utf8(response).ok()?;
    let rest = &text[text.find("[APPENDUID ")? + 11..];
    rest.split([' ', ']']).nth(1)?.parse().ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn show(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]);
    text.trim_end().to_string()
}

/// xorshift64*: small, seeded, good enough to pick moments and sizes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }
}

// ---- a minimal line-based client for the three protocols ----

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(port: u16) -> io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(HANG))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// One line with its CRLF; the end of the stream is an error (the server is gone).
    fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line)
    }

    /// An SMTP/LMTP reply (all its lines); panics unless its code is `code`.
    fn smtp_expect(&mut self, step: &str, code: &str) -> io::Result<Vec<u8>> {
        let mut reply = Vec::new();
        loop {
            let line = self.line()?;
            reply.extend_from_slice(&line);
            if line.get(3) != Some(&b'-') {
                break;
            }
        }
        assert!(
            reply.starts_with(code.as_bytes()),
            "{step}: {}",
            show(&reply)
        );
        Ok(reply)
    }

    fn pop_ok(&mut self, step: &str) -> io::Result<Vec<u8>> {
        let line = self.line()?;
        assert!(line.starts_with(b"+OK"), "POP3 {step}: {}", show(&line));
        Ok(line)
    }

    /// A POP3 multi-line body, un-dot-stuffed (RFC 1939 §3).
    fn pop_multiline(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.line()?;
            if line == b".\r\n" {
                return Ok(body);
            }
            body.extend_from_slice(line.strip_prefix(b".").unwrap_or(&line));
        }
    }

    fn imap_login(port: u16, user: &str) -> io::Result<Conn> {
        let mut c = Conn::open(port)?;
        let greeting = c.line()?;
        assert!(
            greeting.starts_with(b"* OK"),
            "IMAP greeting: {}",
            show(&greeting)
        );
        c.imap_ok("l", &format!("LOGIN \"{user}\" \"{PASSWORD}\""))?;
        Ok(c)
    }

    /// One IMAP response with its literals inline.
    fn imap_response(&mut self) -> io::Result<Vec<u8>> {
        let mut response = Vec::new();
        loop {
            let line = self.line()?;
            response.extend_from_slice(&line);
            let Some(len) = literal_len(&line) else {
                return Ok(response);
            };
            let start = response.len();
            response.resize(start + len, 0);
            self.reader.read_exact(&mut response[start..])?;
        }
    }

    fn imap_until_tagged(&mut self, tag: &str) -> io::Result<(Vec<Vec<u8>>, Vec<u8>)> {
        let prefix = format!("{tag} ");
        let mut untagged = Vec::new();
        loop {
            let response = self.imap_response()?;
            if response.starts_with(prefix.as_bytes()) {
                return Ok((untagged, response));
            }
            untagged.push(response);
        }
    }

    fn imap_until_tagged_cmd(
        &mut self,
        tag: &str,
        command: &str,
    ) -> io::Result<(Vec<Vec<u8>>, Vec<u8>)> {
        self.send(format!("{tag} {command}\r\n").as_bytes())?;
        self.imap_until_tagged(tag)
    }

    /// Sends a command and panics unless it completes with OK.
    fn imap_ok(&mut self, tag: &str, command: &str) -> io::Result<Vec<u8>> {
        let (_, done) = self.imap_until_tagged_cmd(tag, command)?;
        assert!(
            done.starts_with(format!("{tag} OK").as_bytes()),
            "{command}: {}",
            show(&done)
        );
        Ok(done)
    }
}

/// `... {123}\r\n` → 123 (also the non-synchronizing `{123+}`).
fn literal_len(line: &[u8]) -> Option<usize> {
    let line = line.strip_suffix(b"\r\n")?;
    let line = line.strip_suffix(b"}")?;
    let open = line.iter().rposition(|&b| b == b'{')?;
    let digits = &line[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    std::str::from_utf8(digits).ok()?.parse().ok()
}
