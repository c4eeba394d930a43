//! `/account`: a user's own page: usage, password, POP3 policy, app passwords, deleted mail,
//! and setting up mail programs.

use super::{Frame, SessionWithKey, Usage, date, page, signed_in, usage};
use crate::autoconfig;
use crate::routes::Shared;
use crate::state::{AppState, Client};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use mailroom_admin::{AccountSettings, ClientEndpoints, Security};
use mailroom_store::{Account, RecoveryFilter, RecoveryId};
use std::sync::Arc;

/// A form's POST from a signed-in user: the session, with the form's CSRF token checked;
/// otherwise the answer (the sign-in page, or 403 for a stale form).
macro_rules! form_session {
    ($state:expr, $headers:expr, $here:expr, $csrf:expr) => {{
        let s = match signed_in(&$state, &$headers, $here).await {
            Ok(s) => s,
            Err(to_login) => return to_login,
        };
        if let Some(refused) = s.check(&$csrf) {
            return refused;
        }
        s
    }};
}

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/account", get(overview))
        .route("/account/password", post(change_password))
        .route("/account/pop3", post(pop3_policy))
        .route("/account/app-passwords", post(add_app_password))
        .route("/account/app-passwords/delete", post(remove_app_password))
        .route("/account/setup", get(setup))
        .route(
            "/account/mobileconfig",
            get(profile).post(profile_with_password),
        )
        .route("/account/recover", get(recover_page).post(recover))
}

pub(crate) struct AppPasswordRow {
    pub name: String,
    pub created: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    frame: Frame,
    account: Account,
    usage: Usage,
    policy: &'static str,
    default_policy: &'static str,
    app_passwords: Vec<AppPasswordRow>,
    new_secret: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct Flash {
    notice: Option<String>,
}

async fn render_overview(
    state: &AppState,
    s: &SessionWithKey,
    notice: Option<String>,
    error: Option<String>,
    new_secret: Option<String>,
) -> Response {
    let account = match state.admin.account(&s.account.address).await {
        Ok(a) => a,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let app_passwords = state
        .admin
        .app_passwords(&account.address)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|p| AppPasswordRow {
            name: p.name,
            created: date(p.created_at),
        })
        .collect();
    let mut frame = s.frame("My account");
    frame.notice = notice;
    frame.error = error;
    page(&AccountPage {
        frame,
        usage: usage(&account),
        policy: account.pop3_policy.map_or("default", |p| p.as_str()),
        default_policy: policy_words(state.config.pop3_default),
        account,
        app_passwords,
        new_secret,
    })
}

fn policy_words(p: mailroom_store::Pop3Policy) -> &'static str {
    match p {
        mailroom_store::Pop3Policy::LeaveOnServer => "keep a copy",
        mailroom_store::Pop3Policy::DeleteAfterDownload => "delete",
    }
}

/// Notices come back through the redirect after a POST, as fixed words chosen by code (a
/// link can't make the page say anything else).
fn flash_text(code: Option<&str>) -> Option<String> {
    let text = match code? {
        "password" => "Your password was changed.",
        "pop3" => "Saved.",
        "revoked" => "The app password was revoked.",
        "restored" => "The messages were restored.",
        _ => return None,
    };
    Some(text.to_string())
}

async fn overview(
    State(state): Shared,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
) -> Response {
    let s = match signed_in(&state, &headers, "/account").await {
        Ok(s) => s,
        Err(to_login) => return to_login,
    };
    render_overview(&state, &s, flash_text(flash.notice.as_deref()), None, None).await
}

#[derive(serde::Deserialize)]
struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    again: String,
}

async fn change_password(
    State(state): Shared,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let s = form_session!(state, headers, "/account", form.csrf);
    let problem = if form.new != form.again {
        Some("The new passwords differ.".to_string())
    } else if form.new.chars().count() < 8 {
        Some("A password needs at least 8 characters.".to_string())
    } else if let Err(e) = state
        .auth
        .authenticate_web(&s.account.address, &form.current, client.ip)
        .await
    {
        tokio::time::sleep(e.delay()).await;
        Some("The current password is not right.".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        return render_overview(&state, &s, None, Some(problem), None).await;
    }
    match state
        .admin
        .set_password(&s.account.address, Some(&form.new))
        .await
    {
        // The session was sealed with the old password: sign in again with the new one.
        Ok(_) => Redirect::to("/login?next=/account&notice=password").into_response(),
        Err(e) => render_overview(&state, &s, None, Some(e.to_string()), None).await,
    }
}

#[derive(serde::Deserialize)]
struct PolicyForm {
    csrf: String,
    policy: String,
}

async fn pop3_policy(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<PolicyForm>,
) -> Response {
    let s = form_session!(state, headers, "/account", form.csrf);
    let result = match AccountSettings::parse(None, None, None, Some(&form.policy)) {
        Ok(settings) => {
            state
                .admin
                .update_account(&s.account.address, &settings)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Redirect::to("/account?notice=pop3").into_response(),
        Err(e) => render_overview(&state, &s, None, Some(e.to_string()), None).await,
    }
}

#[derive(serde::Deserialize)]
struct NameForm {
    csrf: String,
    name: String,
}

async fn add_app_password(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<NameForm>,
) -> Response {
    let s = form_session!(state, headers, "/account", form.csrf);
    match state
        .admin
        .add_app_password(&s.account.address, &form.name)
        .await
    {
        // Shown on this answer only, never through a redirect (it would sit in a URL).
        Ok(secret) => render_overview(&state, &s, None, None, Some(secret)).await,
        Err(e) => render_overview(&state, &s, None, Some(e.to_string()), None).await,
    }
}

async fn remove_app_password(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<NameForm>,
) -> Response {
    let s = form_session!(state, headers, "/account", form.csrf);
    match state
        .admin
        .remove_app_password(&s.account.address, &form.name)
        .await
    {
        Ok(()) => Redirect::to("/account?notice=revoked").into_response(),
        Err(e) => render_overview(&state, &s, None, Some(e.to_string()), None).await,
    }
}

pub(crate) struct SetupRow {
    pub label: &'static str,
    pub port: u16,
    pub security: &'static str,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    frame: Frame,
    hostname: String,
    address: String,
    rows: Vec<SetupRow>,
    pop3_keeps: bool,
    has_profile: bool,
}

fn rows(ends: &ClientEndpoints) -> Vec<SetupRow> {
    let mut out = Vec::new();
    for (label, list) in [
        ("IMAP (incoming, recommended)", &ends.imap),
        ("POP3 (incoming)", &ends.pop3),
        ("SMTP (outgoing)", &ends.submission),
    ] {
        for e in list {
            out.push(SetupRow {
                label,
                port: e.port,
                security: match e.security {
                    Security::Tls => "SSL/TLS",
                    Security::StartTls => "STARTTLS",
                },
            });
        }
    }
    out
}

async fn setup(State(state): Shared, headers: HeaderMap) -> Response {
    let s = match signed_in(&state, &headers, "/account/setup").await {
        Ok(s) => s,
        Err(to_login) => return to_login,
    };
    let ends = &state.config.endpoints;
    page(&SetupPage {
        frame: s.frame("Set up your email software"),
        hostname: ends.hostname.clone(),
        address: s.account.address.clone(),
        rows: rows(ends),
        pop3_keeps: s.account.pop3_policy.unwrap_or(state.config.pop3_default)
            == mailroom_store::Pop3Policy::LeaveOnServer,
        has_profile: autoconfig::mobileconfig(ends, &s.account.address, None, b"").is_some(),
    })
}

fn profile_response(state: &AppState, address: &str, password: Option<&str>) -> Response {
    let Some(body) = autoconfig::mobileconfig(
        &state.config.endpoints,
        address,
        password,
        &state.config.secret,
    ) else {
        return (
            StatusCode::NOT_FOUND,
            "this server offers no IMAP or POP3 with SMTP to set up",
        )
            .into_response();
    };
    let file = format!(
        "attachment; filename=\"{}.mobileconfig\"",
        address.replace(['"', '\\'], "_")
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-apple-aspen-config"),
    );
    if let Ok(value) = HeaderValue::from_str(&file) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn profile(State(state): Shared, headers: HeaderMap) -> Response {
    match signed_in(&state, &headers, "/account/setup").await {
        Ok(s) => profile_response(&state, &s.account.address, None),
        Err(to_login) => to_login,
    }
}

#[derive(serde::Deserialize)]
struct DeviceForm {
    csrf: String,
    device: String,
}

/// The profile with a new app password in it, named for the device.
async fn profile_with_password(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<DeviceForm>,
) -> Response {
    let s = form_session!(state, headers, "/account/setup", form.csrf);
    let name = format!(
        "{} profile {}",
        form.device.trim(),
        date(crate::routes::now())
    );
    match state
        .admin
        .add_app_password(&s.account.address, &name)
        .await
    {
        Ok(secret) => profile_response(&state, &s.account.address, Some(&secret)),
        Err(e) => (StatusCode::CONFLICT, e.to_string()).into_response(),
    }
}

pub(crate) struct RecoverRow {
    pub id: i64,
    pub deleted: String,
    pub folder: String,
    pub from: String,
    pub subject: String,
    pub size: String,
}

#[derive(Template)]
#[template(path = "recover.html")]
pub(crate) struct RecoverPage {
    pub frame: Frame,
    pub address: String,
    pub action: String,
    pub folder: String,
    pub since: String,
    pub messages: Vec<RecoverRow>,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct RecoverQuery {
    pub folder: Option<String>,
    pub since: Option<String>,
    pub notice: Option<String>,
}

/// The recovery list of `address`, for the user's page and the admin's alike.
pub(crate) async fn recover_list(
    state: &AppState,
    mut frame: Frame,
    address: &str,
    action: String,
    q: &RecoverQuery,
) -> Response {
    let since = q.since.clone().unwrap_or_default();
    let folder = q.folder.clone().unwrap_or_default();
    let deleted_since = if since.is_empty() {
        None
    } else {
        match mailroom_admin::parse_date(&since) {
            Ok(t) => Some(t),
            Err(e) => {
                frame.error = Some(e.to_string());
                None
            }
        }
    };
    let filter = RecoveryFilter {
        deleted_since,
        mailbox_name: (!folder.is_empty()).then(|| folder.clone()),
    };
    let human = |b: u64| bytesize::ByteSize::b(b).display().iec().to_string();
    let messages = match state.admin.recoverable(address, filter).await {
        Ok(list) => list
            .iter()
            .map(|m| RecoverRow {
                id: m.id.0,
                deleted: date(m.deleted_at),
                folder: m.mailbox_name.clone(),
                from: m.from.clone().unwrap_or_default(),
                subject: m.subject.clone().unwrap_or_else(|| "(no subject)".into()),
                size: human(m.size),
            })
            .collect(),
        Err(e) => {
            frame.error = Some(e.to_string());
            Vec::new()
        }
    };
    if frame.notice.is_none() {
        frame.notice = flash_text(q.notice.as_deref());
    }
    page(&RecoverPage {
        frame,
        address: address.to_string(),
        action,
        folder,
        since,
        messages,
    })
}

/// Restores the ids a recovery form selected (`id=…&id=…`) and says how many came back.
pub(crate) async fn restore_selected(
    state: &AppState,
    s: &SessionWithKey,
    address: &str,
    form: &[(String, String)],
    back: &str,
) -> Response {
    let token = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    if let Some(refused) = s.check(token) {
        return refused;
    }
    let ids: Vec<RecoveryId> = form
        .iter()
        .filter(|(k, _)| k == "id")
        .filter_map(|(_, v)| v.parse().ok().map(RecoveryId))
        .collect();
    match state.admin.restore(address, &ids).await {
        Ok(_) => Redirect::to(&format!("{back}?notice=restored")).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

async fn recover_page(
    State(state): Shared,
    headers: HeaderMap,
    Query(q): Query<RecoverQuery>,
) -> Response {
    let s = match signed_in(&state, &headers, "/account/recover").await {
        Ok(s) => s,
        Err(to_login) => return to_login,
    };
    let frame = s.frame("Recover deleted mail");
    recover_list(
        &state,
        frame,
        &s.account.address,
        "/account/recover".into(),
        &q,
    )
    .await
}

async fn recover(
    State(state): Shared,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let s = match signed_in(&state, &headers, "/account/recover").await {
        Ok(s) => s,
        Err(to_login) => return to_login,
    };
    let address = s.account.address.clone();
    restore_selected(&state, &s, &address, &form, "/account/recover").await
}
