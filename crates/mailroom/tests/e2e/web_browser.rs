//! The web admin and the self-service pages in a real browser: headless Chromium, driven by
//! Selenium from `browser/web_flows.py`, against the real server. An administrator creates an
//! account, sees its quota bar fill, and restores a message deleted over IMAP; a user changes
//! the password, makes an app password and downloads the .mobileconfig, each checked over
//! IMAP too. Screenshots of every page go to `target/screenshots/`.

use crate::support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::Server;

const HOSTNAME: &str = "mail.example.test";
const ADMIN: &str = "boss@example.test";
const USER: &str = "ann@example.test";
const NEW: &str = "newbie@example.test";

const CONFIG: &str = "hostname = \"mail.example.test\"\n\
                      [auth]\nfailure_delay_ms = 200\n\
                      [http]\nlisten = [\"127.0.0.1:0\"]\n\
                      [imap]\nlisten = [\"127.0.0.1:0\"]\n\
                      [lmtp]\nlisten = [\"127.0.0.1:0\"]\n\
                      [submission]\nlisten = [\"127.0.0.1:0\"]\n";

/// The whole browser session may take this long (it takes about fifteen seconds).
const DEADLINE: Duration = Duration::from_secs(120);

/// `name` on PATH, as `command -v` finds it.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Chromium, its driver and Python's selenium, or a failure saying how to get them.
fn browser_tools() -> (PathBuf, PathBuf) {
    let missing = |what: &str| -> ! {
        panic!(
            "{what} is needed for the browser tests: run scripts/test, which installs \
             chromium, chromium-driver (Debian) and selenium (pip)"
        )
    };
    let chromium = on_path("chromium").unwrap_or_else(|| missing("chromium"));
    let chromedriver = on_path("chromedriver").unwrap_or_else(|| missing("chromedriver"));
    let selenium = Command::new("python3")
        .args(["-c", "import selenium"])
        .output();
    if !selenium.is_ok_and(|o| o.status.success()) {
        missing("Python 3 with selenium");
    }
    (chromium, chromedriver)
}

/// The workspace's `target/screenshots` (under CARGO_TARGET_DIR when that is set).
fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map_or_else(|| workspace.join("target"), |t| workspace.join(t));
    target.join("screenshots")
}

/// Runs `command` to the end or until the deadline (then kills it); returns its exit status
/// (None: it was killed), stdout and stderr.
fn run_with_deadline(mut command: Command) -> (Option<i32>, String, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("stderr")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for python3") {
            break status.code();
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let text = |t: std::thread::JoinHandle<String>| t.join().unwrap_or_default();
    (status, text(stdout), text(stderr))
}

#[test]
fn web_admin_and_self_service_in_chromium() {
    let (chromium, chromedriver) = browser_tools();
    let server = Server::start(CONFIG, |admin| {
        admin.account(ADMIN, "boss-password");
        admin.ok(&["account", "set", ADMIN, "--admin"], b"");
        admin.account(USER, "ann-password");
    });
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).expect("the screenshot directory");
    // Only this run's pictures: none left over from a run that visited other pages.
    for old in std::fs::read_dir(&shots)
        .expect("list screenshots")
        .flatten()
    {
        if old.path().extension().is_some_and(|e| e == "png") {
            let _ = std::fs::remove_file(old.path());
        }
    }
    let port = |name: &str| server.port(name).to_string();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/e2e/browser/web_flows.py"
    );
    let mut python = Command::new("python3");
    python
        .arg(script)
        .args(["--http", &port("http")])
        .args(["--imap", &port("imap")])
        .args(["--lmtp", &port("lmtp")])
        .args(["--submission", &port("submission")])
        .args(["--hostname", HOSTNAME])
        .args(["--admin", ADMIN, "--admin-password", "boss-password"])
        .args(["--user", USER, "--user-password", "ann-password"])
        .args(["--new-account", NEW])
        .arg("--shots")
        .arg(&shots)
        .arg("--chromium")
        .arg(&chromium)
        .arg("--chromedriver")
        .arg(&chromedriver)
        .env("PYTHONUNBUFFERED", "1");
    let (status, out, err) = run_with_deadline(python);
    let report = format!("stdout:\n{out}\nstderr:\n{err}");
    assert!(
        status.is_some(),
        "the browser session took over {DEADLINE:?}\n{report}"
    );
    assert_eq!(status, Some(0), "the browser flows failed\n{report}");
    for step in [
        "admin: creates an account with a 1 MiB quota and a generated password",
        "admin: a delivered message fills the quota bar",
        "admin: restores it from the recover page",
        "admin: IMAP shows the message back in INBOX",
        "user: changes the password",
        "user: signs in with the new password and makes an app password",
        "user: downloads the .mobileconfig from the page's link",
    ] {
        assert!(out.contains(&format!("STEP {step}\n")), "{step}\n{report}");
    }
    assert!(out.contains("ALL FLOWS PASSED"), "{report}");

    // Every page visited left a screenshot, the phone-sized ones among them.
    let taken: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("SHOT "))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    assert!(taken.len() >= 15, "{taken:?}");
    for name in ["admin-accounts-phone", "setup-phone"] {
        assert!(taken.iter().any(|t| t.contains(name)), "{name}: {taken:?}");
    }
    for path in &taken {
        let png = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{path} is a PNG");
    }

    // What the pages did is what the store holds.
    let admin = server.admin();
    let accounts = admin.ok(&["account", "list"], b"");
    assert!(accounts.contains(NEW), "{accounts}");
    let apps = admin.ok(&["account", "app-password", "list", USER], b"");
    assert!(
        apps.contains("Phone") && apps.contains("iPad profile"),
        "{apps}"
    );
}
