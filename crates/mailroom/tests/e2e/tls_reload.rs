//! Certificates by SNI from `[tls] certs_dir`, and SIGHUP reloading them in the running server:
//! a replaced certificate is shown to the next connection, a broken one changes nothing.
//!
//! The server is started here rather than through `support::Server`, because the test waits
//! for the server's own log line saying the reload happened.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `mailroom serve` with an implicit-TLS IMAP listener, and its log.
struct Server {
    _dir: tempfile::TempDir,
    child: Child,
    log: mpsc::Receiver<String>,
    port: u16,
}

impl Server {
    fn start(tls_section: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("mailroom.toml");
        std::fs::write(
            &config,
            format!("data_dir = \"data\"\n{tls_section}[imap]\nlisten_tls = [\"127.0.0.1:0\"]\n"),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_mailroom"))
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .stderr(Stdio::piped())
            .env("MAILROOM_LOG", "info")
            .env("NO_COLOR", "1")
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Server {
            _dir: dir,
            child,
            log,
            port: 0,
        };
        let listening = server.wait_for_log("imap listening");
        server.port = listening
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .and_then(|addr| addr.rsplit(':').next()?.parse().ok())
            .expect("the listener's port");
        server.wait_for_log("mailroom is running");
        server
    }

    /// The next log line containing `needle` (earlier lines are skipped).
    fn wait_for_log(&self, needle: &str) -> String {
        loop {
            let line = self
                .log
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no log line with {needle:?}"));
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn hang_up(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a self-signed certificate for `name` as `<dir>/<name>.crt` + `.key`; returns its DER.
fn write_cert(dir: &Path, name: &str) -> Vec<u8> {
    let generated = rcgen::generate_simple_self_signed(vec![name.to_string()]).unwrap();
    std::fs::write(dir.join(format!("{name}.crt")), generated.cert.pem()).unwrap();
    std::fs::write(
        dir.join(format!("{name}.key")),
        generated.signing_key.serialize_pem(),
    )
    .unwrap();
    generated.cert.der().to_vec()
}

/// Asks for `sni` and prints the certificate it was shown, hex-encoded DER. Python's ssl is
/// an independent client; verification is off because the test looks at which certificate
/// comes, not whether it is trusted.
const PROBE: &str = r#"
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as sock:
    with ctx.wrap_socket(sock, server_hostname=sys.argv[2]) as tls:
        print(tls.getpeercert(binary_form=True).hex())
"#;

/// The certificate the server's implicit-TLS port shows a client asking for `sni`.
fn presented(port: u16, sni: &str) -> Vec<u8> {
    let out = Command::new("python3")
        .args(["-c", PROBE, &port.to_string(), sni])
        .output()
        .expect("python3 is needed for this test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hex = String::from_utf8_lossy(&out.stdout);
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
fn sighup_reloads_certificates_by_sni() {
    let certs = tempfile::tempdir().unwrap();
    let first = write_cert(certs.path(), "a.test");
    let server = Server::start(&format!(
        "[tls]\ncerts_dir = {:?}\n",
        certs.path().display().to_string()
    ));
    let port = server.port;
    assert_eq!(presented(port, "a.test"), first);
    let default = presented(port, "unknown.test");
    assert_ne!(default, first);

    let renewed = write_cert(certs.path(), "a.test");
    server.hang_up();
    server.wait_for_log("TLS certificates reloaded");
    assert_eq!(presented(port, "a.test"), renewed);
    assert_eq!(presented(port, "unknown.test"), default);

    // A broken renewal: the server keeps what it had.
    std::fs::write(certs.path().join("a.test.crt"), "not a certificate").unwrap();
    server.hang_up();
    server.wait_for_log("TLS certificates not reloaded");
    assert_eq!(presented(port, "a.test"), renewed);
}
