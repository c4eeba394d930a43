//! The configuration file: one TOML document, every key documented in
//! `mailroom.example.toml`. Unknown keys are errors, so a typo never silently does nothing.

use anyhow::{Context, Result};
use bytesize::ByteSize;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the embedded store keeps its database and blobs.
    pub data_dir: PathBuf,
    /// The name this server greets with and puts in its certificate.
    pub hostname: String,
    pub tls: TlsConfig,
    pub limits: LimitsConfig,
    pub auth: AuthConfig,
    pub imap: ImapSection,
    pub pop3: Pop3Section,
    pub smtp: SmtpSection,
    pub submission: Listeners,
    pub lmtp: Listeners,
    pub http: HttpSection,
    pub outbound: OutboundSection,
    pub storage: StorageConfig,
    pub backup: BackupConfig,
}

/// How mail for other domains leaves: the persistent queue's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundSection {
    /// Send everything through this smart host ("host:port") instead of the recipients' MX.
    pub relay: Option<String>,
    /// Days a message keeps being retried before it is bounced to its sender.
    pub max_days: u32,
    /// Use STARTTLS with receiving servers that offer it (opportunistic, RFC 7435).
    pub starttls: bool,
    /// Messages in delivery at once.
    pub concurrent_messages: usize,
    /// Connections at once to one destination (a recipient domain, or the relay).
    pub connections_per_destination: usize,
}

impl Default for OutboundSection {
    fn default() -> Self {
        OutboundSection {
            relay: None,
            max_days: 5,
            starttls: true,
            concurrent_messages: 20,
            connections_per_destination: 5,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Where backups go; relative to data_dir when relative. Best on another disk.
    pub dir: PathBuf,
    /// Local time of the nightly backup, "HH:MM"; "off" turns the schedule off.
    pub time: String,
    /// How many backups to keep (one a night: 14 = two weeks).
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: PathBuf::from("backups"),
            time: "02:00".into(),
            keep: 14,
        }
    }
}

impl Config {
    /// Without a config file Mailroom runs for one person trying it: the store in
    /// ./mailroom-data and every protocol on loopback, on ports that need no root.
    pub fn without_file() -> Self {
        let on = |plain: &str, tls: &[&str]| {
            (
                vec![format!("127.0.0.1:{plain}")],
                tls.iter()
                    .map(|p| format!("127.0.0.1:{p}"))
                    .collect::<Vec<_>>(),
            )
        };
        let mut config = Config::default();
        (config.imap.listen, config.imap.listen_tls) = on("1143", &["1993"]);
        (config.pop3.listen, config.pop3.listen_tls) = on("1110", &["1995"]);
        (config.smtp.listen, config.smtp.listen_tls) = on("2525", &[]);
        (config.submission.listen, config.submission.listen_tls) = on("1587", &["1465"]);
        (config.lmtp.listen, config.lmtp.listen_tls) = on("2424", &[]);
        (config.http.listen, config.http.listen_tls) = on("8080", &["8443"]);
        config
    }

    /// Where mail programs reach this server, from the configured listeners: what DNS
    /// records and autoconfig answers name.
    pub fn client_endpoints(&self) -> mailroom_admin::ClientEndpoints {
        use mailroom_admin::endpoints;
        let web = |list: &[String]| endpoints(list, &[]).first().map(|e| e.port);
        mailroom_admin::ClientEndpoints {
            hostname: self.hostname.clone(),
            imap: endpoints(&self.imap.listen, &self.imap.listen_tls),
            pop3: endpoints(&self.pop3.listen, &self.pop3.listen_tls),
            submission: endpoints(&self.submission.listen, &self.submission.listen_tls),
            https: web(&self.http.listen_tls),
            http: web(&self.http.listen),
        }
    }

    pub fn backup_dir(&self) -> PathBuf {
        if self.backup.dir.is_absolute() {
            self.backup.dir.clone()
        } else {
            self.data_dir.join(&self.backup.dir)
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain; with `key`. Without both, a self-signed pair is generated.
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Certificates per name, chosen by SNI: `<name>.crt` + `<name>.key`, or
    /// `<name>/fullchain.pem` + `<name>/privkey.pem`; each also serves `*.<name>`. Re-read
    /// on SIGHUP, with the default pair.
    pub certs_dir: Option<PathBuf>,
    /// Certificates from an ACME CA (Let's Encrypt unless `acme_directory` says otherwise)
    /// for `hostname` and each domain's autoconfig/autodiscover names, by HTTP-01 on the
    /// `[http]` listener (which must be reachable on port 80 under those names), renewed 30
    /// days before they end and served without a restart.
    pub acme: bool,
    /// Contact addresses for the CA's notices, e.g. ["mailto:postmaster@example.com"].
    pub acme_contact: Vec<String>,
    /// The CA's directory URL; default Let's Encrypt's production directory.
    pub acme_directory: Option<String>,
    /// A PEM root certificate to trust for the CA's own HTTPS (a private or test CA).
    pub acme_ca: Option<PathBuf>,
}

/// Let's Encrypt's production directory (RFC 8555 §7.1.1).
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// Limits on connections and on what one connection may do.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Sessions at once per protocol (POP3, SMTP, LMTP; IMAP has `[imap] max_connections`).
    pub connections_total: usize,
    /// Sessions at once per protocol from one IPv4 address or IPv6 /64 that have not logged
    /// in (all MX sessions; LMTP is exempt: its connections all come from the MTA in front);
    /// 0 = no limit.
    pub connections_per_ip: usize,
    /// Logged-in IMAP, POP3 or submission sessions at once per protocol of one account from
    /// one address (Dovecot's mail_max_userip_connections); 0 = no limit.
    pub connections_per_user_ip: usize,
    /// IMAP, POP3 and SMTP (MX, submission) commands per second per connection; faster
    /// clients are slowed down.
    /// 0 = no limit.
    pub commands_per_second: u32,
    /// Commands a connection may send at once after a quiet spell.
    pub command_burst: u32,
    /// Seconds a connection may stay slowed down without a pause before it is closed.
    pub throttled_seconds: u64,
    /// Seconds an IMAP or POP3 connection may go without a successful login.
    pub auth_timeout_seconds: u64,
    /// Seconds a write may wait for a client that stopped reading.
    pub write_timeout_seconds: u64,
    /// Malformed, unknown or misplaced commands (IMAP BAD, POP3 -ERR, SMTP 5xx syntax and
    /// sequence errors) before the server closes the connection, before and after login:
    /// IMAP and POP3 count them in a row, SMTP per session.
    pub bad_commands: u32,
    /// Recipients an SMTP session (MX, submission) may have refused (unknown, relaying
    /// denied) before 421 and a disconnect; from a quarter of it on each refusal waits a
    /// second (Postfix's smtpd_soft/hard_error_limit). LMTP is exempt. 0 = no limit.
    pub refused_recipients: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let connections = mailroom_net::ConnectionLimits::default();
        let rate = mailroom_net::RateConfig::default();
        LimitsConfig {
            connections_total: connections.total,
            connections_per_ip: connections.per_ip,
            connections_per_user_ip: connections.per_user_ip,
            commands_per_second: rate.per_second,
            command_burst: rate.burst,
            throttled_seconds: rate.max_throttled.as_secs(),
            auth_timeout_seconds: 60,
            write_timeout_seconds: mailroom_net::WRITE_TIMEOUT.as_secs(),
            bad_commands: 20,
            refused_recipients: 20,
        }
    }
}

impl LimitsConfig {
    pub fn commands(&self) -> mailroom_net::RateConfig {
        mailroom_net::RateConfig {
            per_second: self.commands_per_second,
            burst: self.command_burst,
            max_throttled: std::time::Duration::from_secs(self.throttled_seconds),
        }
    }

    pub fn auth_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.auth_timeout_seconds)
    }

    pub fn write_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.write_timeout_seconds.max(1))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Accept passwords over unencrypted connections from non-loopback clients. Off by
    /// default: clients must use TLS (RFC 8314).
    pub allow_plaintext: bool,
    /// Milliseconds every failed login (IMAP, POP3, SMTP AUTH) waits at least before its
    /// answer, to slow password guessing.
    pub failure_delay_ms: u64,
    /// Failed logins from one address answered after failure_delay_ms only, without the
    /// growing delay.
    pub free_failures: u32,
    /// The first growing delay (milliseconds); it doubles per further failure.
    pub base_delay_ms: u64,
    /// The growing delay's cap (milliseconds).
    pub max_delay_ms: u64,
    /// Failures are counted over this many seconds.
    pub failure_window_secs: u64,
    /// Failures from one address within the window that lock the address out (0: never).
    pub lockout_address_failures: u32,
    /// Failures for one account from all addresses within the window that lock the account
    /// for addresses that never logged in to it (0: never).
    pub lockout_account_failures: u32,
    /// How long a lockout lasts (seconds).
    pub lockout_secs: u64,
    /// Proxies and webmail servers in front ("127.0.0.1", "10.0.0.0/8"): their own address is
    /// never locked out, and they may name the client they speak for (IMAP ID
    /// "x-originating-ip", SMTP XCLIENT ADDR), which is then throttled and logged instead.
    pub trusted_networks: Vec<String>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        let t = mailroom_auth::ThrottleConfig::default();
        AuthConfig {
            allow_plaintext: false,
            failure_delay_ms: 2000,
            free_failures: t.free_failures,
            base_delay_ms: millis(t.base_delay),
            max_delay_ms: millis(t.max_delay),
            failure_window_secs: t.window.as_secs(),
            lockout_address_failures: t.ip_lockout_failures,
            lockout_account_failures: t.account_lockout_failures,
            lockout_secs: t.lockout.as_secs(),
            trusted_networks: Vec::new(),
        }
    }
}

/// "10.0.0.0/8", "2001:db8::/32", or one address ("127.0.0.1" is 127.0.0.1/32).
fn parse_network(text: &str) -> Result<ipnet::IpNet> {
    let text = text.trim();
    if let Ok(net) = text.parse::<ipnet::IpNet>() {
        return Ok(net);
    }
    text.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| {
            anyhow::anyhow!(
                "[auth] trusted_networks: {text:?} is not an address or a network such as 10.0.0.0/8"
            )
        })
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl AuthConfig {
    /// The login throttle's settings.
    pub fn throttle(&self) -> Result<mailroom_auth::ThrottleConfig> {
        use std::time::Duration;
        let trusted = self
            .trusted_networks
            .iter()
            .map(|text| parse_network(text))
            .collect::<Result<Vec<_>>>()?;
        Ok(mailroom_auth::ThrottleConfig {
            trusted,
            failure_delay: Duration::from_millis(self.failure_delay_ms),
            free_failures: self.free_failures,
            base_delay: Duration::from_millis(self.base_delay_ms),
            max_delay: Duration::from_millis(self.max_delay_ms),
            window: Duration::from_secs(self.failure_window_secs),
            ip_lockout_failures: self.lockout_address_failures,
            account_lockout_failures: self.lockout_account_failures,
            lockout: Duration::from_secs(self.lockout_secs),
            ..mailroom_auth::ThrottleConfig::default()
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapSection {
    pub listen: Vec<String>,
    pub listen_tls: Vec<String>,
    /// Sessions one account may hold at once (phones, laptops, webmail); 0 = no limit.
    pub max_connections_per_user: usize,
    /// Sessions the server runs at once; further clients are told BYE.
    pub max_connections: usize,
    /// The read-only folder listing the user's deleted mail (MOVE or COPY out of it restores);
    /// "" turns it off.
    pub recently_deleted: String,
}

impl Default for ImapSection {
    fn default() -> Self {
        ImapSection {
            listen: Vec::new(),
            listen_tls: Vec::new(),
            max_connections_per_user: 20,
            max_connections: 5000,
            recently_deleted: "Recently Deleted".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pop3Section {
    pub listen: Vec<String>,
    pub listen_tls: Vec<String>,
    /// What POP3 does with downloaded mail for accounts without a policy of their own:
    /// "keep" (leave on server) or "delete" (remove at QUIT, advertised as EXPIRE 0).
    pub policy: String,
}

impl Default for Pop3Section {
    fn default() -> Self {
        Pop3Section {
            listen: Vec::new(),
            listen_tls: Vec::new(),
            policy: "keep".into(),
        }
    }
}

/// Addresses a protocol listens on: `listen` in plain text (with STARTTLS where the protocol
/// has it), `listen_tls` with implicit TLS.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Listeners {
    pub listen: Vec<String>,
    pub listen_tls: Vec<String>,
}

impl Listeners {
    pub fn is_empty(&self) -> bool {
        self.listen.is_empty() && self.listen_tls.is_empty()
    }
}

/// The web side's listeners.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSection {
    pub listen: Vec<String>,
    pub listen_tls: Vec<String>,
    /// Plain HTTP with only `/metrics` and `/healthz`, answered to anyone who reaches it
    /// (no token): for a Prometheus on an internal address. Never a public one.
    pub metrics_listen: Vec<String>,
}

impl HttpSection {
    /// The listeners of the web side proper (not the metrics one).
    pub fn listeners(&self) -> Listeners {
        Listeners {
            listen: self.listen.clone(),
            listen_tls: self.listen_tls.clone(),
        }
    }
}

/// The MX's listeners, and how every SMTP role (MX, submission, LMTP) takes a message.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSection {
    pub listen: Vec<String>,
    pub listen_tls: Vec<String>,
    /// A message with lines ending in a bare CR or LF (RFC 5321 forbids them; old scripts
    /// send them): "normalize" stores them as CRLF, "reject" refuses the message with 550.
    /// Either way only CRLF . CRLF ends DATA.
    pub bare_line_ends: BareLineEnds,
}

impl SmtpSection {
    pub fn listeners(&self) -> Listeners {
        Listeners {
            listen: self.listen.clone(),
            listen_tls: self.listen_tls.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BareLineEnds {
    #[default]
    Normalize,
    Reject,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageConfig {
    /// Days deleted mail stays recoverable.
    pub recovery_days: u32,
    /// The largest message accepted anywhere (delivery, APPEND).
    pub max_message_size: ByteSize,
    /// Days a message stays in Trash before it is removed (into the recovery area); 0 keeps
    /// it until the user empties the Trash.
    pub trash_days: u32,
    /// The same for Junk.
    pub junk_days: u32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            recovery_days: 14,
            max_message_size: ByteSize::mib(64),
            trash_days: 30,
            junk_days: 30,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./mailroom-data"),
            hostname: "localhost".into(),
            tls: TlsConfig::default(),
            limits: LimitsConfig::default(),
            auth: AuthConfig::default(),
            imap: ImapSection::default(),
            pop3: Pop3Section::default(),
            smtp: SmtpSection::default(),
            submission: Listeners::default(),
            lmtp: Listeners::default(),
            http: HttpSection::default(),
            outbound: OutboundSection::default(),
            storage: StorageConfig::default(),
            backup: BackupConfig::default(),
        }
    }
}

impl Config {
    /// Reads the file, or the defaults when no file is given. A relative `data_dir` in a file
    /// is taken relative to that file, so a config works from any working directory.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Config::without_file());
        };
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut config: Config =
            toml::from_str(&text).with_context(|| format!("in {}", path.display()))?;
        if config.data_dir.is_relative()
            && let Some(base) = path.parent()
        {
            config.data_dir = base.join(&config.data_dir);
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_parses_and_unknown_keys_fail() {
        let example = include_str!("../../../mailroom.example.toml");
        let config: Config = toml::from_str(example).expect("the example config parses");
        assert_eq!(config.storage.recovery_days, 14);
        assert!(!config.imap.listen.is_empty());
        assert!(toml::from_str::<Config>("hostnme = \"x\"").is_err());
        assert!(toml::from_str::<Config>("[imap]\nlisten = \"not a list\"").is_err());
        assert_eq!(config.pop3.policy, "keep");
    }

    #[test]
    fn limits_and_certs_dir() {
        let example: Config = toml::from_str(include_str!("../../../mailroom.example.toml"))
            .expect("the example config parses");
        assert_eq!(example.limits.connections_per_ip, 50);
        assert_eq!(example.limits.connections_per_user_ip, 10);
        assert_eq!(example.limits.commands().per_second, 50);
        let config: Config = toml::from_str(
            "[tls]\ncerts_dir = \"/etc/mailroom/certs\"\n\
             [limits]\nconnections_per_ip = 5\nauth_timeout_seconds = 30\n",
        )
        .unwrap();
        assert_eq!(
            config.tls.certs_dir,
            Some(PathBuf::from("/etc/mailroom/certs"))
        );
        assert_eq!(config.limits.connections_per_ip, 5);
        assert_eq!(config.limits.auth_timeout().as_secs(), 30);
        assert_eq!(config.limits.connections_total, 1000);
        assert!(toml::from_str::<Config>("[limits]\nconnections = 5").is_err());
    }

    #[test]
    fn defaults_without_a_file() {
        let config = Config::load(None).unwrap();
        assert_eq!(config.data_dir, PathBuf::from("./mailroom-data"));
        assert_eq!(config.imap.listen, ["127.0.0.1:1143"]);
        assert_eq!(config.pop3.listen_tls, ["127.0.0.1:1995"]);
        assert_eq!(config.storage.max_message_size, ByteSize::mib(64));
    }

    #[test]
    fn relative_data_dir_follows_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.toml");
        std::fs::write(
            &path,
            "data_dir = \"data\"\n[storage]\nmax_message_size = \"10 MiB\"\n",
        )
        .unwrap();
        let config = Config::load(Some(&path)).unwrap();
        assert_eq!(config.data_dir, dir.path().join("data"));
        assert_eq!(config.storage.max_message_size, ByteSize::mib(10));
    }
}
