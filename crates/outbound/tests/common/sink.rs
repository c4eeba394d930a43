//! A tiny SMTP server on 127.0.0.1 for tests: answers each RCPT as told, records what it got.
//! Never listens on or connects to anything but loopback.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub recipients: Vec<String>,
    /// Un-dot-stuffed, as the client meant it.
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct SinkBehaviour {
    /// The greeting, lines joined with CRLF (multi-line allowed).
    pub greeting: String,
    /// The EHLO reply; None answers 502 (then HELO is accepted).
    pub ehlo: Option<String>,
    /// Replies to RCPT by address; everyone else gets 250.
    pub rcpt_replies: HashMap<String, String>,
    /// The reply after the final "." of DATA.
    pub data_reply: String,
    /// The reply to STARTTLS, when the EHLO reply offers it.
    pub starttls_reply: String,
}

impl Default for SinkBehaviour {
    fn default() -> Self {
        SinkBehaviour {
            greeting: "220-sink.test ESMTP\r\n220 welcome".into(),
            ehlo: Some(
                "250-sink.test\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES"
                    .into(),
            ),
            rcpt_replies: HashMap::new(),
            data_reply: "250 2.0.0 queued".into(),
            starttls_reply: "454 4.7.0 TLS not available".into(),
        }
    }
}

impl SinkBehaviour {
    /// Advertises DSN (RFC 3461) as well.
    pub fn with_dsn(mut self) -> Self {
        self.ehlo = Some(
            "250-sink.test\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES"
                .into(),
        );
        self
    }

    pub fn rcpt(mut self, address: &str, reply: &str) -> Self {
        self.rcpt_replies
            .insert(address.to_string(), reply.to_string());
        self
    }
}

pub struct Sink {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Every command line the sink read, in order, over all sessions.
    pub commands: Arc<Mutex<Vec<String>>>,
    pub connections: Arc<Mutex<usize>>,
    /// Signalled each time a message is accepted, so tests wait on an event, not a sleep.
    pub delivered: Arc<tokio::sync::Notify>,
}

impl Sink {
    pub async fn start(behaviour: SinkBehaviour) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let commands = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(Mutex::new(0));
        let behaviour = Arc::new(behaviour);
        let delivered = Arc::new(tokio::sync::Notify::new());
        {
            let delivered = delivered.clone();
            let received = received.clone();
            let commands = commands.clone();
            let connections = connections.clone();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    *connections.lock().unwrap() += 1;
                    let behaviour = behaviour.clone();
                    let received = received.clone();
                    let commands = commands.clone();
                    let delivered = delivered.clone();
                    tokio::spawn(async move {
                        let _ = session(stream, &behaviour, &received, &commands, &delivered).await;
                    });
                }
            });
        }
        Sink {
            addr,
            received,
            commands,
            connections,
            delivered,
        }
    }

    pub fn relay(&self) -> String {
        self.addr.to_string()
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn commands(&self) -> Vec<String> {
        self.commands.lock().unwrap().clone()
    }
}

trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// A TLS acceptor with a fresh self-signed certificate (the client must not care).
fn acceptor() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let generated = rcgen::generate_simple_self_signed(vec!["sink.test".to_string()]).unwrap();
    let cert = generated.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        generated.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

async fn session(
    stream: tokio::net::TcpStream,
    behaviour: &SinkBehaviour,
    received: &Mutex<Vec<Received>>,
    commands: &Mutex<Vec<String>>,
    delivered: &tokio::sync::Notify,
) -> std::io::Result<()> {
    let boxed: Box<dyn Io> = Box::new(stream);
    let mut conn = BufReader::new(boxed);
    let send = |text: String| {
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"\r\n");
        bytes
    };
    conn.write_all(&send(behaviour.greeting.clone())).await?;
    let mut mail_from = String::new();
    let mut recipients = Vec::new();
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        commands.lock().unwrap().push(line.clone());
        let upper = line.to_ascii_uppercase();
        let reply = if upper.starts_with("EHLO") {
            behaviour
                .ehlo
                .clone()
                .unwrap_or_else(|| "502 5.5.1 EHLO not implemented".into())
        } else if upper.starts_with("HELO") {
            "250 sink.test".into()
        } else if upper == "STARTTLS" {
            conn.write_all(&send(behaviour.starttls_reply.clone()))
                .await?;
            if behaviour.starttls_reply.starts_with("220") {
                let plain = conn.into_inner();
                let tls = acceptor().accept(plain).await?;
                commands.lock().unwrap().push("<TLS established>".into());
                let boxed: Box<dyn Io> = Box::new(tls);
                conn = BufReader::new(boxed);
            }
            continue;
        } else if upper.starts_with("MAIL FROM:") {
            mail_from = between_brackets(&line);
            recipients.clear();
            "250 2.1.0 ok".into()
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = between_brackets(&line);
            let reply = behaviour
                .rcpt_replies
                .get(&rcpt)
                .cloned()
                .unwrap_or_else(|| "250 2.1.5 ok".into());
            if reply.starts_with('2') {
                recipients.push(rcpt);
            }
            reply
        } else if upper == "DATA" {
            conn.write_all(&send("354 go ahead".into())).await?;
            let mut data = Vec::new();
            loop {
                let mut body_line = Vec::new();
                if conn.read_until(b'\n', &mut body_line).await? == 0 {
                    return Ok(());
                }
                if body_line == b".\r\n" {
                    break;
                }
                if body_line.starts_with(b"..") {
                    body_line.remove(0);
                }
                data.extend_from_slice(&body_line);
            }
            if behaviour.data_reply.starts_with('2') {
                received.lock().unwrap().push(Received {
                    mail_from: mail_from.clone(),
                    recipients: std::mem::take(&mut recipients),
                    data,
                });
                delivered.notify_one();
            }
            behaviour.data_reply.clone()
        } else if upper == "RSET" {
            recipients.clear();
            "250 ok".into()
        } else if upper == "QUIT" {
            conn.write_all(&send("221 bye".into())).await?;
            return Ok(());
        } else {
            "500 5.5.2 what?".into()
        };
        conn.write_all(&send(reply)).await?;
    }
}

fn between_brackets(line: &str) -> String {
    let start = line.find('<').map(|i| i + 1).unwrap_or(0);
    let end = line[start..]
        .find('>')
        .map(|i| i + start)
        .unwrap_or(line.len());
    line[start..end].to_string()
}
