//! `mailroom serve`: opens the store and TLS, starts the background jobs and the listeners,
//! and runs until SIGINT or SIGTERM.

use crate::commands::open_store;
use crate::config::{Config, Listeners};
use anyhow::Context;
use mailroom_auth::Authenticator;
use mailroom_auth::hash_password;
use mailroom_net::{TlsAcceptor, TlsFiles, bind_all, load_or_create_tls};
use mailroom_pop3::{Pop3Config, Pop3Server};
use mailroom_store::{Directory, NewAccount, Pop3Policy, Recovery, Store};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const DEMO_ADDRESS: &str = "demo@example.test";
const DEMO_PASSWORD: &str = "demo";
/// How often sessions of this server look for changes made by other processes.
const EXTERNAL_CHANGE_POLL: Duration = Duration::from_millis(100);
const PURGE_EVERY: Duration = Duration::from_secs(3600);

pub async fn run(config: &Config, demo: bool) -> anyhow::Result<ExitCode> {
    let store = open_store(config)?;
    let tls_files = match (&config.tls.cert, &config.tls.key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        (None, None) => None,
        _ => anyhow::bail!("[tls] needs both cert and key"),
    };
    let tls = load_or_create_tls(
        tls_files.as_ref(),
        &config.data_dir.join("tls"),
        &config.hostname,
    )?;
    if demo {
        ensure_demo_account(&store).await?;
    }
    store.start_search_indexer()?;
    let _watcher = store.watch_external_changes(EXTERNAL_CHANGE_POLL).await?;
    let _purger = tokio::spawn(purge_recovery_area(
        store.clone(),
        config.storage.recovery_days,
    ));
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    let auth = Authenticator::new(shared.clone());
    let (stop, stopped) = watch::channel(false);
    start_pop3(config, shared.clone(), auth.clone(), tls.clone(), &stopped).await?;
    for (protocol, listeners) in [
        ("imap", &config.imap),
        ("smtp", &config.smtp),
        ("submission", &config.submission),
        ("lmtp", &config.lmtp),
        ("http", &config.http),
    ] {
        announce_unbuilt(protocol, listeners);
    }
    tracing::info!(data_dir = %config.data_dir.display(), "mailroom is running");
    shutdown_signal().await;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    Ok(ExitCode::SUCCESS)
}

/// Resolves when the server is told to stop.
fn stop_signal(stopped: &watch::Receiver<bool>) -> impl std::future::Future<Output = ()> + use<> {
    let mut stopped = stopped.clone();
    async move {
        let _ = stopped.wait_for(|&stop| stop).await;
    }
}

async fn start_pop3(
    config: &Config,
    store: Arc<dyn Store>,
    auth: Authenticator,
    tls: TlsAcceptor,
    stopped: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
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
            auth_failure_delay: Duration::from_millis(config.auth.failure_delay_ms),
            ..Pop3Config::default()
        },
    );
    for (addrs, implicit_tls) in [(&section.listen, false), (&section.listen_tls, true)] {
        for listener in bind_all(addrs).await? {
            let addr = listener.local_addr()?;
            tracing::info!(%addr, tls = implicit_tls, "pop3 listening");
            let (pop3, stop) = (pop3.clone(), stop_signal(stopped));
            tokio::spawn(async move { pop3.serve(listener, implicit_tls, stop).await });
        }
    }
    Ok(())
}

/// Protocols whose server is not part of this build yet: their listeners are accepted in the
/// config (so one config works across versions) and reported, not bound.
fn announce_unbuilt(protocol: &str, listeners: &Listeners) {
    if !listeners.is_empty() {
        tracing::warn!(
            "[{protocol}] is configured but this build has no {protocol} server yet; ignoring it"
        );
    }
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
    let hash = hash_password(DEMO_PASSWORD)?;
    store
        .create_account(NewAccount::new(DEMO_ADDRESS, hash))
        .await
        .context("creating the demo account")?;
    tracing::info!("demo account created: {DEMO_ADDRESS} / password \"{DEMO_PASSWORD}\"");
    Ok(())
}

/// Hourly: removes recovery-area entries older than the retention and the blobs nothing
/// references any more.
async fn purge_recovery_area(store: SqliteStore, days: u32) {
    let mut ticker = tokio::time::interval(PURGE_EVERY);
    loop {
        ticker.tick().await;
        let cutoff = store.now() - i64::from(days) * 86_400;
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
