//! Accepting connections and the server-wide settings.

use crate::session::Session;
use mailroom_net::{MailStream, TlsAcceptor};
use mailroom_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tracing::Instrument;

/// Which protocol a listener speaks; both run on the same engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// LMTP (RFC 2033): LHLO, and one reply per recipient after the message.
    Lmtp,
    /// The inbound MX (RFC 5321): mail for our own domains only, never relayed.
    Mx,
}

/// RFC 5321 §4.5.3.2 server timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Waiting for the next command (§4.5.3.2.7: at least 5 minutes).
    pub command: Duration,
    /// Waiting for the next piece of DATA or a BDAT chunk (§4.5.3.2.5, 3 minutes per block
    /// on the client side; we wait as long as we'd wait for a command).
    pub data: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            command: Duration::from_secs(300),
            data: Duration::from_secs(300),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Our name in the greeting, the EHLO reply and the Received header.
    pub hostname: String,
    /// SIZE (RFC 1870): the largest message body accepted, in octets.
    pub max_message_size: u64,
    /// RFC 5321 §4.5.3.1.8 asks for at least 100.
    pub max_recipients: usize,
    /// Protocol errors (unknown commands, bad syntax, bad sequence) before 421 and a
    /// disconnect.
    pub max_errors: u32,
    /// A DATA line's limit with its CRLF (RFC 5321 §4.5.3.1.6: 1000).
    pub max_line_length: usize,
    pub timeouts: Timeouts,
    /// Sessions served at once; a client past the limit gets 421 4.7.0 and is closed
    /// (RFC 5321 §3.8).
    pub max_connections: usize,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            hostname: "localhost".into(),
            max_message_size: 50 * 1024 * 1024,
            max_recipients: 100,
            max_errors: 10,
            max_line_length: crate::proto::MAX_TEXT_LINE,
            timeouts: Timeouts::default(),
            max_connections: 500,
        }
    }
}

pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub tls: Option<TlsAcceptor>,
    pub config: SmtpConfig,
    pub mode: Mode,
    transactions: AtomicU64,
    connections: Arc<Semaphore>,
}

impl Shared {
    /// An id for the Received header and the logs: unique per node, process start and
    /// transaction.
    pub fn next_id(&self) -> String {
        let n = self.transactions.fetch_add(1, Ordering::Relaxed);
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        format!("{started:X}{:X}{n:X}", std::process::id())
    }
}

#[derive(Clone)]
pub struct SmtpServer {
    shared: Arc<Shared>,
}

impl SmtpServer {
    pub fn new(
        store: Arc<dyn Store>,
        tls: Option<TlsAcceptor>,
        config: SmtpConfig,
        mode: Mode,
    ) -> Self {
        let config_connections = config.max_connections;
        SmtpServer {
            shared: Arc::new(Shared {
                store,
                tls,
                config,
                mode,
                transactions: AtomicU64::new(0),
                connections: Arc::new(Semaphore::new(config_connections)),
            }),
        }
    }

    /// Accepts connections until `shutdown` completes. With `implicit_tls` the TLS handshake
    /// comes first (RFC 8314).
    pub async fn serve(
        &self,
        listener: TcpListener,
        implicit_tls: bool,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                _ = &mut shutdown => return,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("smtp accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let shared = self.shared.clone();
            let Ok(permit) = shared.connections.clone().try_acquire_owned() else {
                tracing::warn!(%peer, "smtp connection limit reached");
                if !implicit_tls {
                    tokio::spawn(refuse_busy(tcp, shared.config.hostname.clone()));
                }
                continue;
            };
            tokio::spawn(async move {
                let _permit = permit;
                let stream = if implicit_tls {
                    let Some(tls) = &shared.tls else { return };
                    match MailStream::accept_tls(tcp, tls).await {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::debug!(%peer, "smtp TLS handshake failed: {e}");
                            return;
                        }
                    }
                } else {
                    MailStream::Plain(tcp)
                };
                let mode = shared.mode;
                Session::new(shared, peer)
                    .run(stream)
                    .instrument(tracing::info_span!("smtp", %peer, ?mode))
                    .await;
            });
        }
    }
}

/// RFC 5321 §3.1: a server that can't serve now may greet with 421 and close.
async fn refuse_busy(mut tcp: TcpStream, hostname: String) {
    let line = format!("421 4.7.0 {hostname} Too many connections, try again later\r\n");
    let _ = tcp.write_all(line.as_bytes()).await;
    let _ = tcp.shutdown().await;
}
