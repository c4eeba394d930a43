//! What an operator may tune for the IMAP listener.

use std::time::Duration;

/// Limits and policy for IMAP sessions.
#[derive(Debug, Clone)]
pub struct ImapConfig {
    /// Named in the greeting.
    pub hostname: String,
    /// Longest command line (RFC 7162 §4 asks for at least 8192).
    pub max_line: usize,
    /// Largest literal, hence the largest message APPEND accepts (advertised as APPENDLIMIT,
    /// RFC 7889).
    pub max_literal: u64,
    /// RFC 9051 §5.4: an autologout timer of at least 30 minutes once authenticated.
    pub idle_timeout: Duration,
    /// How long a write may wait for a client that stopped reading before the session ends
    /// (its responses, and the memory they hold, go with it).
    pub write_timeout: Duration,
    /// How long a connection may stay without a successful login (from connect, however
    /// many commands it sends meanwhile).
    pub auth_timeout: Duration,
    /// Accept passwords over plaintext connections from non-loopback peers. Loopback peers may
    /// always send them.
    pub allow_plaintext_auth: bool,
    /// Sessions one account may hold at once; 0 means no limit.
    pub max_connections_per_user: usize,
    /// Sessions the listener runs at once; further clients get `* BYE`.
    pub max_connections: usize,
    /// Sessions at once from one IPv4 address or IPv6 /64 that have not logged in; 0 means
    /// no such limit.
    pub max_connections_per_ip: usize,
    /// Logged-in sessions of one account from one address (Dovecot's
    /// `mail_max_userip_connections`); 0 means no such limit.
    pub max_connections_per_user_ip: usize,
    /// Commands per second per connection; faster clients are slowed down.
    pub commands: mailroom_net::RateConfig,
    /// BAD answers in a row (malformed, unknown or misplaced commands) before BYE, before and
    /// after login alike; 0 = no limit.
    pub max_bad_commands: u32,
    /// Name of the read-only virtual folder listing the account's recoverable (deleted) mail;
    /// COPY / MOVE out of it restores. An empty string turns the folder off.
    pub recently_deleted: String,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            hostname: "localhost".to_string(),
            max_line: mailroom_imap_proto::limits::DEFAULT_MAX_LINE,
            max_literal: mailroom_imap_proto::limits::DEFAULT_MAX_LITERAL,
            idle_timeout: Duration::from_secs(30 * 60),
            write_timeout: mailroom_net::WRITE_TIMEOUT,
            auth_timeout: Duration::from_secs(60),
            allow_plaintext_auth: false,
            max_connections_per_user: 20,
            max_connections: 1000,
            max_connections_per_ip: mailroom_net::ConnectionLimits::default().per_ip,
            max_connections_per_user_ip: mailroom_net::ConnectionLimits::default().per_user_ip,
            commands: mailroom_net::RateConfig::default(),
            max_bad_commands: 20,
            recently_deleted: "Recently Deleted".to_string(),
        }
    }
}
