//! The listener: accepts connections, enforces the connection limit, and ends sessions
//! gracefully on shutdown.

use crate::config::ImapConfig;
use crate::conn::{Driver, Exit};
use crate::error::{ImapError, error_response};
use crate::session::{Session, Shared, UserSlots};
use mailroom_auth::Authenticator;
use mailroom_imap_proto::response::{Code, Response, ResponseWriter, StatusKind, Text};
use mailroom_net::{
    Accepted, Connection, ConnectionGate, ConnectionLimits, RateLimit, Refusal, ServeOptions,
    TlsAcceptor, is_loopback,
};
use mailroom_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// How long sessions get to finish their current command after shutdown is signalled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// An IMAP service over one store.
pub struct ImapServer {
    shared: Arc<Shared>,
    gate: Arc<ConnectionGate>,
}

impl ImapServer {
    pub fn new(
        store: Arc<dyn Store>,
        auth: Authenticator,
        tls: Option<TlsAcceptor>,
        config: ImapConfig,
    ) -> Self {
        let gate = ConnectionGate::new(ConnectionLimits {
            total: config.max_connections.max(1),
            per_ip: config.max_connections_per_ip,
            per_user_ip: config.max_connections_per_user_ip,
        });
        ImapServer {
            shared: Arc::new(Shared {
                store,
                auth,
                tls,
                config,
                users: Arc::new(UserSlots::default()),
            }),
            gate,
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
        let Some(options) = ServeOptions::for_listener(
            "imap",
            implicit_tls,
            self.shared.tls.as_ref(),
            self.shared.config.auth_timeout,
        ) else {
            return;
        };
        let shared = self.shared.clone();
        mailroom_net::serve(
            listener,
            options.drain_on_shutdown(SHUTDOWN_GRACE),
            self.gate.clone(),
            shutdown,
            refusal,
            move |accepted| connection(shared.clone(), accepted),
        )
        .await;
    }
}

/// RFC 9051 §7.1.5: a server that cannot take the connection says BYE at once.
fn refusal(reason: Refusal) -> Vec<u8> {
    let text = match reason {
        Refusal::Total => "too many connections, try again later",
        Refusal::PerAddress => "Too many connections from your address",
    };
    let mut writer = ResponseWriter::new(Default::default());
    writer.push(&error_response(
        None,
        &ImapError::Bye(Some(Code::Unavailable), text.into()),
    ));
    mailroom_imap_proto::flatten(writer.finish()).unwrap_or_default()
}

async fn connection(shared: Arc<Shared>, accepted: Accepted) {
    let Accepted {
        stream,
        peer,
        mut stop,
        permit,
    } = accepted;
    let loopback = is_loopback(&peer);
    let auth_timeout = shared.config.auth_timeout;
    // The whole unauthenticated phase, STARTTLS included, must end by then.
    let login_deadline = tokio::time::Instant::now() + auth_timeout;
    let mut rate = RateLimit::new(shared.config.commands);
    let mut session = Session::new(shared.clone(), stream.is_tls(), loopback, peer.ip());
    session.permit = Some(permit);
    let mut conn = Connection::new(stream, shared.config.write_timeout);
    // RFC 9051 §7.1.1: the greeting may carry the capabilities.
    session.push(Response::untagged(
        StatusKind::Ok,
        session.capabilities().map(Code::Capability),
        Text::sanitized(&format!("{} Mailroom IMAP ready", shared.config.hostname)),
    ));
    loop {
        let exit = Driver {
            session: &mut session,
            conn: &mut conn,
            shutdown: &mut stop,
            rate: &mut rate,
            login_deadline,
        }
        .run()
        .await;
        match exit {
            Ok(Exit::StartTls) => {
                let Some(acceptor) = shared.tls.clone() else {
                    break;
                };
                conn = match tokio::time::timeout(auth_timeout, conn.start_tls(&acceptor)).await {
                    Ok(Ok(upgraded)) => upgraded,
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
    conn.shutdown().await;
}
