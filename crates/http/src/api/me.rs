//! An account's own endpoints, for its own token: what the self-service page does.

use super::admin::{app_password_views, filter, restore_for};
use super::views::*;
use super::{AccountAuth, ApiResult, ApiState};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mailroom_admin::AccountSettings;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/me", get(me).patch(update_me))
        .route("/me/password", post(password))
        .route(
            "/me/app-passwords",
            get(app_passwords).post(add_app_password),
        )
        .route(
            "/me/app-passwords/{name}",
            axum::routing::delete(remove_app_password),
        )
        .route("/me/recoverable", get(recoverable))
        .route("/me/restore", post(restore))
}

async fn me(AccountAuth(account): AccountAuth) -> ApiResult<Json<AccountView>> {
    Ok(Json(AccountView::from(&account)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MyChanges {
    /// "keep", "delete" or "default": what POP3 does with downloaded mail.
    pop3_policy: Option<String>,
}

/// A user may choose only what is theirs to choose: the POP3 policy.
async fn update_me(
    state: ApiState,
    AccountAuth(account): AccountAuth,
    Json(body): Json<MyChanges>,
) -> ApiResult<Json<AccountView>> {
    let settings = AccountSettings::parse(None, None, None, body.pop3_policy.as_deref())?;
    let updated = state
        .admin
        .update_account(&account.address, &settings)
        .await?;
    Ok(Json(AccountView::from(&updated)))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

async fn password(
    state: ApiState,
    AccountAuth(account): AccountAuth,
    Json(body): Json<NewPassword>,
) -> ApiResult<Response> {
    state
        .admin
        .set_password(&account.address, Some(&body.password))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn app_passwords(
    state: ApiState,
    AccountAuth(account): AccountAuth,
) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(app_password_views(
        &state.admin.app_passwords(&account.address).await?,
    )))
}

async fn add_app_password(
    state: ApiState,
    AccountAuth(account): AccountAuth,
    Json(body): Json<NameBody>,
) -> ApiResult<Response> {
    let secret = state
        .admin
        .add_app_password(&account.address, &body.name)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"name": body.name, "secret": secret})),
    )
        .into_response())
}

async fn remove_app_password(
    state: ApiState,
    AccountAuth(account): AccountAuth,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    state
        .admin
        .remove_app_password(&account.address, &name)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn recoverable(
    state: ApiState,
    AccountAuth(account): AccountAuth,
    Query(q): Query<RecoverableQuery>,
) -> ApiResult<Json<Vec<RecoverableView>>> {
    let list = state
        .admin
        .recoverable(&account.address, filter(&q)?)
        .await?;
    Ok(Json(list.iter().map(RecoverableView::from).collect()))
}

async fn restore(
    state: ApiState,
    AccountAuth(account): AccountAuth,
    Json(body): Json<RestoreBody>,
) -> ApiResult<Json<Value>> {
    restore_for(&state, &account.address, body).await
}
