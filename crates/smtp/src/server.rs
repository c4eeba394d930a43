//! Accepting connections and the server-wide settings.

use crate::dns::Dns;
use crate::session::Session;
use mailroom_auth::Authenticator;
use mailroom_net::{
    Accepted, ConnectionGate, ConnectionLimits, RateConfig, Refusal, ServeOptions, TlsAcceptor,
};
use mailroom_store::{Directory, OutboundMessage, QueueId, Store, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tracing::Instrument;

/// Which protocol a listener speaks; all run on the same engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// LMTP (RFC 2033): LHLO, and one reply per recipient after the message.
    Lmtp,
    /// The inbound MX (RFC 5321): mail for our own domains only, never relayed, no AUTH.
    Mx,
    /// Message submission (RFC 6409, on 587 with STARTTLS or 465 with implicit TLS per
    /// RFC 8314): AUTH required before MAIL, any recipient accepted and relayed for the
    /// authenticated user, messages DKIM-signed.
    Submission,
}

impl Mode {
    /// The protocol's name in logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Lmtp => "lmtp",
            Mode::Mx => "smtp",
            Mode::Submission => "submission",
        }
    }
}

/// RFC 5321 §4.5.3.2 server timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Waiting for the next command (§4.5.3.2.7: at least 5 minutes).
    pub command: Duration,
    /// Waiting for the next piece of DATA or a BDAT chunk (§4.5.3.2.5, 3 minutes per block
    /// on the client side; we wait as long as we'd wait for a command).
    pub data: Duration,
    /// A reply waiting for a client that stopped reading.
    pub write: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            command: Duration::from_secs(300),
            data: Duration::from_secs(300),
            write: mailroom_net::WRITE_TIMEOUT,
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
    /// Refused recipients (unknown addresses, relaying denied) one session may try before 421
    /// and a disconnect (Postfix's smtpd_hard_error_limit); from a quarter of it on, each
    /// refusal waits `recipient_error_delay` first, so harvesting a directory is slow. LMTP is
    /// exempt: the MTA in front asks for every recipient it was given. 0 = no limit.
    pub max_recipient_errors: u32,
    pub recipient_error_delay: std::time::Duration,
    /// A message whose lines end in a bare CR or LF: stored with CRLF, or refused. Only CRLF
    /// `.` CRLF ends DATA either way (see `proto::data`).
    pub bare_line_ends: crate::proto::BareLineEnds,
    pub timeouts: Timeouts,
    /// Sessions served at once; a client past the limit gets 421 4.7.0 and is closed
    /// (RFC 5321 §3.8).
    pub max_connections: usize,
    /// Sessions at once from one IPv4 address or IPv6 /64 that have not authenticated (all
    /// of them on the MX); past it, 421 4.7.0 and a close. 0 means no such limit (right for
    /// LMTP, whose connections all come from the MTA in front).
    pub max_connections_per_ip: usize,
    /// Submission: authenticated sessions of one account from one address; past it, AUTH is
    /// answered 421 4.7.0 and the connection closed. 0 means no such limit.
    pub max_connections_per_user_ip: usize,
    /// Submission: offer AUTH (and take passwords) over a connection that is neither TLS
    /// nor loopback. Off by default (RFC 4954 §4, RFC 8314 §3).
    pub allow_plaintext_auth: bool,
    /// Submission: a loopback client (webmail or a script on this host) may AUTH without
    /// TLS, its traffic never leaves the machine.
    pub loopback_is_secure: bool,
    /// Failed AUTH attempts on one connection before 421 and a disconnect.
    pub max_auth_failures: u32,
    /// MX: check SPF, DKIM and DMARC and add Authentication-Results (RFC 8601). Needs a
    /// resolver (`SmtpServer::with_dns`); without one, or from a loopback peer with no DNS,
    /// nothing is checked.
    pub verify_inbound: bool,
    /// MX: also check mail from loopback peers. The server turns this off: mail from this
    /// host (a content filter, a script) has no public address SPF could judge, and checking
    /// it would wait on DNS for nothing.
    pub verify_loopback: bool,
    /// MX: refuse (550 5.7.1) a message that fails DMARC when its domain publishes p=reject
    /// (RFC 7489 §6.7).
    pub dmarc_reject: bool,
    /// Command lines per second per connection (message content doesn't count): a faster
    /// client waits for its next reply; one that stays over for long is sent 421 and closed.
    /// The server turns it off for LMTP, whose only client is the MTA in front.
    pub commands: RateConfig,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            hostname: "localhost".into(),
            max_message_size: 50 * 1024 * 1024,
            max_recipients: 100,
            max_errors: 10,
            max_recipient_errors: 20,
            recipient_error_delay: std::time::Duration::from_secs(1),
            bare_line_ends: crate::proto::BareLineEnds::default(),
            timeouts: Timeouts::default(),
            max_connections: 500,
            max_connections_per_ip: ConnectionLimits::default().per_ip,
            max_connections_per_user_ip: ConnectionLimits::default().per_user_ip,
            allow_plaintext_auth: false,
            loopback_is_secure: true,
            max_auth_failures: 3,
            verify_inbound: true,
            verify_loopback: true,
            dmarc_reject: true,
            commands: RateConfig::default(),
        }
    }
}

pub(crate) struct Shared {
    pub store: Arc<dyn Store>,
    pub tls: Option<TlsAcceptor>,
    pub config: SmtpConfig,
    pub mode: Mode,
    /// Checks AUTH credentials (Submission only).
    pub authenticator: Authenticator,
    /// Woken after a message is put in the outbound queue, so the queue runner sends it now.
    pub queue_wakeup: Option<Arc<Notify>>,
    /// SPF/DKIM/DMARC lookups for inbound mail (MX only).
    pub dns: Option<Arc<Dns>>,
    transactions: AtomicU64,
}

impl Shared {
    /// Puts a message in the outbound queue (durable when it returns) and wakes the runner.
    pub async fn enqueue(&self, message: OutboundMessage) -> Result<QueueId, StoreError> {
        let queued = self.store.enqueue(message).await?;
        if let Some(wakeup) = &self.queue_wakeup {
            wakeup.notify_one();
        }
        Ok(queued)
    }

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
    gate: Arc<ConnectionGate>,
}

impl SmtpServer {
    pub fn new(
        store: Arc<dyn Store>,
        tls: Option<TlsAcceptor>,
        config: SmtpConfig,
        mode: Mode,
    ) -> Self {
        let gate = ConnectionGate::new(ConnectionLimits {
            total: config.max_connections.max(1),
            per_ip: config.max_connections_per_ip,
            per_user_ip: config.max_connections_per_user_ip,
        });
        // Trait upcasting: the authenticator only needs the directory part of the store.
        let directory: Arc<dyn Directory> = store.clone();
        SmtpServer {
            shared: Arc::new(Shared {
                store,
                tls,
                config,
                mode,
                authenticator: Authenticator::new(directory),
                queue_wakeup: None,
                dns: None,
                transactions: AtomicU64::new(0),
            }),
            gate,
        }
    }

    /// Shares an authenticator (and its cache of verified passwords) with the other
    /// protocols. Call before the server is cloned or served; later calls change nothing.
    pub fn with_authenticator(mut self, authenticator: Authenticator) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.authenticator = authenticator;
        }
        self
    }

    /// The queue runner's wake-up, notified after every enqueue. Call before cloning.
    pub fn with_queue_wakeup(mut self, wakeup: Arc<Notify>) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.queue_wakeup = Some(wakeup);
        }
        self
    }

    /// The resolver for inbound SPF/DKIM/DMARC checks (`Dns::system()`, or `Dns::offline()`
    /// filled by hand in tests). Call before cloning.
    pub fn with_dns(mut self, dns: Arc<Dns>) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.dns = Some(dns);
        }
        self
    }

    /// Accepts connections until `shutdown` completes. With `implicit_tls` the TLS handshake
    /// comes first (RFC 8314).
    pub async fn serve(
        &self,
        listener: TcpListener,
        implicit_tls: bool,
        shutdown: impl Future<Output = ()>,
    ) {
        // Open sessions run on to their end at shutdown: cutting one could lose a message
        // half stored.
        let Some(options) = ServeOptions::for_listener(
            self.shared.mode.name(),
            implicit_tls,
            self.shared.tls.as_ref(),
            self.shared.config.timeouts.command,
        ) else {
            return;
        };
        let hostname = self.shared.config.hostname.clone();
        let shared = self.shared.clone();
        mailroom_net::serve(
            listener,
            options,
            self.gate.clone(),
            shutdown,
            move |reason| refusal(&hostname, reason),
            move |accepted: Accepted| {
                let mode = shared.mode;
                Session::new(shared.clone(), accepted.peer)
                    .with_permit(accepted.permit)
                    .run(accepted.stream)
                    .instrument(tracing::info_span!("smtp", ?mode))
            },
        )
        .await;
    }
}

/// RFC 5321 §3.1: a server that can't serve now may greet with 421 and close.
fn refusal(hostname: &str, reason: Refusal) -> Vec<u8> {
    match reason {
        Refusal::Total => {
            format!("421 4.7.0 {hostname} Too many connections, try again later\r\n")
        }
        Refusal::PerAddress => "421 4.7.0 Too many connections from your address\r\n".into(),
    }
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_net::MailStream;
    use tokio::io::AsyncWriteExt;

    /// A client that pipelines commands but never reads the replies fills the socket buffers
    /// (zero receive window). The session's write then times out and the session ends, as
    /// for a dropped connection, instead of waiting in the write forever.
    #[tokio::test]
    async fn session_ends_when_the_client_stops_reading() {
        let dir = tempfile::tempdir().unwrap();
        let store =
            Arc::new(mailroom_store_sqlite::SqliteStore::open(&dir.path().join("data")).unwrap());
        // Short, so the test is quick; nothing below depends on how long anything takes.
        let config = SmtpConfig {
            hostname: "mx.example.test".into(),
            timeouts: Timeouts {
                command: Duration::from_millis(500),
                data: Duration::from_millis(500),
                write: Duration::from_millis(500),
            },
            ..SmtpConfig::default()
        };
        let server = SmtpServer::new(store, None, config, Mode::Mx);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        // A small receive window fills sooner.
        socket.set_recv_buffer_size(4096).unwrap();
        let client = socket
            .connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, peer) = listener.accept().await.unwrap();
        let session =
            tokio::spawn(Session::new(server.shared.clone(), peer).run(MailStream::Plain(stream)));
        // The read half stays open and unread until the session is over.
        let (_unread, mut write) = client.into_split();
        // Each EHLO reply is about ten times its command: far more than the buffers hold.
        let commands = b"EHLO client.example\r\n".repeat(100_000);
        tokio::spawn(async move {
            // Blocks, then fails, once the server stops reading: either is fine here.
            let _ = write.write_all(&commands).await;
        });
        // Not a timing assertion, only a guard so that a regression fails instead of hanging.
        tokio::time::timeout(Duration::from_secs(300), session)
            .await
            .expect("the session is still stuck writing")
            .unwrap();
    }
}
