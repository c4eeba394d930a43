//! `/metrics` in the Prometheus text format (version 0.0.4): the protocols' counters from
//! `mailroom_net::stats`, and what the store holds, read at scrape time. Served to loopback,
//! trusted proxies and administrators' tokens only: the counts are nobody else's business.

use crate::routes::Shared;
use crate::state::{AppState, Client};
use axum::Extension;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write;

pub(crate) async fn metrics(
    axum::extract::State(state): Shared,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
) -> Response {
    let allowed = client.ip.to_canonical().is_loopback()
        || state.auth.is_trusted(client.ip)
        || crate::api::admin_token(&state, &headers).await.is_some();
    if !allowed {
        return (StatusCode::FORBIDDEN, "metrics are for the operator\n").into_response();
    }
    answer(&state).await
}

/// On `[http] metrics_listen` the listener itself is the access control: anyone who reaches
/// it (a Prometheus on the internal network) is answered.
pub(crate) async fn metrics_open(axum::extract::State(state): Shared) -> Response {
    answer(&state).await
}

async fn answer(state: &AppState) -> Response {
    match render(state).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!("metrics: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

/// One metric family: its HELP and TYPE lines, then `samples` (label text, value).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(String, f64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
}

async fn render(state: &AppState) -> Result<String, mailroom_store::StoreError> {
    let store = state.admin.store();
    let started = std::time::Instant::now();
    let domains = store.list_domains().await?;
    let store_latency = started.elapsed().as_secs_f64();
    let accounts = store.list_accounts().await?;
    let queue = store.queued_messages().await?;
    let now = crate::routes::now();
    let mut out = String::new();
    let stats = mailroom_net::stats::snapshot();
    let per = |f: fn(&mailroom_net::stats::ProtocolStats) -> u64| -> Vec<(String, f64)> {
        stats
            .iter()
            .map(|(p, s)| (format!("{{protocol=\"{p}\"}}"), f(s) as f64))
            .collect()
    };
    family(
        &mut out,
        "mailroom_connections_total",
        "counter",
        "Connections accepted.",
        &per(|s| s.accepted),
    );
    family(
        &mut out,
        "mailroom_connections_refused_total",
        "counter",
        "Connections refused by the connection limits.",
        &per(|s| s.refused),
    );
    family(
        &mut out,
        "mailroom_connections_open",
        "gauge",
        "Connections open now.",
        &per(|s| s.open),
    );
    family(
        &mut out,
        "mailroom_logins_total",
        "counter",
        "Successful logins.",
        &per(|s| s.logins),
    );
    family(
        &mut out,
        "mailroom_login_failures_total",
        "counter",
        "Failed logins.",
        &per(|s| s.login_failures),
    );
    family(
        &mut out,
        "mailroom_deliveries_total",
        "counter",
        "Messages accepted for delivery.",
        &per(|s| s.deliveries),
    );
    let one = |v: f64| vec![(String::new(), v)];
    family(
        &mut out,
        "mailroom_domains",
        "gauge",
        "Domains served.",
        &one(domains.len() as f64),
    );
    family(
        &mut out,
        "mailroom_accounts",
        "gauge",
        "Accounts.",
        &one(accounts.len() as f64),
    );
    let (messages, bytes) = accounts.iter().fold((0u64, 0u64), |(m, b), a| {
        (m + a.used_messages, b + a.used_bytes)
    });
    family(
        &mut out,
        "mailroom_stored_messages",
        "gauge",
        "Messages in mailboxes.",
        &one(messages as f64),
    );
    family(
        &mut out,
        "mailroom_stored_bytes",
        "gauge",
        "Bytes of the messages in mailboxes.",
        &one(bytes as f64),
    );
    family(
        &mut out,
        "mailroom_queue_messages",
        "gauge",
        "Messages waiting in the outbound queue.",
        &one(queue.len() as f64),
    );
    let oldest = queue
        .iter()
        .map(|m| (now - m.created_at).max(0))
        .max()
        .unwrap_or(0);
    family(
        &mut out,
        "mailroom_queue_oldest_age_seconds",
        "gauge",
        "Age of the oldest queued message.",
        &one(oldest as f64),
    );
    family(
        &mut out,
        "mailroom_store_latency_seconds",
        "gauge",
        "Time the store took to answer a small query during this scrape.",
        &one(store_latency),
    );
    if let Some((free, total)) = state.config.data_dir.as_deref().and_then(disk_space) {
        family(
            &mut out,
            "mailroom_disk_free_bytes",
            "gauge",
            "Free space on the store's filesystem.",
            &one(free as f64),
        );
        family(
            &mut out,
            "mailroom_disk_size_bytes",
            "gauge",
            "Size of the store's filesystem.",
            &one(total as f64),
        );
    }
    family(
        &mut out,
        "mailroom_uptime_seconds",
        "gauge",
        "Seconds since the server started.",
        &one(state.started.elapsed().as_secs() as f64),
    );
    Ok(out)
}

/// (free, total) bytes of the filesystem holding `path`.
fn disk_space(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `stat` is written by statvfs before it
    // is read (only on success).
    let stat = unsafe {
        if libc::statvfs(c.as_ptr(), stat.as_mut_ptr()) != 0 {
            return None;
        }
        stat.assume_init()
    };
    let block = stat.f_frsize as u64;
    Some((stat.f_bavail as u64 * block, stat.f_blocks as u64 * block))
}
