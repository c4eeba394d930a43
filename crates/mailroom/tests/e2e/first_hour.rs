//! What a new administrator meets in the first hour (issue 18): commands that say which store
//! they mean, errors that name the object once, help for everything, logs fit for files and
//! log shippers, and `check --repair` for what a crash leaves behind.

use crate::support::{self, Admin};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn mailroom_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .current_dir(dir)
        .env_remove("MAILROOM_CONFIG")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run mailroom")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn admin_commands_never_create_a_store_by_accident() {
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [
        &["account", "list"][..],
        &["account", "add", "a@example.com"],
        &["domain", "list"],
        &["check"],
        &["quota", "show", "a@example.com"],
    ] {
        let out = mailroom_in(dir.path(), args);
        assert!(!out.status.success(), "{args:?}");
        let text = stderr(&out);
        let store = dir.path().join("mailroom-data");
        assert!(
            text.contains(&format!("no store in {}", store.display())),
            "{args:?}: {text}"
        );
        assert!(text.contains("--config"), "{text}");
        assert!(!store.exists(), "{args:?} created {}", store.display());
    }
    let mut deliver = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .current_dir(dir.path())
        .env_remove("MAILROOM_CONFIG")
        .args(["deliver", "a@example.com"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    deliver
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"Subject: x\n\nx\n")
        .expect("write");
    let out = deliver.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(75), "EX_TEMPFAIL: the MTA retries");
    assert!(stderr(&out).contains("no store in"), "{}", stderr(&out));
    assert!(!dir.path().join("mailroom-data").exists());

    // The first domain of a new server creates its store.
    let out = mailroom_in(dir.path(), &["domain", "add", "example.com"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("mailroom-data").exists());
    let out = mailroom_in(dir.path(), &["account", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn dns_records_for_localhost_come_with_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = mailroom_in(dir.path(), &["domain", "add", "example.com"]);
    assert!(out.status.success());
    let records = String::from_utf8_lossy(&out.stdout);
    assert!(records.contains("MX 10 localhost."), "{records}");
    let warning = stderr(&out);
    assert!(
        warning.contains("hostname") && warning.contains("public name"),
        "{warning}"
    );
    assert!(
        !records.contains("warning"),
        "stdout stays pasteable: {records}"
    );

    let config = dir.path().join("mailroom.toml");
    std::fs::write(
        &config,
        "data_dir = \"mailroom-data\"\nhostname = \"mail.example.com\"\n",
    )
    .expect("config");
    let out = Admin::at(config).run(&["domain", "dns", "example.com"], b"");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("MX 10 mail.example.com."));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn errors_name_the_object_and_say_each_cause_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").expect("config");
    let admin = Admin::at(config);
    admin.ok(&["domain", "add", "example.com"], b"");
    let error = |args: &[&str]| {
        let out = admin.run(args, b"pw\n");
        assert!(!out.status.success(), "{args:?} succeeded");
        stderr(&out).trim().to_string()
    };
    assert_eq!(
        error(&["domain", "remove", "nope.com"]),
        "mailroom: no domain nope.com"
    );
    assert_eq!(
        error(&["domain", "set", "nope.com", "--quota", "1GiB"]),
        "mailroom: no domain nope.com"
    );
    assert_eq!(
        error(&["domain", "add", "example.com"]),
        "mailroom: domain example.com already exists"
    );
    assert_eq!(
        error(&["alias", "remove", "x@example.com"]),
        "mailroom: no alias x@example.com"
    );
    assert!(
        error(&["account", "add", "a@other.org", "--password-stdin"])
            .starts_with("mailroom: no domain other.org: add the domain first")
    );
    assert!(error(&["queue", "remove", "5"]).starts_with("mailroom: no queued message 5"));
    assert!(
        error(&["backup", "verify", "20260101T000000Z"])
            .starts_with("mailroom: no backup 20260101T000000Z in ")
    );
    assert!(
        error(&["account", "add", "bad@@example.com", "--password-stdin"])
            .starts_with("mailroom: invalid address: bad@@example.com")
    );
    let date = error(&["recover", "list", "a@example.com", "--since", "yesterday"]);
    assert!(date.starts_with("mailroom: "), "{date}");
    let date = error(&["quota", "show", "nobody@example.com"]);
    assert_eq!(date, "mailroom: no account nobody@example.com");
    let size = error(&[
        "account",
        "add",
        "b@example.com",
        "--password-stdin",
        "--quota",
        "5XB",
    ]);
    assert!(size.contains("invalid size \"5XB\""), "{size}");
    // A bad setting refuses the whole command: no account half made.
    assert_eq!(
        error(&["account", "remove", "b@example.com"]),
        "mailroom: no account b@example.com"
    );

    // Nothing any error says twice.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "data_dir = \"data\"\n[backup]\ntime = \"25:00\"\n").expect("bad");
    for args in [
        vec!["--config", "/nonexistent/mailroom.toml", "domain", "list"],
        vec!["recover", "list", "a@example.com", "--since", "yesterday"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
            .current_dir(dir.path())
            .args(["--config", "mailroom.toml"])
            .args(&args)
            .output()
            .expect("run");
        let text = stderr(&out);
        let parts: Vec<&str> = text.trim().split(": ").collect();
        for (i, part) in parts.iter().enumerate() {
            assert!(
                !parts[i + 1..].contains(part),
                "{part:?} said twice in {text}"
            );
        }
    }
}

#[test]
fn every_command_has_help() {
    for args in [
        &["domain", "--help"][..],
        &["domain", "list", "--help"],
        &["alias", "--help"],
        &["alias", "remove", "--help"],
        &["export", "--help"],
        &["queue", "retry", "--help"],
        &["backup", "restore", "--help"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
            .args(args)
            .output()
            .expect("run");
        assert!(out.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = help.lines().collect();
        let indent = |l: &str| l.len() - l.trim_start().len();
        for (i, line) in lines.iter().enumerate() {
            let text = line.trim();
            // "  list    The domains ..." or "  <ALIAS>" over a more indented help line;
            // never a bare name.
            let bare = !text.is_empty()
                && !text.ends_with(':')
                && !text.starts_with("Usage")
                && text.split_whitespace().count() == 1;
            let explained_below = lines
                .get(i + 1)
                .is_some_and(|next| !next.trim().is_empty() && indent(next) > indent(line));
            assert!(
                !bare || explained_below,
                "{args:?}: {text:?} has no help\n{help}"
            );
        }
    }
}

/// The server's log, to a file or a pipe: no colour codes; MAILROOM_LOG_FORMAT=json gives one
/// JSON object per line; the listeners really open are listed; a config that opens none is
/// refused.
#[test]
fn logs_fit_files_and_shippers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(
        &config,
        "data_dir = \"data\"\n[imap]\nlisten = [\"127.0.0.1:0\"]\n[lmtp]\nlisten = [\"127.0.0.1:0\"]\n",
    )
    .expect("config");
    for json in [false, true] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mailroom"));
        command
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .env("MAILROOM_LOG", "info")
            .env_remove("NO_COLOR")
            .stderr(Stdio::piped());
        if json {
            command.env("MAILROOM_LOG_FORMAT", "json");
        }
        let mut child = command.spawn().expect("spawn");
        let lines = BufReader::new(child.stderr.take().expect("stderr"));
        let mut seen = Vec::new();
        for line in lines.lines().map_while(Result::ok) {
            let running = line.contains("mailroom is running");
            seen.push(line);
            if running {
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        let log = seen.join("\n");
        assert!(!log.contains('\u{1b}'), "colour codes in a pipe: {log}");
        let running = seen.last().expect("a line");
        assert!(
            running.contains("imap 127.0.0.1:") && running.contains("lmtp 127.0.0.1:"),
            "{running}"
        );
        assert!(
            !running.contains(":0,") && !running.ends_with(":0"),
            "{running}"
        );
        if json {
            for line in &seen {
                let value: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert!(value.get("level").is_some(), "{line}");
            }
        }
    }

    std::fs::write(&config, "data_dir = \"data\"\n").expect("config");
    let out = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("opens no listeners"),
        "{}",
        stderr(&out)
    );
}

/// A log reader that goes away must not take the server with it.
#[test]
fn a_closed_log_pipe_does_not_stop_the_server() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(
        &config,
        format!("data_dir = \"data\"\n[imap]\nlisten = [\"127.0.0.1:{port}\"]\n"),
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("MAILROOM_LOG", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    while let Some(Ok(line)) = lines.next() {
        if line.contains("mailroom is running") {
            break;
        }
    }
    drop(lines);
    // Every connection logs at debug level: writes to the closed pipe.
    for _ in 0..3 {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            drop(stream);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the server exited"
    );
    let greeting = std::net::TcpStream::connect(("127.0.0.1", port))
        .and_then(|s| {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            let mut line = String::new();
            BufReader::new(s).read_line(&mut line)?;
            Ok(line)
        })
        .expect("still answering");
    assert!(greeting.starts_with("* OK"), "{greeting}");
    let _ = child.kill();
    let _ = child.wait();
}

/// What repeated SIGKILLs leave (a message file whose row never committed, a temporary file)
/// is reported by `check` and removed by `check --repair`.
#[test]
fn check_reports_and_repairs_crash_leftovers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("mailroom.toml");
    std::fs::write(&config, "data_dir = \"data\"\n").expect("config");
    let admin = Admin::at(config);
    admin.account("a@example.com", "pw");
    admin.deliver("a@example.com", &support::message("kept", "kept"));
    assert!(admin.ok(&["check"], b"").contains("store ok"));

    let blobs = dir.path().join("data").join("blobs");
    let hex = "ab".repeat(32);
    std::fs::write(blobs.join("ab").join(&hex), b"never committed").expect("orphan");
    std::fs::write(blobs.join("tmp").join(format!("{hex}-1-0")), b"half").expect("tmp");
    let out = admin.run(&["check"], b"");
    assert!(!out.status.success());
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("1 message file(s) no message refers to")
            && report.contains("1 temporary file(s)")
            && report.contains("--repair"),
        "{report}"
    );
    let repaired = admin.ok(&["check", "--repair"], b"");
    assert!(repaired.contains("removed 1 message file(s)"), "{repaired}");
    assert!(!blobs.join("ab").join(&hex).exists());
    assert!(admin.ok(&["check"], b"").contains("store ok"));
    assert_eq!(
        support::picture(&dir.path().join("data"), "a@example.com")["INBOX"].len(),
        1
    );
}

/// `[http] metrics_listen` alone: the server opens it, says so, and serves only the metrics
/// and the health check there.
#[test]
fn a_metrics_listener_serves_metrics_only() {
    let server = support::Server::start("[http]\nmetrics_listen = [\"127.0.0.1:0\"]\n", |_| {});
    let port = server.port("metrics");
    let get = |path: &str| {
        let out = crate::support::run_tool(
            "curl",
            &[
                "-s",
                "-w",
                "\n%{http_code}",
                &format!("http://127.0.0.1:{port}{path}"),
            ],
            b"",
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let metrics = get("/metrics");
    assert!(metrics.ends_with("\n200"), "{metrics}");
    assert!(
        metrics.contains("# TYPE mailroom_connections_total counter"),
        "{metrics}"
    );
    assert!(get("/healthz").ends_with("\n200"));
    assert!(get("/admin").ends_with("\n404"));
}
