//! The administrators' endpoints.

use super::views::*;
use super::{AdminAuth, ApiError, ApiResult, ApiState};
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mailroom_store::{QueueId, RecoveryFilter, RecoveryId};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/status", get(status))
        .route("/domains", get(domains).post(add_domain))
        .route(
            "/domains/{name}",
            get(domain).patch(update_domain).delete(remove_domain),
        )
        .route("/domains/{name}/dns", get(domain_dns))
        .route("/accounts", get(accounts).post(add_account))
        .route(
            "/accounts/{address}",
            get(account).patch(update_account).delete(remove_account),
        )
        .route("/accounts/{address}/password", post(set_password))
        .route(
            "/accounts/{address}/app-passwords",
            get(app_passwords).post(add_app_password),
        )
        .route(
            "/accounts/{address}/app-passwords/{name}",
            axum::routing::delete(remove_app_password),
        )
        .route("/accounts/{address}/recoverable", get(recoverable))
        .route("/accounts/{address}/restore", post(restore))
        .route("/aliases", get(aliases).post(add_alias))
        .route("/aliases/{alias}", axum::routing::delete(remove_alias))
        .route("/backups", get(backups).post(run_backup))
        .route("/backups/{id}/verify", post(verify_backup))
        .route("/backups/{id}/restore", post(restore_backup))
        .route("/queue", get(queue))
        .route("/queue/{id}/retry", post(retry_queued))
        .route("/queue/{id}", axum::routing::delete(remove_queued))
}

fn created(value: Value) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

async fn status(state: ApiState, _auth: AdminAuth) -> ApiResult<Json<Value>> {
    let accounts = state.admin.accounts().await?;
    let domains = state.admin.domains().await?;
    let queue = state.admin.store().queued_messages().await?;
    let ends = &state.config.endpoints;
    let list = |l: &[mailroom_admin::Endpoint]| -> Vec<Value> {
        l.iter()
            .map(|e| {
                json!({"port": e.port, "security": match e.security {
                    mailroom_admin::Security::Tls => "tls",
                    mailroom_admin::Security::StartTls => "starttls",
                }})
            })
            .collect()
    };
    Ok(Json(json!({
        "version": state.config.version,
        "hostname": ends.hostname,
        "uptime_seconds": state.started.elapsed().as_secs(),
        "domains": domains.len(),
        "accounts": accounts.len(),
        "messages": accounts.iter().map(|a| a.used_messages).sum::<u64>(),
        "bytes": accounts.iter().map(|a| a.used_bytes).sum::<u64>(),
        "queue": queue.len(),
        "endpoints": {
            "imap": list(&ends.imap),
            "pop3": list(&ends.pop3),
            "submission": list(&ends.submission),
        },
    })))
}

async fn domains(state: ApiState, _auth: AdminAuth) -> ApiResult<Json<Vec<DomainView>>> {
    let list = state.admin.domains().await?;
    Ok(Json(list.iter().map(DomainView::from).collect()))
}

async fn add_domain(
    state: ApiState,
    _auth: AdminAuth,
    Json(body): Json<NameBody>,
) -> ApiResult<Response> {
    let domain = state.admin.add_domain(&body.name).await?;
    let dns: Vec<String> = state
        .admin
        .dns_records(&domain, &state.config.endpoints)
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(created(
        json!({"domain": DomainView::from(&domain), "dns": dns}),
    ))
}

async fn domain(
    state: ApiState,
    _auth: AdminAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<DomainView>> {
    Ok(Json(DomainView::from(&state.admin.domain(&name).await?)))
}

async fn domain_dns(
    state: ApiState,
    _auth: AdminAuth,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<String>>> {
    let domain = state.admin.domain(&name).await?;
    let records = state.admin.dns_records(&domain, &state.config.endpoints);
    Ok(Json(records.iter().map(ToString::to_string).collect()))
}

async fn update_domain(
    state: ApiState,
    _auth: AdminAuth,
    Path(name): Path<String>,
    Json(body): Json<DomainChanges>,
) -> ApiResult<Json<DomainView>> {
    let domain = state.admin.update_domain(&name, &body.settings()).await?;
    Ok(Json(DomainView::from(&domain)))
}

async fn remove_domain(
    state: ApiState,
    _auth: AdminAuth,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    state.admin.remove_domain(&name).await?;
    Ok(no_content())
}

async fn accounts(state: ApiState, _auth: AdminAuth) -> ApiResult<Json<Vec<AccountView>>> {
    let list = state.admin.accounts().await?;
    Ok(Json(list.iter().map(AccountView::from).collect()))
}

async fn add_account(
    state: ApiState,
    _auth: AdminAuth,
    Json(body): Json<NewAccountBody>,
) -> ApiResult<Response> {
    let settings = body.changes().settings()?;
    let made = state
        .admin
        .add_account(&body.address, body.password.as_deref(), &settings)
        .await?;
    Ok(created(json!({
        "account": AccountView::from(&made.account),
        "password": made.generated_password,
    })))
}

async fn account(
    state: ApiState,
    _auth: AdminAuth,
    Path(address): Path<String>,
) -> ApiResult<Json<AccountView>> {
    Ok(Json(AccountView::from(
        &state.admin.account(&address).await?,
    )))
}

async fn update_account(
    state: ApiState,
    _auth: AdminAuth,
    Path(address): Path<String>,
    Json(body): Json<AccountChanges>,
) -> ApiResult<Json<AccountView>> {
    let account = state
        .admin
        .update_account(&address, &body.settings()?)
        .await?;
    Ok(Json(AccountView::from(&account)))
}

async fn remove_account(
    state: ApiState,
    _auth: AdminAuth,
    Path(address): Path<String>,
) -> ApiResult<Response> {
    state.admin.remove_account(&address).await?;
    Ok(no_content())
}

async fn set_password(
    state: ApiState,
    _auth: AdminAuth,
    Path(address): Path<String>,
    body: Option<Json<PasswordBody>>,
) -> ApiResult<Json<Value>> {
    let password = body.and_then(|Json(b)| b.password);
    let generated = state
        .admin
        .set_password(&address, password.as_deref())
        .await?;
    Ok(Json(json!({ "password": generated })))
}

pub(super) fn app_password_views(list: &[mailroom_store::AppPassword]) -> Vec<Value> {
    list.iter()
        .map(|p| json!({"name": p.name, "created_at": p.created_at}))
        .collect()
}

async fn app_passwords(
    state: ApiState,
    _auth: AdminAuth,
    Path(address): Path<String>,
) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(app_password_views(
        &state.admin.app_passwords(&address).await?,
    )))
}

async fn add_app_password(
    state: ApiState,
    _auth: AdminAuth,
    Path(address): Path<String>,
    Json(body): Json<NameBody>,
) -> ApiResult<Response> {
    let secret = state.admin.add_app_password(&address, &body.name).await?;
    Ok(created(json!({"name": body.name, "secret": secret})))
}

async fn remove_app_password(
    state: ApiState,
    _auth: AdminAuth,
    Path((address, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    state.admin.remove_app_password(&address, &name).await?;
    Ok(no_content())
}

pub(super) fn filter(q: &RecoverableQuery) -> ApiResult<RecoveryFilter> {
    Ok(RecoveryFilter {
        deleted_since: q
            .since
            .as_deref()
            .map(mailroom_admin::parse_date)
            .transpose()?,
        mailbox_name: q.folder.clone().filter(|f| !f.is_empty()),
    })
}

async fn recoverable(
    state: ApiState,
    _auth: AdminAuth,
    Path(address): Path<String>,
    Query(q): Query<RecoverableQuery>,
) -> ApiResult<Json<Vec<RecoverableView>>> {
    let list = state.admin.recoverable(&address, filter(&q)?).await?;
    Ok(Json(list.iter().map(RecoverableView::from).collect()))
}

/// Restores by id, everything, or everything since a date.
pub(super) async fn restore_for(
    state: &AppState,
    address: &str,
    body: RestoreBody,
) -> ApiResult<Json<Value>> {
    let restored = if !body.ids.is_empty() {
        let ids: Vec<RecoveryId> = body.ids.iter().map(|&i| RecoveryId(i)).collect();
        state.admin.restore(address, &ids).await?
    } else if body.all || body.since.is_some() {
        let q = RecoverableQuery {
            since: body.since.clone(),
            folder: None,
        };
        state.admin.restore_matching(address, filter(&q)?).await?
    } else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "say what to restore: \"ids\", \"all\": true, or \"since\"",
        ));
    };
    let list: Vec<Value> = restored
        .iter()
        .map(|r| json!({"id": r.id.0, "folder": r.mailbox_name, "uid": r.uid}))
        .collect();
    Ok(Json(json!({ "restored": list })))
}

async fn restore(
    state: ApiState,
    _auth: AdminAuth,
    Path(address): Path<String>,
    Json(body): Json<RestoreBody>,
) -> ApiResult<Json<Value>> {
    restore_for(&state, &address, body).await
}

async fn aliases(state: ApiState, _auth: AdminAuth) -> ApiResult<Json<Vec<Value>>> {
    let list = state.admin.aliases().await?;
    Ok(Json(
        list.iter()
            .map(|a| json!({"alias": a.address, "address": a.target}))
            .collect(),
    ))
}

async fn add_alias(
    state: ApiState,
    _auth: AdminAuth,
    Json(body): Json<AliasBody>,
) -> ApiResult<Response> {
    let account = state.admin.add_alias(&body.alias, &body.address).await?;
    Ok(created(
        json!({"alias": body.alias, "address": account.address}),
    ))
}

async fn remove_alias(
    state: ApiState,
    _auth: AdminAuth,
    Path(alias): Path<String>,
) -> ApiResult<Response> {
    state.admin.remove_alias(&alias).await?;
    Ok(no_content())
}

fn backups_of(state: &AppState) -> ApiResult<&Arc<dyn crate::state::Backups>> {
    state.backups.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this store's backups are not reachable from the web side",
        )
    })
}

fn backup_error(e: String) -> ApiError {
    if e.starts_with("no backup") {
        ApiError::new(StatusCode::NOT_FOUND, e)
    } else {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e)
    }
}

async fn backups(state: ApiState, _auth: AdminAuth) -> ApiResult<Json<Value>> {
    let list = backups_of(&state)?.list().await.map_err(backup_error)?;
    Ok(Json(json!(list)))
}

async fn run_backup(state: ApiState, _auth: AdminAuth) -> ApiResult<Response> {
    let info = backups_of(&state)?.run().await.map_err(backup_error)?;
    Ok(created(json!(info)))
}

async fn verify_backup(
    state: ApiState,
    _auth: AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let problems = backups_of(&state)?
        .verify(&id)
        .await
        .map_err(backup_error)?;
    Ok(Json(
        json!({"id": id, "ok": problems.is_empty(), "problems": problems}),
    ))
}

async fn restore_backup(
    state: ApiState,
    _auth: AdminAuth,
    Path(id): Path<String>,
    Json(body): Json<BackupRestoreBody>,
) -> ApiResult<Json<Value>> {
    let restored = backups_of(&state)?
        .restore_account(&id, &body.account, body.folder.as_deref())
        .await
        .map_err(backup_error)?;
    Ok(Json(
        json!({"id": id, "account": body.account, "restored": restored}),
    ))
}

async fn queue(state: ApiState, _auth: AdminAuth) -> ApiResult<Json<Vec<QueuedView>>> {
    let list = state.admin.store().queued_messages().await?;
    Ok(Json(list.iter().map(QueuedView::from).collect()))
}

async fn retry_queued(
    state: ApiState,
    _auth: AdminAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let store = state.admin.store();
    let touched = store
        .retry_now(Some(QueueId(id)), crate::routes::now())
        .await?;
    if touched == 0 {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no queued message {id}"),
        ));
    }
    Ok(Json(json!({"id": id, "due": "now"})))
}

async fn remove_queued(
    state: ApiState,
    _auth: AdminAuth,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    state
        .admin
        .store()
        .remove_queued(QueueId(id))
        .await
        .map_err(|e| match e {
            mailroom_store::StoreError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, format!("no queued message {id}"))
            }
            other => other.into(),
        })?;
    Ok(no_content())
}
