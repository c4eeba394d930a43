//! `/admin`: the web admin, for accounts marked administrator (`mailroom account set
//! ADDRESS --admin`). The same operations as the CLI and the API.

use super::account::{RecoverQuery, recover_list, restore_selected};
use super::{Frame, SessionWithKey, Usage, date, page, signed_in_admin, urlencode, usage};
use crate::routes::Shared;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use mailroom_admin::{AccountSettings, parse_size_limit};
use mailroom_store::{Account, QueueId};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/domains", get(domains).post(add_domain))
        .route("/admin/domains/remove", post(remove_domain))
        .route("/admin/accounts", get(accounts).post(add_account))
        .route("/admin/accounts/{address}", get(account))
        .route("/admin/accounts/{address}/password", post(reset_password))
        .route("/admin/accounts/{address}/quota", post(set_quota))
        .route("/admin/accounts/{address}/state", post(set_state))
        .route(
            "/admin/accounts/{address}/recover",
            get(recover_page).post(recover),
        )
        .route("/admin/backups", get(backups).post(backup_action))
        .route("/admin/queue", get(queue).post(queue_action))
}

fn human(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

macro_rules! admin_session {
    ($state:expr, $headers:expr, $here:expr) => {
        match signed_in_admin(&$state, &$headers, $here).await {
            Ok(s) => s,
            Err(refused) => return refused,
        }
    };
    // A form's POST: also its CSRF token.
    ($state:expr, $headers:expr, $here:expr, $csrf:expr) => {{
        let s = admin_session!($state, $headers, $here);
        if let Some(refused) = s.check(&$csrf) {
            return refused;
        }
        s
    }};
}

#[derive(Template)]
#[template(path = "admin_home.html")]
struct HomePage {
    frame: Frame,
    hostname: String,
    version: &'static str,
    uptime: String,
    domains: usize,
    accounts: usize,
    messages: u64,
    stored: String,
    queue: usize,
}

async fn home(State(state): Shared, headers: HeaderMap) -> Response {
    let s = admin_session!(state, headers, "/admin");
    let accounts = state.admin.accounts().await.unwrap_or_default();
    let domains = state.admin.domains().await.map(|d| d.len()).unwrap_or(0);
    let queue = state
        .admin
        .store()
        .queued_messages()
        .await
        .map(|q| q.len())
        .unwrap_or(0);
    let up = state.started.elapsed().as_secs();
    page(&HomePage {
        frame: s.frame("Administration"),
        hostname: state.config.endpoints.hostname.clone(),
        version: state.config.version,
        uptime: format!("{}d {}h {}m", up / 86_400, up / 3600 % 24, up / 60 % 60),
        domains,
        messages: accounts.iter().map(|a| a.used_messages).sum(),
        stored: human(accounts.iter().map(|a| a.used_bytes).sum()),
        accounts: accounts.len(),
        queue,
    })
}

struct DomainRow {
    name: String,
    accounts: usize,
    quota: Option<String>,
    records: Vec<String>,
}

#[derive(Template)]
#[template(path = "admin_domains.html")]
struct DomainsPage {
    frame: Frame,
    domains: Vec<DomainRow>,
}

async fn render_domains(
    state: &AppState,
    s: &SessionWithKey,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let accounts = state.admin.accounts().await.unwrap_or_default();
    let mut rows = Vec::new();
    for d in state.admin.domains().await.unwrap_or_default() {
        rows.push(DomainRow {
            accounts: accounts.iter().filter(|a| a.domain == d.id).count(),
            quota: d.default_quota_bytes.map(human),
            records: state
                .admin
                .dns_records(&d, &state.config.endpoints)
                .iter()
                .map(ToString::to_string)
                .collect(),
            name: d.name,
        });
    }
    let mut frame = s.frame("Domains");
    frame.notice = notice;
    frame.error = error;
    page(&DomainsPage {
        frame,
        domains: rows,
    })
}

async fn domains(State(state): Shared, headers: HeaderMap) -> Response {
    let s = admin_session!(state, headers, "/admin/domains");
    render_domains(&state, &s, None, None).await
}

#[derive(serde::Deserialize)]
struct NameForm {
    csrf: String,
    name: String,
}

async fn add_domain(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<NameForm>,
) -> Response {
    let s = admin_session!(state, headers, "/admin/domains", form.csrf);
    match state.admin.add_domain(&form.name).await {
        Ok(d) => {
            let notice = format!("Domain {} added: publish its DNS records below.", d.name);
            render_domains(&state, &s, Some(notice), None).await
        }
        Err(e) => render_domains(&state, &s, None, Some(e.to_string())).await,
    }
}

async fn remove_domain(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<NameForm>,
) -> Response {
    let s = admin_session!(state, headers, "/admin/domains", form.csrf);
    match state.admin.remove_domain(&form.name).await {
        Ok(()) => {
            render_domains(
                &state,
                &s,
                Some(format!("Domain {} removed.", form.name)),
                None,
            )
            .await
        }
        Err(e) => render_domains(&state, &s, None, Some(e.to_string())).await,
    }
}

struct AccountRow {
    address: String,
    usage: Usage,
    enabled: bool,
    admin: bool,
}

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    frame: Frame,
    accounts: Vec<AccountRow>,
    new_password: Option<String>,
}

async fn render_accounts(
    state: &AppState,
    s: &SessionWithKey,
    notice: Option<String>,
    error: Option<String>,
    new_password: Option<String>,
) -> Response {
    let accounts = state
        .admin
        .accounts()
        .await
        .unwrap_or_default()
        .iter()
        .map(|a| AccountRow {
            address: a.address.clone(),
            usage: usage(a),
            enabled: a.enabled,
            admin: a.admin,
        })
        .collect();
    let mut frame = s.frame("Accounts");
    frame.notice = notice;
    frame.error = error;
    page(&AccountsPage {
        frame,
        accounts,
        new_password,
    })
}

async fn accounts(State(state): Shared, headers: HeaderMap) -> Response {
    let s = admin_session!(state, headers, "/admin/accounts");
    render_accounts(&state, &s, None, None, None).await
}

#[derive(serde::Deserialize)]
struct NewAccountForm {
    csrf: String,
    address: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    quota: String,
}

async fn add_account(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<NewAccountForm>,
) -> Response {
    let s = admin_session!(state, headers, "/admin/accounts", form.csrf);
    let quota = Some(form.quota.trim()).filter(|q| !q.is_empty());
    let settings = match AccountSettings::parse(quota, None, None, None) {
        Ok(settings) => settings,
        Err(e) => return render_accounts(&state, &s, None, Some(e.to_string()), None).await,
    };
    let password = Some(form.password.as_str()).filter(|p| !p.is_empty());
    match state
        .admin
        .add_account(&form.address, password, &settings)
        .await
    {
        Ok(made) => {
            let notice = format!("Account {} created.", made.account.address);
            render_accounts(&state, &s, Some(notice), None, made.generated_password).await
        }
        Err(e) => render_accounts(&state, &s, None, Some(e.to_string()), None).await,
    }
}

#[derive(Template)]
#[template(path = "admin_account.html")]
struct AccountPage {
    frame: Frame,
    account: Account,
    usage: Usage,
    protocols: String,
    quota: String,
    new_password: Option<String>,
}

async fn render_account(
    state: &AppState,
    s: &SessionWithKey,
    address: &str,
    notice: Option<String>,
    error: Option<String>,
    new_password: Option<String>,
) -> Response {
    let account = match state.admin.account(address).await {
        Ok(a) => a,
        Err(e) => return (StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    let mut frame = s.frame(&account.address);
    frame.notice = notice;
    frame.error = error;
    page(&AccountPage {
        frame,
        usage: usage(&account),
        protocols: account.protocols.to_string(),
        quota: account.quota_bytes.map_or("none".to_string(), human),
        account,
        new_password,
    })
}

async fn account(
    State(state): Shared,
    headers: HeaderMap,
    Path(address): Path<String>,
) -> Response {
    let here = format!("/admin/accounts/{}", urlencode(&address));
    let s = admin_session!(state, headers, &here);
    render_account(&state, &s, &address, None, None, None).await
}

#[derive(serde::Deserialize)]
struct PasswordForm {
    csrf: String,
    #[serde(default)]
    password: String,
}

async fn reset_password(
    State(state): Shared,
    headers: HeaderMap,
    Path(address): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let s = admin_session!(state, headers, "/admin/accounts", form.csrf);
    let password = Some(form.password.as_str()).filter(|p| !p.is_empty());
    match state.admin.set_password(&address, password).await {
        Ok(generated) => {
            render_account(
                &state,
                &s,
                &address,
                Some("Password changed.".into()),
                None,
                generated,
            )
            .await
        }
        Err(e) => render_account(&state, &s, &address, None, Some(e.to_string()), None).await,
    }
}

#[derive(serde::Deserialize)]
struct QuotaForm {
    csrf: String,
    quota: String,
}

async fn set_quota(
    State(state): Shared,
    headers: HeaderMap,
    Path(address): Path<String>,
    Form(form): Form<QuotaForm>,
) -> Response {
    let s = admin_session!(state, headers, "/admin/accounts", form.csrf);
    let result = match parse_size_limit(&form.quota) {
        Ok(quota) => {
            let settings = AccountSettings {
                quota_bytes: Some(quota),
                ..AccountSettings::default()
            };
            state.admin.update_account(&address, &settings).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => render_account(&state, &s, &address, Some("Quota set.".into()), None, None).await,
        Err(e) => render_account(&state, &s, &address, None, Some(e.to_string()), None).await,
    }
}

#[derive(serde::Deserialize)]
struct StateForm {
    csrf: String,
    action: String,
}

async fn set_state(
    State(state): Shared,
    headers: HeaderMap,
    Path(address): Path<String>,
    Form(form): Form<StateForm>,
) -> Response {
    let s = admin_session!(state, headers, "/admin/accounts", form.csrf);
    let mut settings = AccountSettings::default();
    match form.action.as_str() {
        "enable" => settings.enabled = Some(true),
        "disable" => settings.enabled = Some(false),
        "admin" => settings.admin = Some(true),
        // An administrator can't lock everyone out of the admin by removing their own rights.
        "no-admin" if s.account.address.eq_ignore_ascii_case(&address) => {
            return render_account(
                &state,
                &s,
                &address,
                None,
                Some("You can't remove your own administrator rights.".into()),
                None,
            )
            .await;
        }
        "no-admin" => settings.admin = Some(false),
        _ => return (StatusCode::BAD_REQUEST, "unknown action").into_response(),
    }
    match state.admin.update_account(&address, &settings).await {
        Ok(_) => render_account(&state, &s, &address, Some("Saved.".into()), None, None).await,
        Err(e) => render_account(&state, &s, &address, None, Some(e.to_string()), None).await,
    }
}

async fn recover_page(
    State(state): Shared,
    headers: HeaderMap,
    Path(address): Path<String>,
    Query(q): Query<RecoverQuery>,
) -> Response {
    let here = format!("/admin/accounts/{}/recover", urlencode(&address));
    let s = admin_session!(state, headers, &here);
    let frame = s.frame(&format!("Deleted mail of {address}"));
    recover_list(&state, frame, &address, here, &q).await
}

async fn recover(
    State(state): Shared,
    headers: HeaderMap,
    Path(address): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let here = format!("/admin/accounts/{}/recover", urlencode(&address));
    let s = admin_session!(state, headers, &here);
    restore_selected(&state, &s, &address, &form, &here).await
}

struct BackupRow {
    id: String,
    accounts: u64,
    messages: u64,
    size: String,
}

#[derive(Template)]
#[template(path = "admin_backups.html")]
struct BackupsPage {
    frame: Frame,
    backups: Vec<BackupRow>,
    report: Vec<String>,
}

async fn render_backups(state: &AppState, s: &SessionWithKey, report: Vec<String>) -> Response {
    let mut frame = s.frame("Backups");
    let list = match &state.backups {
        Some(b) => b.list().await.unwrap_or_else(|e| {
            frame.error = Some(e);
            Vec::new()
        }),
        None => {
            frame.error = Some("Backups of this store are not reachable from the web side.".into());
            Vec::new()
        }
    };
    page(&BackupsPage {
        frame,
        backups: list
            .into_iter()
            .rev()
            .map(|b| BackupRow {
                id: b.id,
                accounts: b.accounts,
                messages: b.messages,
                size: human(b.bytes),
            })
            .collect(),
        report,
    })
}

async fn backups(State(state): Shared, headers: HeaderMap) -> Response {
    let s = admin_session!(state, headers, "/admin/backups");
    render_backups(&state, &s, Vec::new()).await
}

#[derive(serde::Deserialize)]
struct BackupForm {
    csrf: String,
    action: String,
    id: Option<String>,
}

async fn backup_action(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<BackupForm>,
) -> Response {
    let s = admin_session!(state, headers, "/admin/backups", form.csrf);
    let Some(backups) = state.backups.clone() else {
        return render_backups(&state, &s, Vec::new()).await;
    };
    let report = match (form.action.as_str(), form.id.as_deref()) {
        ("run", _) => match backups.run().await {
            Ok(b) => vec![format!("Backup {} taken: {} messages.", b.id, b.messages)],
            Err(e) => vec![format!("The backup failed: {e}")],
        },
        ("verify", Some(id)) => match backups.verify(id).await {
            Ok(problems) if problems.is_empty() => vec![format!("Backup {id} is sound.")],
            Ok(problems) => std::iter::once(format!("Backup {id} has problems:"))
                .chain(problems)
                .collect(),
            Err(e) => vec![e],
        },
        _ => return (StatusCode::BAD_REQUEST, "unknown action").into_response(),
    };
    render_backups(&state, &s, report).await
}

struct QueueRow {
    id: i64,
    sender: String,
    recipients: Vec<String>,
    queued: String,
}

#[derive(Template)]
#[template(path = "admin_queue.html")]
struct QueuePage {
    frame: Frame,
    messages: Vec<QueueRow>,
}

async fn render_queue(state: &AppState, s: &SessionWithKey, notice: Option<String>) -> Response {
    let mut frame = s.frame("Outbound queue");
    frame.notice = notice;
    let messages = match state.admin.store().queued_messages().await {
        Ok(list) => list
            .iter()
            .map(|m| QueueRow {
                id: m.id.0,
                sender: if m.sender.is_empty() {
                    "<>".into()
                } else {
                    m.sender.clone()
                },
                recipients: m
                    .recipients
                    .iter()
                    .map(|r| {
                        let last = r.last_response.as_deref().unwrap_or("not tried yet");
                        format!(
                            "{} ({:?}, {} tries: {last})",
                            r.address, r.status, r.attempts
                        )
                    })
                    .collect(),
                queued: date(m.created_at),
            })
            .collect(),
        Err(e) => {
            frame.error = Some(e.to_string());
            Vec::new()
        }
    };
    page(&QueuePage { frame, messages })
}

async fn queue(State(state): Shared, headers: HeaderMap) -> Response {
    let s = admin_session!(state, headers, "/admin/queue");
    render_queue(&state, &s, None).await
}

#[derive(serde::Deserialize)]
struct QueueForm {
    csrf: String,
    action: String,
    id: i64,
}

async fn queue_action(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<QueueForm>,
) -> Response {
    let s = admin_session!(state, headers, "/admin/queue", form.csrf);
    let store = state.admin.store();
    let notice = match form.action.as_str() {
        "retry" => match store
            .retry_now(Some(QueueId(form.id)), crate::routes::now())
            .await
        {
            Ok(0) => format!("No queued message {}.", form.id),
            Ok(_) => format!("Message {} is due now.", form.id),
            Err(e) => e.to_string(),
        },
        "remove" => match store.remove_queued(QueueId(form.id)).await {
            Ok(()) => format!("Message {} removed; no bounce is sent.", form.id),
            Err(e) => e.to_string(),
        },
        _ => return (StatusCode::BAD_REQUEST, "unknown action").into_response(),
    };
    render_queue(&state, &s, Some(notice)).await
}
