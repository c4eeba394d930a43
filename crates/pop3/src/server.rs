//! Accepting connections and the server-wide settings.

use crate::session::Session;
use mailroom_auth::Authenticator;
use mailroom_net::{MailStream, TlsAcceptor};
use mailroom_store::{Pop3Policy, Store};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Pop3Config {
    pub hostname: String,
    /// Allow USER/PASS and AUTH without TLS from non-loopback clients.
    pub allow_plaintext_auth: bool,
    /// The policy of accounts that have none of their own.
    pub default_policy: Pop3Policy,
    /// RFC 1939 §3: an autologout timer of at least 10 minutes.
    pub idle_timeout: Duration,
    /// How long a wrong password waits before its -ERR, to slow guessing.
    pub auth_failure_delay: Duration,
}

impl Default for Pop3Config {
    fn default() -> Self {
        Pop3Config {
            hostname: "localhost".into(),
            allow_plaintext_auth: false,
            default_policy: Pop3Policy::LeaveOnServer,
            idle_timeout: Duration::from_secs(600),
            auth_failure_delay: Duration::from_secs(2),
        }
    }
}

pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub auth: Authenticator,
    pub tls: Option<TlsAcceptor>,
    pub config: Pop3Config,
    sessions: AtomicU64,
}

impl Shared {
    /// A name for a session's maildrop lock: unique per node, process and session.
    pub fn holder_name(&self) -> String {
        let n = self.sessions.fetch_add(1, Ordering::Relaxed);
        format!("{}:{}:{n}", self.config.hostname, std::process::id())
    }
}

#[derive(Clone)]
pub struct Pop3Server {
    shared: Arc<Shared>,
}

impl Pop3Server {
    pub fn new(
        store: Arc<dyn Store>,
        auth: Authenticator,
        tls: Option<TlsAcceptor>,
        config: Pop3Config,
    ) -> Self {
        Pop3Server {
            shared: Arc::new(Shared {
                store,
                auth,
                tls,
                config,
                sessions: AtomicU64::new(0),
            }),
        }
    }

    /// Accepts connections until `shutdown` completes. With `implicit_tls` (port 995) the TLS
    /// handshake comes first (RFC 8314).
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
                        tracing::warn!("pop3 accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let shared = self.shared.clone();
            let span = tracing::info_span!("pop3", %peer);
            let session = async move {
                let stream = if implicit_tls {
                    let Some(tls) = &shared.tls else { return };
                    match MailStream::accept_tls(tcp, tls).await {
                        Ok(s) => s,
                        Err(e) => {
                            tracing::debug!(%peer, "pop3 TLS handshake failed: {e}");
                            return;
                        }
                    }
                } else {
                    MailStream::Plain(tcp)
                };
                Session::new(shared, peer).run(stream).await;
            };
            // Every log line of the session carries the peer.
            tokio::spawn(tracing::Instrument::instrument(session, span));
        }
    }
}
