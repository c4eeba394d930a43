//! The router: autoconfiguration, health and metrics here; the API in `api`, the pages in
//! `pages`.

use crate::autoconfig;
use crate::state::{AppState, Client};
use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mailroom_auth::Authenticator;
use std::net::IpAddr;
use std::sync::Arc;

pub(crate) type Shared = State<Arc<AppState>>;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_body;
    let timeout = state.config.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::metrics))
        .route("/.well-known/autoconfig/mail/config-v1.1.xml", get(mozilla))
        .route("/mail/config-v1.1.xml", get(mozilla))
        .route("/autodiscover/autodiscover.xml", post(autodiscover))
        .route("/Autodiscover/Autodiscover.xml", post(autodiscover))
        .route("/autodiscover/autodiscover.json", get(autodiscover_json))
        .route(
            "/autodiscover/autodiscover.json/v1.0/{address}",
            get(autodiscover_json_path),
        )
        .route(
            "/Autodiscover/Autodiscover.json/v1.0/{address}",
            get(autodiscover_json_path),
        )
        .route("/.well-known/acme-challenge/{token}", get(acme_challenge))
        .nest("/api/v1", crate::api::router())
        .merge(crate::pages::router())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state)
}

/// What `[http] metrics_listen` serves: the metrics and the health check, nothing else.
pub(crate) fn metrics_router(state: Arc<AppState>) -> Router {
    let timeout = state.config.request_timeout;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::metrics_open))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .with_state(state)
}

/// The client a trusted proxy names (the last X-Forwarded-For hop it added).
pub(crate) fn forwarded_client(
    req: &Request,
    peer: IpAddr,
    auth: &Authenticator,
) -> Option<Client> {
    if !auth.is_trusted(peer) {
        return None;
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    // The proxy appends the address it saw last; earlier entries are the client's own claims.
    let ip = header("x-forwarded-for")?
        .rsplit(',')
        .next()?
        .trim()
        .parse()
        .ok()?;
    let tls = header("x-forwarded-proto").is_some_and(|p| p.trim().eq_ignore_ascii_case("https"));
    Some(Client { ip, tls })
}

/// RFC 8555 §8.3: the key authorization of a challenge in progress, as the CA fetches it
/// (over plain HTTP, port 80).
async fn acme_challenge(State(state): Shared, Path(token): Path<String>) -> Response {
    match state.config.acme.as_ref().and_then(|c| c.answer(&token)) {
        Some(answer) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            )],
            answer,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such challenge\n").into_response(),
    }
}

/// 200 while the store answers.
async fn healthz(State(state): Shared) -> Response {
    match state.admin.store().list_domains().await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!("health check: the store failed: {e}");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n").into_response()
        }
    }
}

/// The served domain `address` (or `domain`) belongs to, or None: autoconfig never answers
/// with settings for a domain this server doesn't receive mail for.
async fn served_domain(state: &AppState, domain: &str) -> Option<String> {
    let found = state.admin.store().domain(domain.trim()).await.ok()??;
    Some(found.name)
}

fn domain_of(address: &str) -> Option<&str> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    (!local.is_empty() && !domain.is_empty()).then_some(domain)
}

fn xml(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

#[derive(serde::Deserialize)]
struct MozillaQuery {
    emailaddress: Option<String>,
}

/// Thunderbird asks `autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…` and
/// `<domain>/.well-known/autoconfig/…`; without the address the domain is the host's.
async fn mozilla(
    State(state): Shared,
    headers: HeaderMap,
    Query(q): Query<MozillaQuery>,
) -> Response {
    let address = q
        .emailaddress
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    let asked = match address {
        Some(a) => domain_of(a).map(str::to_string),
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host))
            .map(|h| h.strip_prefix("autoconfig.").unwrap_or(h).to_string()),
    };
    let served = match asked {
        Some(d) => served_domain(&state, &d).await,
        None => None,
    };
    let Some(domain) = served else {
        return (StatusCode::NOT_FOUND, "no mail settings for this domain\n").into_response();
    };
    xml(autoconfig::mozilla(
        &state.config.endpoints,
        &domain,
        address,
    ))
}

/// Outlook's POX request. The request body is small; anything larger is not one.
async fn autodiscover(State(state): Shared, body: axum::body::Bytes) -> Response {
    const MAX_REQUEST: usize = 8 * 1024;
    let request = (body.len() <= MAX_REQUEST)
        .then(|| autoconfig::parse_autodiscover_request(&body))
        .flatten();
    let Some(request) = request else {
        return xml(autoconfig::autodiscover_error(600, "Invalid Request"));
    };
    if request
        .schema
        .as_deref()
        .is_some_and(|s| s != autoconfig::OUTLOOK_SCHEMA)
    {
        return xml(autoconfig::autodiscover_error(
            601,
            "The requested schema version is not available",
        ));
    }
    let served = match domain_of(&request.address) {
        Some(domain) => served_domain(&state, domain).await,
        None => None,
    };
    if served.is_none() {
        return xml(autoconfig::autodiscover_error(
            500,
            "The email address can't be found.",
        ));
    }
    xml(autoconfig::autodiscover(
        &state.config.endpoints,
        &request.address,
    ))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JsonQuery {
    email: Option<String>,
    protocol: Option<String>,
}

async fn autodiscover_json(
    State(state): Shared,
    headers: HeaderMap,
    Query(q): Query<JsonQuery>,
) -> Response {
    json_redirect(&state, &headers, q.email.as_deref(), q.protocol.as_deref()).await
}

async fn autodiscover_json_path(
    State(state): Shared,
    headers: HeaderMap,
    Path(address): Path<String>,
    Query(q): Query<JsonQuery>,
) -> Response {
    json_redirect(&state, &headers, Some(&address), q.protocol.as_deref()).await
}

/// Autodiscover v2: says where the v1 (POX) endpoint is, for addresses of served domains.
async fn json_redirect(
    state: &AppState,
    headers: &HeaderMap,
    address: Option<&str>,
    protocol: Option<&str>,
) -> Response {
    let protocol = protocol.unwrap_or("");
    if !protocol.eq_ignore_ascii_case("AutodiscoverV1") {
        let body = serde_json::json!({
            "ErrorCode": "InvalidProtocol",
            "ErrorMessage": format!(
                "The given protocol value '{protocol}' is invalid. Supported values are 'AutodiscoverV1'"
            ),
        });
        return (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
    }
    let served = match address.and_then(domain_of) {
        Some(domain) => served_domain(state, domain).await,
        None => None,
    };
    if served.is_none() {
        let body = serde_json::json!({
            "ErrorCode": "UserNotFound",
            "ErrorMessage": "The email address can't be found.",
        });
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    let host = match state.config.endpoints.https {
        Some(443) | None => state.config.endpoints.hostname.clone(),
        Some(port) => format!("{}:{port}", state.config.endpoints.hostname),
    };
    let _ = headers;
    let body = serde_json::json!({
        "Protocol": "AutodiscoverV1",
        "Url": format!("https://{host}/autodiscover/autodiscover.xml"),
    });
    axum::Json(body).into_response()
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
