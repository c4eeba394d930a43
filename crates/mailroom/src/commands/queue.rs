//! `mailroom queue`: what waits to go to other servers, and an administrator's two levers on it.

use crate::cli::QueueCommand;
use crate::commands::{Naming, human};
use crate::config::Config;
use mailroom_outbound::{OutboundConfig, QueueRunner};
use mailroom_store::{
    Clock, OutboundQueue, QueueId, QueuedMessage, RecipientStatus, Store, SystemClock,
};
use mailroom_store_sqlite::SqliteStore;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// How often the server's queue runner looks for due mail when nothing wakes it (another node
/// or `mailroom queue retry` may have made some due).
const QUEUE_POLL: Duration = Duration::from_secs(15);

/// The queue runner's settings from `[outbound]`.
pub fn runner_config(config: &Config) -> OutboundConfig {
    let mut out = OutboundConfig::new(config.hostname.clone());
    out.relay = config.outbound.relay.clone();
    out.max_age = Duration::from_secs(u64::from(config.outbound.max_days) * 86_400);
    out.tls = config.outbound.starttls;
    out.interval = QUEUE_POLL;
    out.max_messages = config.outbound.concurrent_messages.max(1);
    out.max_per_destination = config.outbound.connections_per_destination.max(1);
    out
}

pub async fn run(
    store: SqliteStore,
    cmd: QueueCommand,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    match cmd {
        QueueCommand::List => {
            let queued = store.queued_messages().await?;
            if queued.is_empty() {
                say!("The queue is empty.");
            }
            for message in &queued {
                print_message(message)?;
            }
        }
        QueueCommand::Retry { id } => {
            let touched = store.retry_now(id.map(QueueId), SystemClock.now()).await?;
            if let (Some(id), 0) = (id, touched) {
                anyhow::bail!("no queued message {id} (`mailroom queue list` shows them)");
            }
            say!("{touched} message(s) due now; trying them");
            // One pass from here so the administrator sees the outcome; a running server
            // would also pick them up, and the per-message lease keeps the two apart.
            let store: Arc<dyn Store> = Arc::new(store);
            let mut settings = runner_config(config);
            // Its own lease holder name: the server's runner must not take this pass's
            // leases for its own.
            settings.node_id = format!("{}/cli-{}", config.hostname, std::process::id());
            let runner = QueueRunner::new(store, Arc::new(SystemClock), settings)?;
            let report = runner.run_once().await?;
            say!(
                "delivered {}, deferred {}, failed {} (bounces sent: {}), success reports sent: {}, held by another node: {}",
                report.delivered,
                report.deferred,
                report.failed,
                report.bounces,
                report.reports,
                report.locked
            );
        }
        QueueCommand::Remove { id } => {
            store
                .remove_queued(QueueId(id))
                .await
                .naming(|| format!("queued message {id} (`mailroom queue list` shows them)"))?;
            say!("removed message {id} from the queue (no bounce is sent)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_message(m: &QueuedMessage) -> Result<(), super::OutputError> {
    let sender = if m.sender.is_empty() { "<>" } else { &m.sender };
    say!(
        "{}  {}  {}  from {sender}",
        m.id,
        when(m.created_at),
        human(m.size)
    );
    for r in &m.recipients {
        let state = match r.status {
            RecipientStatus::Pending => format!("pending, next try {}", when(r.next_attempt_at)),
            other => other.as_str().to_string(),
        };
        say!(
            "    {}  {state}, {} attempt(s){}",
            r.address,
            r.attempts,
            r.last_response
                .as_deref()
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn when(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_else(|| unix.to_string())
}
