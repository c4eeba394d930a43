//! STARTTLS with a rustls client, and real clients: Python's smtplib (SMTP and LMTP classes).

use crate::common;

use common::{Client, config, harness, inbox, strip_trace, tls_connector};
use mailroom_smtp::Mode;
use tokio::io::BufReader;

#[tokio::test]
async fn starttls_discards_pipelined_plaintext() {
    let h = harness(Mode::Mx, config()).await;
    let mut c = Client::connect(&h).await;
    c.ok("EHLO client.example", "250").await;
    // A man in the middle appends a command after STARTTLS: it must never run.
    c.send(b"STARTTLS\r\nMAIL FROM:<evil@b.example>\r\n").await;
    assert_eq!(c.reply().await, "220 2.0.0 Ready to start TLS");
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tls_connector(&h.cert)
        .connect(name, c.io.into_inner())
        .await
        .unwrap();
    let mut c = Client {
        io: BufReader::new(tls),
    };
    // The TLS session starts afresh (RFC 3207 §4.2): no greeting, no transaction.
    c.ok("MAIL FROM:<a@b.example>", "503 5.5.1").await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    c.ok("RCPT TO:<ann@example.test>", "503 5.5.1").await;
    c.ok("STARTTLS", "454 4.7.0").await;
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    c.ok("DATA", "354").await;
    c.send(b"Subject: secret\r\n\r\nhi\r\n.\r\n").await;
    c.expect("250 2.0.0").await;
    c.ok("QUIT", "221").await;
    let got = inbox(&h.store, "ann").await;
    assert_eq!(got.len(), 1);
    let (trace, rest) = strip_trace(&got[0]);
    assert!(trace.contains(" with ESMTPS id "), "{trace}");
    assert_eq!(rest, b"Subject: secret\r\n\r\nhi\r\n");
}

const PYTHON: &str = r#"
import smtplib, ssl, sys
mode, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
msg = b"Subject: py\r\n\r\n.dot line\r\nend\r\n"
if mode == "lmtp":
    c = smtplib.LMTP("127.0.0.1", port)
    c.ehlo("python.example")  # sends LHLO
    refused = c.sendmail("py@b.example", ["ann@example.test", "nobody@example.test"], msg)
else:
    c = smtplib.SMTP("localhost", port)
    c.ehlo("python.example")
    assert c.has_extn("starttls") and c.has_extn("pipelining") and not c.has_extn("auth")
    c.starttls(context=ssl.create_default_context(cafile=cafile))
    c.ehlo("python.example")
    refused = c.sendmail("py@b.example", ["ann@example.test", "info@example.test", "nobody@example.test"], msg)
print(sorted((k, v[0]) for k, v in refused.items()))
c.quit()
"#;

async fn python(mode: &str, h: &common::Harness) -> String {
    let out = tokio::process::Command::new("python3")
        .arg("-c")
        .arg(PYTHON)
        .arg(mode)
        .arg(h.port.to_string())
        .arg(&h.cert)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn python_smtplib_smtp_with_starttls() {
    let h = harness(Mode::Mx, config()).await;
    assert_eq!(
        python("smtp", &h).await.trim(),
        "[('nobody@example.test', 550)]"
    );
    for user in ["ann", "bob"] {
        let got = inbox(&h.store, user).await;
        assert_eq!(got.len(), 1, "{user}");
        let (trace, rest) = strip_trace(&got[0]);
        assert_eq!(rest, b"Subject: py\r\n\r\n.dot line\r\nend\r\n");
        assert!(
            trace.contains("from python.example ([127.0.0.1])"),
            "{trace}"
        );
        assert!(trace.contains(" with ESMTPS id "), "{trace}");
    }
}

#[tokio::test]
async fn python_smtplib_lmtp() {
    let h = harness(Mode::Lmtp, config()).await;
    assert_eq!(
        python("lmtp", &h).await.trim(),
        "[('nobody@example.test', 550)]"
    );
    let got = inbox(&h.store, "ann").await;
    assert_eq!(got.len(), 1);
    let (trace, rest) = strip_trace(&got[0]);
    assert_eq!(rest, b"Subject: py\r\n\r\n.dot line\r\nend\r\n");
    assert!(trace.contains(" with LMTP id "), "{trace}");
}

#[tokio::test]
async fn implicit_tls_and_shutdown() {
    let h = harness(Mode::Mx, config()).await;
    let tls_dir = h.cert.parent().unwrap();
    let tls = mailroom_net::load_or_create_tls(None, tls_dir, "localhost").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = mailroom_smtp::SmtpServer::new(h.store.clone(), Some(tls), config(), Mode::Mx);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        server
            .serve(listener, true, async {
                let _ = stopped.await;
            })
            .await
    });
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tls_connector(&h.cert).connect(name, tcp).await.unwrap();
    let mut c = Client {
        io: BufReader::new(tls),
    };
    c.expect("220 mx.example.test").await;
    let ehlo = c.cmd("EHLO client.example").await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    c.ok("MAIL FROM:<a@b.example>", "250").await;
    c.ok("RCPT TO:<ann@example.test>", "250").await;
    stop.send(()).unwrap();
    serving.await.unwrap();
    // The listener is gone; the open session still finishes its transaction. Tests running
    // beside this one may already have been given the freed port, so a connection that opens
    // must not be ours: our server would complete a TLS handshake with our certificate.
    if let Ok(tcp) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let handshake = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            tls_connector(&h.cert).connect(name, tcp),
        )
        .await;
        assert!(
            !matches!(handshake, Ok(Ok(_))),
            "a stopped server still accepts connections"
        );
    }
    c.send(b"BDAT 9 LAST\r\nSubject:x").await;
    c.expect("250 2.0.0").await;
    c.ok("QUIT", "221").await;
    let got = inbox(&h.store, "ann").await;
    let (trace, rest) = strip_trace(&got[0]);
    assert!(trace.contains(" with ESMTPS id "), "{trace}");
    assert_eq!(rest, b"Subject:x");
}
