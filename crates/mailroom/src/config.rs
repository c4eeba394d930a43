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
    pub auth: AuthConfig,
    pub imap: ImapSection,
    pub pop3: Pop3Section,
    pub smtp: Listeners,
    pub submission: Listeners,
    pub lmtp: Listeners,
    pub http: Listeners,
    pub storage: StorageConfig,
    pub backup: BackupConfig,
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
        (config.lmtp.listen, config.lmtp.listen_tls) = on("2424", &[]);
        config
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Accept passwords over unencrypted connections from non-loopback clients. Off by
    /// default: clients must use TLS (RFC 8314).
    pub allow_plaintext: bool,
    /// Milliseconds a failed login waits before its answer, to slow password guessing.
    pub failure_delay_ms: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            allow_plaintext: false,
            failure_delay_ms: 2000,
        }
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
            auth: AuthConfig::default(),
            imap: ImapSection::default(),
            pop3: Pop3Section::default(),
            smtp: Listeners::default(),
            submission: Listeners::default(),
            lmtp: Listeners::default(),
            http: Listeners::default(),
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
