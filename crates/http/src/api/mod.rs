//! The admin HTTP API, `/api/v1`: JSON over the same operations as the CLI
//! (`mailroom_admin::Admin`). Every request carries `Authorization: Bearer mrt_…`: an
//! administrators' token reaches everything, an account's token only `/api/v1/me`.
//! Described by `/api/v1/openapi.json`.

mod admin;
mod me;
mod views;

use crate::routes::Shared;
use crate::state::{AppState, Client};
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mailroom_admin::{AdminError, ErrorKind};
use mailroom_store::{Account, ApiToken};
use std::sync::Arc;

pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/openapi.json", axum::routing::get(openapi))
        .merge(admin::router())
        .merge(me::router())
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        include_str!("../../openapi.json"),
    )
        .into_response()
}

/// An API failure: its status and a sentence naming the object.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid bearer token is required (mailroom api-token add NAME)",
        )
    }

    /// A token sent in the clear from another machine: refused, however valid.
    fn needs_tls() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "tokens are accepted over HTTPS only (or from this machine)",
        )
    }

    fn forbidden() -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "this token is an account's own; it can't act for the administrators",
        )
    }
}

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        let status = match e.kind() {
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Invalid => StatusCode::BAD_REQUEST,
            ErrorKind::Server => {
                tracing::error!("api: {e}");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<mailroom_store::StoreError> for ApiError {
    fn from(e: mailroom_store::StoreError) -> Self {
        AdminError::from(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"mailroom\""),
            );
        }
        response
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

async fn token(state: &AppState, headers: &HeaderMap) -> ApiResult<ApiToken> {
    let secret = bearer(headers).ok_or_else(ApiError::unauthorized)?;
    state
        .admin
        .token(secret)
        .await?
        .ok_or_else(ApiError::unauthorized)
}

/// The administrators' token of the request, if it carries one.
pub(crate) async fn admin_token(state: &AppState, headers: &HeaderMap) -> Option<ApiToken> {
    token(state, headers)
        .await
        .ok()
        .filter(|t| t.account.is_none())
}

/// Admits administrators' tokens only: 401 without a valid token, 403 for an account's.
pub(crate) async fn require_admin(state: &AppState, headers: &HeaderMap) -> ApiResult<ApiToken> {
    let token = token(state, headers).await?;
    if token.account.is_some() {
        return Err(ApiError::forbidden());
    }
    Ok(token)
}

/// The account an account's token belongs to (administrators' tokens have none: 403).
pub(crate) async fn require_account(state: &AppState, headers: &HeaderMap) -> ApiResult<Account> {
    let token = token(state, headers).await?;
    let Some(id) = token.account else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "an administrators' token has no account of its own; use /api/v1/accounts/{address}",
        ));
    };
    let account = state.admin.store().account(id).await?;
    if !account.enabled {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the account is disabled",
        ));
    }
    Ok(account)
}

pub(crate) type ApiState = Shared;

fn refuse_plaintext(parts: &axum::http::request::Parts) -> ApiResult<()> {
    match parts.extensions.get::<Client>() {
        Some(client) if !client.may_send_secrets() => Err(ApiError::needs_tls()),
        _ => Ok(()),
    }
}

/// An administrators' token, checked before anything else of the request is read (a body
/// that doesn't parse is the caller's second problem, not the first).
pub(crate) struct AdminAuth;

impl axum::extract::FromRequestParts<Arc<AppState>> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        refuse_plaintext(parts)?;
        require_admin(state, &parts.headers)
            .await
            .map(|_| AdminAuth)
    }
}

/// An account's own token and its account.
pub(crate) struct AccountAuth(pub Account);

impl axum::extract::FromRequestParts<Arc<AppState>> for AccountAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        refuse_plaintext(parts)?;
        require_account(state, &parts.headers)
            .await
            .map(AccountAuth)
    }
}
