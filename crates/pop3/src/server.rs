//! Accepting connections and the server-wide settings.

use crate::proto::{RespCode, err};
use crate::session::Session;
use mailroom_auth::Authenticator;
use mailroom_net::{
    Accepted, ConnectionGate, ConnectionLimits, RateConfig, Refusal, ServeOptions, TlsAcceptor,
};
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
    /// Malformed or unknown commands in a row before -ERR and a disconnect; 0 = no limit.
    pub max_bad_commands: u32,
    /// RFC 1939 §3: an autologout timer of at least 10 minutes.
    pub idle_timeout: Duration,
    /// How long a reply may wait for a client that stopped reading before the session ends.
    pub write_timeout: Duration,
    /// How long a connection may stay without a successful login, counted from connect.
    pub auth_timeout: Duration,
    /// Sessions the listeners run at once; further clients get -ERR [SYS/TEMP].
    pub max_connections: usize,
    /// Sessions at once from one IPv4 address or IPv6 /64 that have not logged in; 0 means
    /// no such limit.
    pub max_connections_per_ip: usize,
    /// Logged-in sessions of one account from one address; 0 means no such limit.
    pub max_connections_per_user_ip: usize,
    /// Commands per second per connection; faster clients are slowed down.
    pub commands: RateConfig,
}

impl Default for Pop3Config {
    fn default() -> Self {
        Pop3Config {
            hostname: "localhost".into(),
            allow_plaintext_auth: false,
            default_policy: Pop3Policy::LeaveOnServer,
            max_bad_commands: 20,
            idle_timeout: Duration::from_secs(600),
            write_timeout: mailroom_net::WRITE_TIMEOUT,
            auth_timeout: Duration::from_secs(60),
            max_connections: ConnectionLimits::default().total,
            max_connections_per_ip: ConnectionLimits::default().per_ip,
            max_connections_per_user_ip: ConnectionLimits::default().per_user_ip,
            commands: RateConfig::default(),
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
    gate: Arc<ConnectionGate>,
}

impl Pop3Server {
    pub fn new(
        store: Arc<dyn Store>,
        auth: Authenticator,
        tls: Option<TlsAcceptor>,
        config: Pop3Config,
    ) -> Self {
        let gate = ConnectionGate::new(ConnectionLimits {
            total: config.max_connections.max(1),
            per_ip: config.max_connections_per_ip,
            per_user_ip: config.max_connections_per_user_ip,
        });
        Pop3Server {
            gate,
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
        // Open sessions run on to their end at shutdown: an unfinished maildrop stays intact
        // (RFC 1939 §6) either way, and the process exit ends them.
        let Some(options) = ServeOptions::for_listener(
            "pop3",
            implicit_tls,
            self.shared.tls.as_ref(),
            self.shared.config.auth_timeout,
        ) else {
            return;
        };
        let shared = self.shared.clone();
        mailroom_net::serve(
            listener,
            options,
            self.gate.clone(),
            shutdown,
            refusal,
            move |accepted: Accepted| {
                Session::new(shared.clone(), accepted.peer, Some(accepted.permit))
                    .run(accepted.stream)
            },
        )
        .await;
    }
}

/// RFC 2449 §8.1.2: [SYS/TEMP], a passing problem worth a later retry.
fn refusal(reason: Refusal) -> Vec<u8> {
    let text = match reason {
        Refusal::Total => "Too many connections, try again later",
        Refusal::PerAddress => "Too many connections from your address",
    };
    err(Some(RespCode::SysTemp), text)
}
