//! The listener: accepts connections, enforces the connection limit, and ends sessions
//! gracefully on shutdown.

use crate::config::ImapConfig;
use crate::conn::{Driver, Exit};
use crate::error::{ImapError, error_response};
use crate::session::{Session, Shared, UserSlots};
use mailroom_auth::Authenticator;
use mailroom_imap_proto::response::{Code, Response, ResponseWriter, StatusKind, Text};
use mailroom_net::{MailStream, TlsAcceptor, is_loopback};
use mailroom_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

/// How long sessions get to finish their current command after shutdown is signalled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// An IMAP service over one store.
pub struct ImapServer {
    shared: Arc<Shared>,
    connections: Arc<Semaphore>,
}

impl ImapServer {
    pub fn new(
        store: Arc<dyn Store>,
        auth: Authenticator,
        tls: Option<TlsAcceptor>,
        config: ImapConfig,
    ) -> Self {
        let connections = Arc::new(Semaphore::new(config.max_connections.max(1)));
        ImapServer {
            shared: Arc::new(Shared {
                store,
                auth,
                tls,
                config,
                users: Arc::new(UserSlots::default()),
            }),
            connections,
        }
    }

    /// Accepts connections until `shutdown` completes, then asks every session to end
    /// (`* BYE`) and waits for them. With `implicit_tls` the TLS handshake comes first
    /// (port 993, RFC 8314).
    pub async fn serve(
        &self,
        listener: TcpListener,
        implicit_tls: bool,
        shutdown: impl Future<Output = ()>,
    ) {
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
                            tracing::warn!(error = %e, "accept failed");
                            continue;
                        }
                    };
                    let shared = self.shared.clone();
                    let permit = self.connections.clone().try_acquire_owned();
                    let stop = stop_rx.clone();
                    sessions.spawn(async move {
                        let Ok(_permit) = permit else {
                            refuse(tcp).await;
                            return;
                        };
                        let span = tracing::info_span!("imap", %peer);
                        connection(shared, tcp, implicit_tls, stop).instrument(span).await;
                    });
                }
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
            }
        }
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while sessions.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            sessions.abort_all();
        }
    }
}

/// RFC 9051 §7.1.5: a server that cannot take the connection says BYE at once.
async fn refuse(mut tcp: TcpStream) {
    let mut writer = ResponseWriter::new(Default::default());
    writer.push(&error_response(
        None,
        &ImapError::Bye(
            Some(Code::Unavailable),
            "too many connections, try again later".into(),
        ),
    ));
    if let Ok(bytes) = mailroom_imap_proto::flatten(writer.finish()) {
        let _ = tcp.write_all(&bytes).await;
    }
}

async fn connection(
    shared: Arc<Shared>,
    tcp: TcpStream,
    implicit_tls: bool,
    mut stop: watch::Receiver<bool>,
) {
    let loopback = tcp.peer_addr().is_ok_and(|p| is_loopback(&p));
    let auth_timeout = shared.config.auth_timeout;
    let mut stream = if implicit_tls {
        let Some(acceptor) = shared.tls.clone() else {
            tracing::error!("implicit TLS listener without a TLS configuration");
            return;
        };
        match tokio::time::timeout(auth_timeout, MailStream::accept_tls(tcp, &acceptor)).await {
            Ok(Ok(stream)) => stream,
            _ => return,
        }
    } else {
        MailStream::Plain(tcp)
    };
    let mut session = Session::new(shared.clone(), stream.is_tls(), loopback);
    // RFC 9051 §7.1.1: the greeting may carry the capabilities.
    session.push(Response::untagged(
        StatusKind::Ok,
        session.capabilities().map(Code::Capability),
        Text::sanitized(&format!("{} Mailroom IMAP ready", shared.config.hostname)),
    ));
    loop {
        let exit = Driver {
            session: &mut session,
            stream: &mut stream,
            shutdown: &mut stop,
            deflate: None,
        }
        .run()
        .await;
        match exit {
            Ok(Exit::StartTls) => {
                let Some(acceptor) = shared.tls.clone() else {
                    break;
                };
                stream = match tokio::time::timeout(auth_timeout, stream.starttls(&acceptor)).await
                {
                    Ok(Ok(stream)) => stream,
                    _ => return,
                };
                session.tls_active = true;
            }
            Ok(Exit::Close) => break,
            Err(e) => {
                tracing::debug!(error = %e, "connection error");
                break;
            }
        }
    }
    let _ = stream.shutdown().await;
}
