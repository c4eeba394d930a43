//! `mailroom serve`: opens the store and TLS, starts the background jobs and the listeners,
//! and runs until SIGINT or SIGTERM; SIGHUP reloads the TLS certificates.

use crate::commands::{open_store, queue};
use crate::config::{Config, Listeners};
use anyhow::Context;
use mailroom_auth::Authenticator;
use mailroom_auth::hash_password;
use mailroom_imap::{ImapConfig, ImapServer};
use mailroom_net::{CertSources, CertStore, TlsAcceptor, TlsFiles, bind_all};
use mailroom_outbound::QueueRunner;
use mailroom_pop3::{Pop3Config, Pop3Server};
use mailroom_smtp::{Dns, Mode, SmtpConfig, SmtpServer};
use mailroom_store::{
    Directory, Maintenance, Messages, NewAccount, Pop3Policy, Recovery, SpecialUse, Store,
};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

const DEMO_ADDRESS: &str = "demo@example.test";
const DEMO_PASSWORD: &str = "demo";
/// How often sessions of this server look for changes made by other processes.
const EXTERNAL_CHANGE_POLL: Duration = Duration::from_millis(100);
const PURGE_EVERY: Duration = Duration::from_secs(3600);

pub async fn run(config: &Config, demo: bool) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&config.data_dir)?;
    let _lock =
        lock_data_dir(&config.data_dir).context("another mailroom server uses this data_dir")?;
    let store = open_store(config)?;
    let tls_files = match (&config.tls.cert, &config.tls.key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (None, None) => None,
        _ => anyhow::bail!("[tls] needs both cert and key"),
    };
    let certs = CertStore::open(CertSources {
        default: tls_files,
        certs_dir: config.tls.certs_dir.clone(),
        acme_dir: crate::commands::acme::cert_dir(config),
        self_signed_dir: config.data_dir.join("tls"),
        hostname: config.hostname.clone(),
    })?;
    tracing::info!("TLS: {}", certs.summary());
    let acme_challenges = mailroom_net::acme::Challenges::default();
    let acme = crate::commands::acme::client(config, acme_challenges.clone())?;
    let tls = certs.acceptor()?;
    let web_tls = certs.acceptor_with_alpn(&[b"h2", b"http/1.1"])?;
    // Registered before the listeners start, so a SIGHUP from then on reloads (and never
    // kills, SIGHUP's default) the server.
    let _reloader = reload_certificates_on_sighup(certs.clone())?;
    if demo {
        ensure_demo_account(&store).await?;
    }
    store.start_search_indexer()?;
    let _watcher = store.watch_external_changes(EXTERNAL_CHANGE_POLL).await?;
    let _purger = tokio::spawn(purge_recovery_area(store.clone(), config.storage.clone()));
    let _warnings = tokio::spawn(deliver_quota_warnings(store.clone()));
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let _trimmer = tokio::spawn(return_freed_memory());
    let _backups = nightly_at(&config.backup.time)?.map(|at| {
        tokio::spawn(nightly_backups(
            store.clone(),
            config.backup_dir(),
            config.backup.keep,
            at,
        ))
    });
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let secret = server_secret(&config.data_dir).context("the server secret")?;
    let auth = Authenticator::new(shared.clone())
        .with_throttle(
            config.auth.throttle()?,
            Arc::new(mailroom_store::SystemClock),
        )
        .with_secret(&secret);
    // Lockouts from before this start stay in force.
    let restored = auth
        .restore_lockouts(store.now())
        .await
        .context("reading the saved login lockouts")?;
    if restored > 0 {
        tracing::info!(
            lockouts = restored,
            "login lockouts from before the restart still hold"
        );
    }
    let (stop, stopped) = watch::channel(false);
    let mut open = Vec::new();
    open.extend(start_imap(config, shared.clone(), auth.clone(), tls.clone(), &stopped).await?);
    open.extend(start_pop3(config, shared.clone(), auth.clone(), tls.clone(), &stopped).await?);
    let queue_wakeup = start_outbound_queue(config, shared.clone(), &stopped)?;
    open.extend(
        start_smtp(
            config,
            shared.clone(),
            auth.clone(),
            tls.clone(),
            queue_wakeup,
            &stopped,
        )
        .await?,
    );
    open.extend(
        start_http(
            config,
            &store,
            auth.clone(),
            web_tls,
            secret.clone(),
            acme.is_some().then_some(acme_challenges),
            &open,
            &stopped,
        )
        .await?,
    );
    // A config file without listener sections would otherwise give a server that says
    // "running" and can't be reached.
    anyhow::ensure!(
        !open.is_empty(),
        "the configuration opens no listeners: add e.g. [imap] listen = [\"0.0.0.0:143\"] \
         (every section is in mailroom.example.toml)"
    );
    // Only now: the CA checks the names on the [http] listener opened just above.
    let _acme = acme.map(|client| {
        tokio::spawn(crate::commands::acme::keep_certificates(
            client,
            shared.clone(),
            certs.clone(),
            config.hostname.clone(),
        ))
    });
    tracing::info!(
        data_dir = %config.data_dir.display(),
        "mailroom is running: {}",
        open.join(", ")
    );
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    Ok(ExitCode::SUCCESS)
}

type StopSignal = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Resolves when the server is told to stop.
fn stop_signal(stopped: &watch::Receiver<bool>) -> StopSignal {
    let mut stopped = stopped.clone();
    Box::pin(async move {
        let _ = stopped.wait_for(|&stop| stop).await;
    })
}

async fn start_imap(
    config: &Config,
    store: Arc<dyn Store>,
    auth: Authenticator,
    tls: TlsAcceptor,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<String>> {
    let imap = Arc::new(ImapServer::new(
        store,
        auth,
        Some(tls),
        ImapConfig {
            hostname: config.hostname.clone(),
            allow_plaintext_auth: config.auth.allow_plaintext,
            max_literal: config.storage.max_message_size.as_u64(),
            max_connections_per_user: config.imap.max_connections_per_user,
            max_connections: config.imap.max_connections,
            max_connections_per_ip: config.limits.connections_per_ip,
            max_connections_per_user_ip: config.limits.connections_per_user_ip,
            commands: config.limits.commands(),
            max_bad_commands: config.limits.bad_commands,
            auth_timeout: config.limits.auth_timeout(),
            write_timeout: config.limits.write_timeout(),
            recently_deleted: config.imap.recently_deleted.clone(),
            ..ImapConfig::default()
        },
    ));
    let listeners = &config.imap;
    listen(
        "imap",
        &listeners.listen,
        &listeners.listen_tls,
        stopped,
        move |listener, tls, stop| {
            let imap = imap.clone();
            async move { imap.serve(listener, tls, stop).await }
        },
    )
    .await
}

async fn start_pop3(
    config: &Config,
    store: Arc<dyn Store>,
    auth: Authenticator,
    tls: TlsAcceptor,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<String>> {
    let section = &config.pop3;
    let default_policy: Pop3Policy = section.policy.parse().context("[pop3] policy")?;
    let pop3 = Pop3Server::new(
        store,
        auth,
        Some(tls),
        Pop3Config {
            hostname: config.hostname.clone(),
            allow_plaintext_auth: config.auth.allow_plaintext,
            default_policy,
            max_bad_commands: config.limits.bad_commands,
            auth_timeout: config.limits.auth_timeout(),
            write_timeout: config.limits.write_timeout(),
            max_connections: config.limits.connections_total,
            max_connections_per_ip: config.limits.connections_per_ip,
            max_connections_per_user_ip: config.limits.connections_per_user_ip,
            commands: config.limits.commands(),
            ..Pop3Config::default()
        },
    );
    listen(
        "pop3",
        &section.listen,
        &section.listen_tls,
        stopped,
        move |listener, tls, stop| {
            let pop3 = pop3.clone();
            async move { pop3.serve(listener, tls, stop).await }
        },
    )
    .await
}

/// The outbound queue runner: delivers what submission queued (and bounces), woken at once by
/// every enqueue and every `QUEUE_POLL` otherwise. Returns the wake-up for the SMTP servers.
fn start_outbound_queue(
    config: &Config,
    store: Arc<dyn Store>,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Arc<Notify>> {
    let runner = QueueRunner::new(
        store,
        Arc::new(mailroom_store::SystemClock),
        queue::runner_config(config),
    )
    .context("[outbound] relay")?;
    let wakeup = runner.notifier();
    tokio::spawn(runner.run(stop_signal(stopped)));
    Ok(wakeup)
}

/// SMTP in all three roles: the MX on [smtp] (STARTTLS; implicit TLS on listen_tls), LMTP on
/// [lmtp] for an MTA in front, and submission on [submission] (587 STARTTLS, 465 implicit TLS)
/// for users sending mail with AUTH.
async fn start_smtp(
    config: &Config,
    store: Arc<dyn Store>,
    auth: Authenticator,
    tls: TlsAcceptor,
    queue_wakeup: Arc<Notify>,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<String>> {
    let settings = SmtpConfig {
        hostname: config.hostname.clone(),
        max_message_size: config.storage.max_message_size.as_u64(),
        max_connections: config.limits.connections_total,
        max_connections_per_ip: config.limits.connections_per_ip,
        max_connections_per_user_ip: config.limits.connections_per_user_ip,
        allow_plaintext_auth: config.auth.allow_plaintext,
        verify_loopback: false,
        commands: config.limits.commands(),
        max_errors: config.limits.bad_commands.max(1),
        max_recipient_errors: config.limits.refused_recipients,
        timeouts: mailroom_smtp::Timeouts {
            write: config.limits.write_timeout(),
            ..mailroom_smtp::Timeouts::default()
        },
        bare_line_ends: match config.smtp.bare_line_ends {
            crate::config::BareLineEnds::Normalize => mailroom_smtp::proto::BareLineEnds::Normalize,
            crate::config::BareLineEnds::Reject => mailroom_smtp::proto::BareLineEnds::Reject,
        },
        ..SmtpConfig::default()
    };
    // The MX checks SPF, DKIM and DMARC with the system's resolver; without one it still
    // accepts mail, unchecked.
    let dns = match Dns::system() {
        Ok(dns) => Some(Arc::new(dns)),
        Err(e) => {
            tracing::warn!("no DNS resolver, inbound SPF/DKIM/DMARC checks are off: {e}");
            None
        }
    };
    let mx = config.smtp.listeners();
    let mut open = Vec::new();
    for (protocol, mode, listeners) in [
        ("smtp", Mode::Mx, &mx),
        ("lmtp", Mode::Lmtp, &config.lmtp),
        ("submission", Mode::Submission, &config.submission),
    ] {
        if listeners.is_empty() {
            continue;
        }
        let mut settings = settings.clone();
        if mode == Mode::Lmtp {
            // Every LMTP connection comes from the MTA in front: one address, and as many
            // commands as it has messages to hand over.
            settings.max_connections_per_ip = 0;
            settings.commands.per_second = 0;
        }
        let mut server = SmtpServer::new(store.clone(), Some(tls.clone()), settings, mode)
            .with_authenticator(auth.clone())
            .with_queue_wakeup(queue_wakeup.clone());
        if let (Mode::Mx, Some(dns)) = (mode, &dns) {
            server = server.with_dns(dns.clone());
        }
        let server = Arc::new(server);
        open.extend(
            listen(
                protocol,
                &listeners.listen,
                &listeners.listen_tls,
                stopped,
                move |listener, tls, stop| {
                    let server = server.clone();
                    async move { server.serve(listener, tls, stop).await }
                },
            )
            .await?,
        );
    }
    Ok(open)
}

/// Binds a protocol's plain and implicit-TLS addresses and runs `serve` on each until the
/// server stops. A port that can't be bound fails the start, with the address in the error.
/// Returns what is really open ("imap 127.0.0.1:1143", "imap+tls 127.0.0.1:1993"), with the
/// ports the system chose for port 0.
async fn listen<F, Fut>(
    protocol: &'static str,
    plain: &[String],
    implicit_tls: &[String],
    stopped: &watch::Receiver<bool>,
    serve: F,
) -> anyhow::Result<Vec<String>>
where
    F: Fn(tokio::net::TcpListener, bool, StopSignal) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut open = Vec::new();
    for (addrs, tls) in [(plain, false), (implicit_tls, true)] {
        for listener in bind_all(addrs).await? {
            let addr = listener.local_addr()?;
            tracing::info!(%addr, tls, "{protocol} listening");
            open.push(format!(
                "{protocol}{} {addr}",
                if tls { "+tls" } else { "" }
            ));
            tokio::spawn(serve(listener, tls, stop_signal(stopped)));
        }
    }
    Ok(open)
}

/// The web side on `[http]`: autoconfig, the admin API, the web pages, metrics. What it tells
/// mail programs comes from the mail listeners opened just before (`opened`, with the ports
/// the system chose), on the configured hostname.
#[allow(clippy::too_many_arguments)]
async fn start_http(
    config: &Config,
    store: &SqliteStore,
    auth: Authenticator,
    tls: mailroom_net::TlsAcceptor,
    secret: Vec<u8>,
    acme: Option<mailroom_net::acme::Challenges>,
    opened: &[String],
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<Vec<String>> {
    let section: Listeners = config.http.listeners();
    if section.is_empty() && config.http.metrics_listen.is_empty() {
        return Ok(Vec::new());
    }
    let mut endpoints = config.client_endpoints();
    // Port 0 in the config: tell clients the port really bound.
    let opened_in = |protocol: &str, tls: bool| -> Vec<String> {
        let prefix = if tls {
            format!("{protocol}+tls ")
        } else {
            format!("{protocol} ")
        };
        opened
            .iter()
            .filter_map(|o| o.strip_prefix(&prefix).map(str::to_string))
            .collect()
    };
    let listed = |protocol: &str| {
        mailroom_admin::endpoints(&opened_in(protocol, false), &opened_in(protocol, true))
    };
    endpoints.imap = listed("imap");
    endpoints.pop3 = listed("pop3");
    endpoints.submission = listed("submission");
    let default_policy: Pop3Policy = config.pop3.policy.parse().context("[pop3] policy")?;
    let http_config = mailroom_http::HttpConfig {
        endpoints,
        secret,
        max_connections: config.limits.connections_total,
        max_connections_per_ip: config.limits.connections_per_ip,
        data_dir: Some(config.data_dir.clone()),
        pop3_default: default_policy,
        acme,
        ..mailroom_http::HttpConfig::default()
    };
    let backups = Arc::new(crate::commands::web::StoreBackups {
        store: store.clone(),
        root: config.backup_dir(),
        keep: config.backup.keep,
    });
    let admin = mailroom_admin::Admin::new(Arc::new(store.clone()));
    let server = mailroom_http::HttpServer::new(admin, auth, Some(tls), http_config, Some(backups));
    let metrics = server.metrics_only();
    let mut open = listen(
        "http",
        &section.listen,
        &section.listen_tls,
        stopped,
        move |listener, tls, stop| {
            let server = server.clone();
            async move { server.serve(listener, tls, stop).await }
        },
    )
    .await?;
    open.extend(
        listen(
            "metrics",
            &config.http.metrics_listen,
            &[],
            stopped,
            move |listener, _, stop| {
                let metrics = metrics.clone();
                async move { metrics.serve(listener, false, stop).await }
            },
        )
        .await?,
    );
    Ok(open)
}

/// 32 random bytes kept in `data_dir/server-secret` (created at first start, mode 0600): the
/// authenticator derives SCRAM's stand-in salts for unknown names from it, so they stay the
/// same across restarts like real salts do.
fn server_secret(data_dir: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::io::{Read, Write};
    let path = data_dir.join("server-secret");
    match std::fs::read(&path) {
        Ok(secret) if secret.len() >= 32 => return Ok(secret),
        Ok(_) => anyhow::bail!(
            "{} is too short; remove it to make a new one",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    }
    let mut secret = vec![0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut secret)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(&secret)?;
    file.sync_all()?;
    Ok(secret)
}

async fn ensure_demo_account(store: &SqliteStore) -> anyhow::Result<()> {
    if store.account_by_address(DEMO_ADDRESS).await?.is_some() {
        return Ok(());
    }
    if !store
        .list_domains()
        .await?
        .iter()
        .any(|d| d.name == "example.test")
    {
        store.add_domain("example.test").await?;
    }
    let mut new = NewAccount::new(DEMO_ADDRESS, hash_password(DEMO_PASSWORD)?);
    new.scram_sha256 = Some(mailroom_auth::scram_credentials(DEMO_PASSWORD)?);
    store
        .create_account(new)
        .await
        .context("creating the demo account")?;
    tracing::info!("demo account created: {DEMO_ADDRESS} / password \"{DEMO_PASSWORD}\"");
    Ok(())
}

/// glibc's allocator keeps what a burst of sessions freed inside its heaps: after 1,000
/// stalled FETCHes had all closed, the server still held 1.3 of its 2.6 GiB peak. Asking it
/// to hand free pages back every few seconds brings the process down to what it really uses;
/// one pass over the free lists takes well under a millisecond on an idle heap.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
async fn return_freed_memory() {
    const EVERY: Duration = Duration::from_secs(10);
    let mut ticker = tokio::time::interval(EVERY);
    loop {
        ticker.tick().await;
        let _ = tokio::task::spawn_blocking(|| {
            // SAFETY: malloc_trim only walks and releases the allocator's own free memory.
            unsafe { libc::malloc_trim(0) }
        })
        .await;
    }
}

/// Hourly: empties Trash and Junk of what sat there too long (into the recovery area), then
/// removes recovery-area entries older than the retention and the blobs nothing references.
async fn purge_recovery_area(store: SqliteStore, storage: crate::config::StorageConfig) {
    let mut ticker = tokio::time::interval(PURGE_EVERY);
    loop {
        ticker.tick().await;
        let now = store.now();
        for (special_use, days) in [
            (SpecialUse::Trash, storage.trash_days),
            (SpecialUse::Junk, storage.junk_days),
        ] {
            if days == 0 {
                continue;
            }
            match store
                .expire_special_use(special_use, now - i64::from(days) * 86_400)
                .await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    messages = n,
                    folder = special_use.attribute(),
                    "old messages removed"
                ),
                Err(e) => tracing::error!("emptying {} failed: {e}", special_use.attribute()),
            }
        }
        let cutoff = now - i64::from(storage.recovery_days) * 86_400;
        match store.purge_recovery(cutoff).await {
            Ok(r) if r.messages + r.blobs > 0 => {
                tracing::info!(
                    messages = r.messages,
                    blobs = r.blobs,
                    bytes = r.bytes,
                    "recovery area purged"
                )
            }
            Ok(_) => {}
            Err(e) => tracing::error!("purging the recovery area failed: {e}"),
        }
    }
}

/// How often queued quota warnings are looked for.
const QUOTA_WARNING_POLL: Duration = Duration::from_secs(5);

/// Delivers the quota warnings the store queued (crossing 80 % and 95 %) into each account's
/// INBOX, from the postmaster of its domain.
async fn deliver_quota_warnings(store: SqliteStore) {
    let mut ticker = tokio::time::interval(QUOTA_WARNING_POLL);
    loop {
        ticker.tick().await;
        let pending = match store.pending_quota_warnings().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!("reading quota warnings failed: {e}");
                continue;
            }
        };
        for warning in pending {
            let delivered = match quota_warning_message(&warning) {
                Ok(content) => {
                    let delivery = mailroom_store::Delivery {
                        recipients: vec![warning.account],
                        content: content.into(),
                    };
                    store
                        .deliver(delivery)
                        .await
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            };
            match delivered {
                Ok(()) => {
                    tracing::info!(user = %warning.address, level = warning.level, "quota warning delivered")
                }
                // A mailbox too full even for the warning: drop it rather than retry forever.
                Err(e) => {
                    tracing::warn!(user = %warning.address, "quota warning not delivered: {e}")
                }
            }
            if let Err(e) = store.quota_warning_sent(warning.id).await {
                tracing::error!("marking a quota warning sent failed: {e}");
            }
        }
    }
}

fn quota_warning_message(w: &mailroom_store::QuotaWarning) -> std::io::Result<Vec<u8>> {
    let domain = w.address.rsplit('@').next().unwrap_or("localhost");
    let usage = match (w.quota_bytes, w.quota_messages) {
        (Some(q), _) if w.used_bytes.saturating_mul(100) / q.max(1) >= u64::from(w.level) => {
            format!(
                "{} of {}",
                crate::commands::human(w.used_bytes),
                crate::commands::human(q)
            )
        }
        (_, Some(q)) => format!("{} of {} messages", w.used_messages, q),
        (Some(q), None) => format!(
            "{} of {}",
            crate::commands::human(w.used_bytes),
            crate::commands::human(q)
        ),
        (None, None) => "over the limit".to_string(),
    };
    let text = format!(
        "Your mailbox {address} is {level}% full: {usage} used.\r\n\r\n\
         When it is full, new mail can't be delivered to you and senders get it back later.\r\n\
         Delete mail you no longer need (and empty the Trash), or ask your administrator for more\r\n\
         space.\r\n",
        address = w.address,
        level = w.level
    );
    let postmaster = format!("postmaster@{domain}");
    mail_builder::MessageBuilder::new()
        .from(("Mail Administrator", postmaster.as_str()))
        .to(w.address.as_str())
        .subject(format!("Your mailbox is {}% full", w.level))
        .text_body(text)
        .write_to_vec()
}

/// Held while the server runs, so a whole-store restore can't pull the store from under it
/// and two servers can't share one data_dir.
pub fn lock_data_dir(data_dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.join("server.lock"))?;
    file.try_lock()
        .map_err(|e| anyhow::anyhow!("{} is locked: {e}", data_dir.display()))?;
    Ok(file)
}

/// "HH:MM" → minutes after midnight, "off" → None.
fn nightly_at(text: &str) -> anyhow::Result<Option<u32>> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let parsed = text
        .split_once(':')
        .and_then(|(h, m)| Some((h.parse::<u32>().ok()?, m.parse::<u32>().ok()?)))
        .filter(|&(h, m)| h < 24 && m < 60);
    match parsed {
        Some((h, m)) => Ok(Some(h * 60 + m)),
        None => anyhow::bail!("[backup] time must be \"HH:MM\" or \"off\", not {text:?}"),
    }
}

/// Takes a backup every day at `minute` past local midnight.
async fn nightly_backups(store: SqliteStore, root: std::path::PathBuf, keep: usize, minute: u32) {
    loop {
        tokio::time::sleep(until_next(minute)).await;
        match crate::commands::backup::take_backup(&store, &root, keep, false).await {
            Ok(m) => {
                tracing::info!(id = %m.id, messages = m.messages, new_blobs = m.new_blobs, "nightly backup taken")
            }
            Err(e) => tracing::error!("nightly backup failed: {e:#}"),
        }
    }
}

fn until_next(minute: u32) -> Duration {
    let offset = crate::LOCAL_OFFSET
        .get()
        .copied()
        .unwrap_or(time::UtcOffset::UTC);
    let now = time::OffsetDateTime::now_utc().to_offset(offset);
    let now_secs =
        i64::from(now.hour()) * 3600 + i64::from(now.minute()) * 60 + i64::from(now.second());
    let target = i64::from(minute) * 60;
    let wait = (target - now_secs).rem_euclid(86_400);
    Duration::from_secs(if wait == 0 { 86_400 } else { wait as u64 })
}

/// SIGHUP re-reads every certificate (after a renewal); a broken file keeps the old ones.
#[cfg(unix)]
fn reload_certificates_on_sighup(
    certs: Arc<CertStore>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    Ok(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match certs.reload() {
                Ok(summary) => tracing::info!("TLS certificates reloaded: {summary}"),
                Err(e) => {
                    tracing::error!("TLS certificates not reloaded, the old ones stay: {e}")
                }
            }
        }
    }))
}

#[cfg(not(unix))]
fn reload_certificates_on_sighup(
    _certs: Arc<CertStore>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    Ok(tokio::spawn(async {}))
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
