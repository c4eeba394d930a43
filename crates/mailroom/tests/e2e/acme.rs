//! ACME end to end against Pebble, the ACME test CA (Debian's `pebble`), on loopback: the
//! server registers, answers HTTP-01 on its [http] listener for its hostname and a domain's
//! autoconfig/autodiscover names (Pebble resolves them through a name server of the test's),
//! and `openssl s_client` then sees Pebble's certificates on IMAPS, chosen by SNI, without a
//! restart.

use crate::support::dns::{a, serve};
use crate::support::{Server, run_tool};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

struct Pebble(Child);

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A CA of the test's and, signed by it, Pebble's own HTTPS certificate: the server is told
/// to trust the CA for talking to Pebble (`[tls] acme_ca`).
fn pebble_tls(dir: &Path) {
    let ca_key = rcgen::KeyPair::generate().expect("key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "acme test root");
    let ca_cert = ca.self_signed(&ca_key).expect("CA");
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).expect("write");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let key = rcgen::KeyPair::generate().expect("key");
    let leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("params")
            .signed_by(&key, &issuer)
            .expect("leaf");
    std::fs::write(dir.join("pebble.crt"), leaf.pem()).expect("write");
    std::fs::write(dir.join("pebble.key"), key.serialize_pem()).expect("write");
}

/// Issuer, subject and names of the certificate IMAPS presents for `sni` (None: no SNI).
fn presented(port: u16, sni: Option<&str>) -> String {
    let mut args = vec![
        "s_client".to_string(),
        "-connect".into(),
        format!("127.0.0.1:{port}"),
    ];
    if let Some(name) = sni {
        args.extend(["-servername".to_string(), name.to_string()]);
    } else {
        args.push("-noservername".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let handshake = run_tool("openssl", &args, b"");
    let out = run_tool(
        "openssl",
        &[
            "x509",
            "-noout",
            "-issuer",
            "-subject",
            "-ext",
            "subjectAltName",
        ],
        &handshake.stdout,
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What IMAPS presents for `sni`, asked every half second until it contains `wanted` (the
/// server orders its certificates in the background); fails after `seconds`.
fn presented_eventually(port: u16, sni: &str, wanted: &str, seconds: u64) -> String {
    let started = Instant::now();
    loop {
        let seen = presented(port, Some(sni));
        if seen.contains(wanted) {
            return seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(seconds),
            "no certificate with {wanted} for {sni} on IMAPS; still: {seen}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn certificates_from_pebble_reach_imaps_without_a_restart() {
    for program in ["pebble", "openssl"] {
        assert!(
            on_path(program),
            "{program} is needed for the ACME test: run scripts/test, which installs it"
        );
    }
    let dir = tempfile::tempdir().expect("temp dir");
    pebble_tls(dir.path());
    let names = [
        "mail.example.test.",
        "autoconfig.example.test.",
        "autodiscover.example.test.",
    ];
    let dns = serve(names.iter().map(|n| a(n, "127.0.0.1")).collect());
    let (acme_port, management_port, http_port) = (free_port(), free_port(), free_port());
    let pebble_config = dir.path().join("pebble.json");
    std::fs::write(
        &pebble_config,
        format!(
            r#"{{"pebble": {{
                "listenAddress": "127.0.0.1:{acme_port}",
                "managementListenAddress": "127.0.0.1:{management_port}",
                "certificate": "{cert}",
                "privateKey": "{key}",
                "httpPort": {http_port},
                "tlsPort": {tls_port},
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }}}}"#,
            cert = dir.path().join("pebble.crt").display(),
            key = dir.path().join("pebble.key").display(),
            tls_port = free_port(),
        ),
    )
    .expect("pebble config");
    let pebble = Command::new("pebble")
        .arg("-config")
        .arg(&pebble_config)
        .arg("-dnsserver")
        .arg(dns.to_string())
        // No random sleeps before validating, no nonces refused at random.
        .env("PEBBLE_VA_NOSLEEP", "1")
        .env("PEBBLE_WFE_NONCEREJECT", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pebble starts");
    let _pebble = Pebble(pebble);
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", acme_port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "pebble did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let config = format!(
        "hostname = \"mail.example.test\"\n\
         [tls]\nacme = true\nacme_directory = \"https://127.0.0.1:{acme_port}/dir\"\n\
         acme_ca = \"{ca}\"\nacme_contact = [\"mailto:postmaster@example.test\"]\n\
         [http]\nlisten = [\"127.0.0.1:{http_port}\"]\n\
         [imap]\nlisten_tls = [\"127.0.0.1:0\"]\n",
        ca = dir.path().join("ca.pem").display(),
    );
    let server = Server::start(&config, |admin| {
        admin.account("user@example.test", "pw");
    });
    let imaps = server.port("imaps");

    // Until the order completes IMAPS shows the self-signed certificate.
    let seen = presented_eventually(imaps, "mail.example.test", "Pebble", 90);
    assert!(seen.contains("DNS:mail.example.test"), "{seen}");
    // Clients that send no name get the hostname's certificate too.
    let default = presented(imaps, None);
    assert!(
        default.contains("Pebble") && default.contains("DNS:mail.example.test"),
        "{default}"
    );
    // The domain's own names come in their own order, possibly a moment later.
    let domain = presented_eventually(
        imaps,
        "autoconfig.example.test",
        "DNS:autoconfig.example.test",
        60,
    );
    assert!(
        domain.contains("Pebble") && domain.contains("DNS:autodiscover.example.test"),
        "{domain}"
    );
}
