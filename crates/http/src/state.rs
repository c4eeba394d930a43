//! What every request handler shares.

use mailroom_admin::{Admin, ClientEndpoints};
use mailroom_auth::Authenticator;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// The web side's settings, from the server's configuration.
#[derive(Clone)]
pub struct HttpConfig {
    /// The listeners mail programs are told of (autoconfig, the set-up page, DNS records).
    pub endpoints: ClientEndpoints,
    /// Keys the session cookies and the profile identifiers; the server's persistent secret,
    /// so sessions survive a restart.
    pub secret: Vec<u8>,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Largest request body (the API's JSON, a sign-in form).
    pub max_body: usize,
    /// How long a request may take to arrive and be answered.
    pub request_timeout: Duration,
    /// How long a signed-in session lasts.
    pub session_lifetime: Duration,
    /// Shown on the status page and in the API.
    pub version: &'static str,
    /// The store's directory, for the disk space in `/metrics`.
    pub data_dir: Option<std::path::PathBuf>,
    /// What POP3 does with downloaded mail for accounts without a policy of their own.
    pub pop3_default: mailroom_store::Pop3Policy,
    /// ACME HTTP-01 challenges in progress, answered at `/.well-known/acme-challenge/`.
    pub acme: Option<mailroom_net::acme::Challenges>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            endpoints: ClientEndpoints::default(),
            secret: Vec::new(),
            max_connections: 1000,
            max_connections_per_ip: 50,
            max_body: 1 << 20,
            request_timeout: Duration::from_secs(30),
            session_lifetime: Duration::from_secs(8 * 3600),
            version: env!("CARGO_PKG_VERSION"),
            data_dir: None,
            pop3_default: mailroom_store::Pop3Policy::LeaveOnServer,
            acme: None,
        }
    }
}

/// Backups belong to the store backend; the binary hands the web side what it can do with
/// them.
#[async_trait::async_trait]
pub trait Backups: Send + Sync {
    async fn list(&self) -> Result<Vec<BackupInfo>, String>;
    /// Takes one now; returns it.
    async fn run(&self) -> Result<BackupInfo, String>;
    /// The problems found (empty: sound).
    async fn verify(&self, id: &str) -> Result<Vec<String>, String>;
    /// Restores an account's mail (or one folder of it) beside what it has; returns how many
    /// messages.
    async fn restore_account(
        &self,
        id: &str,
        address: &str,
        folder: Option<&str>,
    ) -> Result<u64, String>;
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BackupInfo {
    pub id: String,
    pub accounts: u64,
    pub messages: u64,
    pub bytes: u64,
}

pub(crate) struct AppState {
    pub admin: Admin,
    pub auth: Authenticator,
    pub config: HttpConfig,
    pub backups: Option<Arc<dyn Backups>>,
    pub started: std::time::Instant,
}

/// Who sent a request: the connection's address (or, behind a trusted proxy, the client it
/// names in X-Forwarded-For) and whether the connection is TLS. The server puts it in every
/// request's extensions; tests of `HttpServer::router` add it themselves.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    pub ip: IpAddr,
    pub tls: bool,
}

impl Client {
    /// Passwords and tokens travel only over TLS, or from this machine, as for IMAP, POP3
    /// and submission: a plain-HTTP sign-in from elsewhere would put them on the wire.
    pub fn may_send_secrets(&self) -> bool {
        self.tls || self.ip.to_canonical().is_loopback()
    }
}
