//! A full disk, for real: the store on a 6 MiB tmpfs, filled over SMTP until it has no room.
//! Every refusal says storage ("452 4.3.1", "NO [OVERQUOTA] not enough disk space"), never
//! a generic failure, and every message that was acknowledged is there to read.
//!
//! Mounting needs root, as CI runs; elsewhere the test says so and passes without running.

use crate::support::Server;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Unmounts (lazily, in case a process still holds a file) when the test ends.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(at).expect("mount point");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

struct Smtp(BufReader<TcpStream>);

impl Smtp {
    fn connect(port: u16) -> Smtp {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let mut smtp = Smtp(BufReader::new(stream));
        assert!(smtp.reply().starts_with("220"));
        smtp
    }

    fn reply(&mut self) -> String {
        let mut out = String::new();
        loop {
            let mut line = String::new();
            self.0.read_line(&mut line).expect("reply");
            assert!(!line.is_empty(), "connection closed");
            out.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return out.trim_end().to_string();
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.0.get_mut().write_all(bytes).expect("write");
    }

    fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }
}

#[test]
fn a_full_disk_is_named_and_loses_nothing() {
    if !is_root() {
        eprintln!("disk_full: skipped, mounting a tmpfs needs root (CI runs as root)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(_mount) = Tmpfs::mount(&dir.path().join("data"), "6m") else {
        panic!("mount -t tmpfs failed although running as root");
    };
    let listeners = "[smtp]\nlisten = [\"127.0.0.1:0\"]\n[imap]\nlisten = [\"127.0.0.1:0\"]\n\
                     [backup]\ntime = \"off\"\n";
    let server = Server::start_in(dir, listeners, |admin| {
        admin.account("big@example.test", "pw");
    });
    let mut smtp = Smtp::connect(server.port("smtp"));
    assert!(smtp.cmd("EHLO filler.example").starts_with("250"));
    // Distinct 200 KiB messages (identical ones would share one file).
    let mut accepted = 0;
    let refusal = loop {
        assert!(
            accepted < 100,
            "a 6 MiB disk took {accepted} messages of 200 KiB"
        );
        assert!(smtp.cmd("MAIL FROM:<a@remote.example>").starts_with("250"));
        assert!(smtp.cmd("RCPT TO:<big@example.test>").starts_with("250"));
        assert!(smtp.cmd("DATA").starts_with("354"));
        let body: String = (0..2800)
            .map(|line| format!("message {accepted} line {line} {}\r\n", "x".repeat(50)))
            .collect();
        smtp.send(format!("Subject: filler {accepted}\r\n\r\n{body}.\r\n").as_bytes());
        let reply = smtp.reply();
        if reply.starts_with("250") {
            accepted += 1;
            continue;
        }
        break reply;
    };
    assert_eq!(refusal, "452 4.3.1 Insufficient system storage");
    assert!(accepted > 0, "nothing fitted at all");

    // IMAP: APPEND says why, in words a client shows.
    let imap = TcpStream::connect(("127.0.0.1", server.port("imap"))).expect("imap");
    imap.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut imap = BufReader::new(imap);
    let mut line = String::new();
    imap.read_line(&mut line).expect("greeting");
    let tagged = |imap: &mut BufReader<TcpStream>, tag: &str, command: &[u8]| {
        imap.get_mut().write_all(command).expect("write");
        loop {
            let mut line = String::new();
            imap.read_line(&mut line).expect("line");
            assert!(!line.is_empty(), "closed");
            if line.starts_with(tag) || line.starts_with("+ ") {
                return line.trim_end().to_string();
            }
        }
    };
    assert!(tagged(&mut imap, "l ", b"l LOGIN big@example.test pw\r\n").starts_with("l OK"));
    let big: String = (0..4000)
        .map(|i| format!("append line {i} {}\r\n", "y".repeat(60)))
        .collect();
    let message = format!("Subject: appended\r\n\r\n{big}");
    let go = tagged(
        &mut imap,
        "a ",
        format!("a APPEND INBOX {{{}}}\r\n", message.len()).as_bytes(),
    );
    assert!(go.starts_with("+ "), "{go}");
    let answer = tagged(&mut imap, "a ", format!("{message}\r\n").as_bytes());
    assert_eq!(
        answer,
        "a NO [OVERQUOTA] not enough disk space on the server"
    );
    // Everything acknowledged is there, whole.
    let status = tagged(&mut imap, "s ", b"s SELECT INBOX\r\n");
    assert!(status.starts_with("s OK"), "{status}");
    imap.get_mut()
        .write_all(b"f FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
        .expect("fetch");
    let mut subjects = 0;
    loop {
        let mut line = String::new();
        imap.read_line(&mut line).expect("fetch line");
        if line.starts_with("Subject: filler") {
            subjects += 1;
        }
        if line.starts_with("f ") {
            assert!(line.starts_with("f OK"), "{line}");
            break;
        }
    }
    assert_eq!(subjects, accepted, "every acknowledged message is stored");
    let mut rest = Vec::new();
    let _ = imap.get_mut().write_all(b"z LOGOUT\r\n");
    let _ = imap.read_to_end(&mut rest);
    drop(server);
}
