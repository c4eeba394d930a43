//! The web pages: signing in, the users' self-service (`/account`) and the web admin
//! (`/admin`). Server-rendered HTML forms (askama templates, no script): every action is a
//! POST with the session's CSRF token, answered by a redirect or the page again.

mod account;
mod admin;

use crate::routes::Shared;
use crate::session;
use crate::state::{AppState, Client};
use askama::Template;
use axum::Extension;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mailroom_store::Account;
use std::sync::Arc;

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/account") }))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .merge(account::router())
        .merge(admin::router())
}

/// Who is signed in, as the layout shows it.
pub(crate) struct UserView {
    pub address: String,
    pub admin: bool,
}

/// What every page's layout needs.
pub(crate) struct Frame {
    pub title: String,
    pub user: Option<UserView>,
    pub csrf: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

/// A signed-in request: the account and its CSRF token.
pub(crate) struct Session {
    pub account: Account,
    pub csrf: String,
}

impl Session {
    pub fn frame(&self, title: &str) -> Frame {
        Frame {
            title: title.to_string(),
            user: Some(UserView {
                address: self.account.address.clone(),
                admin: self.account.admin,
            }),
            csrf: self.csrf.clone(),
            notice: None,
            error: None,
        }
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == session::COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The signed-in account, or a redirect to the sign-in page (back to `here` afterwards).
pub(crate) async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
) -> Result<SessionWithKey, Response> {
    let to_login = || Redirect::to(&format!("/login?next={}", urlencode(here))).into_response();
    let Some(cookie) = cookie_value(headers) else {
        return Err(to_login());
    };
    let Some(claim) = session::claim(&cookie) else {
        return Err(to_login());
    };
    let store = state.admin.store();
    let Ok(account) = store
        .account(mailroom_store::AccountId(claim.account))
        .await
    else {
        return Err(to_login());
    };
    if !account.enabled
        || !session::valid(&state.config.secret, &claim, &account, crate::routes::now())
    {
        return Err(to_login());
    }
    let csrf = session::csrf(&state.config.secret, &cookie);
    Ok(SessionWithKey {
        session: Session { account, csrf },
        cookie,
        csrf_key: state.config.secret.clone(),
    })
}

/// A session and what checking its forms needs.
pub(crate) struct SessionWithKey {
    pub session: Session,
    cookie: String,
    csrf_key: Vec<u8>,
}

impl std::ops::Deref for SessionWithKey {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.session
    }
}

impl SessionWithKey {
    /// The refusal of a form whose CSRF token is not this session's (None: it is).
    pub fn check(&self, token: &str) -> Option<Response> {
        if session::csrf_ok(&self.csrf_key, &self.cookie, token) {
            None
        } else {
            Some(
                (
                    StatusCode::FORBIDDEN,
                    "This form has expired; go back, reload the page and try again.",
                )
                    .into_response(),
            )
        }
    }
}

/// Signed in as an administrator, or 403 (or the sign-in page).
pub(crate) async fn signed_in_admin(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
) -> Result<SessionWithKey, Response> {
    let s = signed_in(state, headers, here).await?;
    if !s.account.admin {
        let mut refused = page(&Refused {
            frame: s.frame("Administrators only"),
        });
        *refused.status_mut() = StatusCode::FORBIDDEN;
        return Err(refused);
    }
    Ok(s)
}

pub(crate) fn page(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("rendering a page: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be made",
            )
                .into_response()
        }
    }
}

pub(crate) fn urlencode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// "1.2 GiB of 5.0 GiB" and the percentage, for the quota bars.
pub(crate) struct Usage {
    pub text: String,
    pub percent: Option<u64>,
    /// 95 % or more: the bar turns red.
    pub full: bool,
}

pub(crate) fn usage(a: &Account) -> Usage {
    let human = |b: u64| bytesize::ByteSize::b(b).display().iec().to_string();
    match a.quota_bytes {
        Some(q) => {
            let percent = (a.used_bytes.saturating_mul(100) / q.max(1)).min(100);
            Usage {
                text: format!("{} of {}", human(a.used_bytes), human(q)),
                percent: Some(percent),
                full: percent >= 95,
            }
        }
        None => Usage {
            text: format!("{} (no limit)", human(a.used_bytes)),
            percent: None,
            full: false,
        },
    }
}

pub(crate) fn date(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "refused.html")]
struct Refused {
    frame: Frame,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    next: String,
    address: String,
}

#[derive(serde::Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
    notice: Option<String>,
}

/// Only paths of this site: a sign-in link can't send anyone elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/account".to_string(),
    }
}

fn login_frame(error: Option<String>) -> Frame {
    Frame {
        title: "Sign in".into(),
        user: None,
        csrf: String::new(),
        notice: None,
        error,
    }
}

async fn login_page(Query(q): Query<NextQuery>) -> Response {
    let mut frame = login_frame(None);
    // After a password change every session has ended: say why the user is here again.
    if q.notice.as_deref() == Some("password") {
        frame.notice = Some("Your password was changed. Sign in with the new one.".into());
    }
    page(&LoginPage {
        frame,
        next: safe_next(q.next.as_deref()),
        address: String::new(),
    })
}

#[derive(serde::Deserialize)]
struct LoginForm {
    address: String,
    password: String,
    next: Option<String>,
}

/// The login throttle applies as for IMAP: the same delays and lockouts.
async fn login(
    State(state): Shared,
    Extension(client): Extension<Client>,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    if !client.may_send_secrets() {
        let mut response = page(&LoginPage {
            frame: login_frame(Some(
                "Sign in over HTTPS: this connection is not encrypted, and your password would cross the network readable.".into(),
            )),
            next,
            address: form.address,
        });
        *response.status_mut() = StatusCode::FORBIDDEN;
        return response;
    }
    match state
        .auth
        .authenticate_web(form.address.trim(), &form.password, client.ip)
        .await
    {
        Ok(account) => {
            let lifetime = state.config.session_lifetime.as_secs() as i64;
            let cookie = session::issue(
                &state.config.secret,
                &account,
                crate::routes::now() + lifetime,
            );
            tracing::info!(account = %account.address, peer = %client.ip, "web sign-in");
            mailroom_net::stats::login("http", true);
            let mut response = Redirect::to(&next).into_response();
            if let Ok(value) =
                HeaderValue::from_str(&session::set_cookie(Some(&cookie), client.tls, lifetime))
            {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Err(e) => {
            mailroom_net::stats::login("http", false);
            tokio::time::sleep(e.delay()).await;
            let text = match e {
                mailroom_auth::AuthError::Disabled => "This account is disabled.",
                _ => "Wrong address or password.",
            };
            let mut response = page(&LoginPage {
                frame: login_frame(Some(text.into())),
                next,
                address: form.address,
            });
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        }
    }
}

#[derive(serde::Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(state): Shared,
    Extension(client): Extension<Client>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<CsrfForm>,
) -> Response {
    if let Ok(s) = signed_in(&state, &headers, "/account").await
        && let Some(refused) = s.check(&form.csrf)
    {
        return refused;
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(value) = HeaderValue::from_str(&session::set_cookie(None, client.tls, 0)) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
