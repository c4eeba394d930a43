//! The accept loop every protocol shares: admit or refuse through the gate, the implicit-TLS
//! handshake, a task and a tracing span per session, and a graceful end on shutdown.

use crate::gate::{ConnectionGate, ConnectionPermit, Refusal};
use crate::stream::MailStream;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;

/// How a listener starts its connections.
#[derive(Clone)]
pub enum TlsMode {
    /// Plain text (STARTTLS, where the protocol has it, is the session's business).
    Plain,
    /// Implicit TLS (RFC 8314): the handshake comes first.
    Implicit(TlsAcceptor),
}

/// Settings of one accept loop.
#[derive(Clone)]
pub struct ServeOptions {
    /// Names the session spans and log lines ("imap", "pop3", "smtp", "lmtp").
    pub protocol: &'static str,
    pub tls: TlsMode,
    /// How long an implicit-TLS handshake may take.
    pub handshake_timeout: Duration,
    /// At shutdown: `Some(grace)` tells sessions to stop (`Accepted::stop`), waits up to
    /// `grace` for them and aborts the rest; `None` lets them run to their natural end (for
    /// sessions that don't watch `stop`, where an abort could cut a delivery in half) and
    /// returns at once.
    pub shutdown_grace: Option<Duration>,
}

impl ServeOptions {
    /// A listener of `protocol`, plain or with implicit TLS through `acceptor`; sessions are
    /// left to end on their own at shutdown. None (and logged) for an implicit-TLS listener
    /// without a TLS configuration.
    pub fn for_listener(
        protocol: &'static str,
        implicit_tls: bool,
        acceptor: Option<&TlsAcceptor>,
        handshake_timeout: Duration,
    ) -> Option<Self> {
        let tls = match (implicit_tls, acceptor) {
            (false, _) => TlsMode::Plain,
            (true, Some(acceptor)) => TlsMode::Implicit(acceptor.clone()),
            (true, None) => {
                tracing::error!(
                    protocol,
                    "implicit TLS listener without a TLS configuration"
                );
                return None;
            }
        };
        Some(ServeOptions {
            protocol,
            tls,
            handshake_timeout,
            shutdown_grace: None,
        })
    }

    /// For sessions that watch `Accepted::stop`: at shutdown they get `grace` to finish.
    pub fn drain_on_shutdown(mut self, grace: Duration) -> Self {
        self.shutdown_grace = Some(grace);
        self
    }
}

/// A connection the gate let in, ready for its session.
pub struct Accepted {
    pub stream: MailStream,
    pub peer: SocketAddr,
    /// Becomes true when the server shuts down; the session should end politely.
    pub stop: watch::Receiver<bool>,
    /// The session's slot in the gate; it tells the gate of a login and must live as long
    /// as the session.
    pub permit: ConnectionPermit,
}

/// How long an answer to a refused client may take to write: it gets one line, not a session.
const REFUSAL_WRITE: Duration = Duration::from_secs(5);
/// A failing accept (out of file descriptors) is retried after a pause, not in a hot loop.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// Accepts connections on `listener` until `shutdown` completes. A connection the gate
/// refuses gets `refusal(reason)` (the protocol's own "too many connections" line) and is
/// closed; an admitted one runs `handler` in its own task while holding its permit.
///
/// On implicit-TLS listeners a refused client is closed without an answer: the answer would
/// need a TLS handshake, which is exactly the work a flooding client should not get from us.
pub async fn serve<R, H, Fut>(
    listener: TcpListener,
    options: ServeOptions,
    gate: Arc<ConnectionGate>,
    shutdown: impl Future<Output = ()>,
    refusal: R,
    handler: H,
) where
    R: Fn(Refusal) -> Vec<u8>,
    H: Fn(Accepted) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let handler = Arc::new(handler);
    tokio::pin!(shutdown);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => {
                let (tcp, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(protocol = options.protocol, error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_RETRY).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let permit = match gate.try_enter(peer.ip()) {
                    Ok(permit) => permit,
                    Err(reason) => {
                        // Running full is the operator's business; one address over its share
                        // is the client's, and a flood of those must not flood the log.
                        crate::stats::refused(options.protocol);
                        match reason {
                            Refusal::Total => tracing::warn!(protocol = options.protocol, %peer, "connection refused: listener full"),
                            Refusal::PerAddress => tracing::info!(protocol = options.protocol, %peer, "connection refused: too many from this address"),
                        }
                        if matches!(options.tls, TlsMode::Plain) {
                            sessions.spawn(refuse(tcp, refusal(reason)));
                        }
                        continue;
                    }
                };
                let span = tracing::info_span!("session", protocol = options.protocol, %peer);
                let handler = handler.clone();
                let tls = options.tls.clone();
                let handshake_timeout = options.handshake_timeout;
                let stop = stop_rx.clone();
                let counted = crate::stats::OpenConnection::new(options.protocol);
                sessions.spawn(
                    async move {
                        let _counted = counted;
                        let Some(stream) = open_stream(tcp, &tls, handshake_timeout).await else {
                            return;
                        };
                        handler(Accepted { stream, peer, stop, permit }).await;
                    }
                    .instrument(span),
                );
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    let _ = stop_tx.send(true);
    let Some(grace) = options.shutdown_grace else {
        sessions.detach_all();
        return;
    };
    let drained = tokio::time::timeout(grace, async {
        while sessions.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        sessions.abort_all();
    }
}

/// The session's stream: plain as accepted, or after the implicit-TLS handshake (None when
/// it failed or took too long).
async fn open_stream(tcp: TcpStream, tls: &TlsMode, timeout: Duration) -> Option<MailStream> {
    let TlsMode::Implicit(acceptor) = tls else {
        return Some(MailStream::Plain(tcp));
    };
    match tokio::time::timeout(timeout, MailStream::accept_tls(tcp, acceptor)).await {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            None
        }
    }
}

async fn refuse(mut tcp: TcpStream, answer: Vec<u8>) {
    let _ = tokio::time::timeout(REFUSAL_WRITE, async {
        let _ = tcp.write_all(&answer).await;
        let _ = tcp.shutdown().await;
    })
    .await;
}
