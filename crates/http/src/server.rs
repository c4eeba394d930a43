//! The HTTP listener: the same accept loop, connection limits and certificates as the mail
//! protocols, HTTP/1.1 and HTTP/2 (ALPN on TLS) through hyper, a router from `routes`.

use crate::state::{AppState, Backups, Client, HttpConfig};
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use mailroom_admin::Admin;
use mailroom_auth::Authenticator;
use mailroom_net::{
    Accepted, ConnectionGate, ConnectionLimits, Refusal, ServeOptions, TlsAcceptor,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long a client may take to send a request's header.
const HEADER_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone)]
pub struct HttpServer {
    state: Arc<AppState>,
    router: Router,
    tls: Option<TlsAcceptor>,
    gate: Arc<ConnectionGate>,
}

impl HttpServer {
    /// `tls` must offer "h2" and "http/1.1" by ALPN (`CertStore::acceptor_with_alpn`).
    pub fn new(
        admin: Admin,
        auth: Authenticator,
        tls: Option<TlsAcceptor>,
        config: HttpConfig,
        backups: Option<Arc<dyn Backups>>,
    ) -> Self {
        let gate = ConnectionGate::new(ConnectionLimits {
            total: config.max_connections.max(1),
            per_ip: config.max_connections_per_ip,
            per_user_ip: 0,
        });
        let state = Arc::new(AppState {
            admin,
            auth,
            config,
            backups,
            started: std::time::Instant::now(),
        });
        let router = crate::routes::router(state.clone());
        HttpServer {
            state,
            router,
            tls,
            gate,
        }
    }

    /// For tests: the router without a listener.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The same server answering only `/metrics` (to anyone) and `/healthz`, for
    /// `[http] metrics_listen`: plain HTTP on an address only the monitoring reaches.
    pub fn metrics_only(&self) -> HttpServer {
        HttpServer {
            router: crate::routes::metrics_router(self.state.clone()),
            tls: None,
            ..self.clone()
        }
    }

    pub async fn serve(
        &self,
        listener: TcpListener,
        implicit_tls: bool,
        shutdown: impl Future<Output = ()>,
    ) {
        let Some(options) =
            ServeOptions::for_listener("http", implicit_tls, self.tls.as_ref(), HANDSHAKE_TIMEOUT)
        else {
            return;
        };
        let server = self.clone();
        mailroom_net::serve(
            listener,
            options.drain_on_shutdown(Duration::from_secs(5)),
            self.gate.clone(),
            shutdown,
            refusal,
            move |accepted: Accepted| {
                let server = server.clone();
                async move { server.connection(accepted, implicit_tls).await }
            },
        )
        .await;
    }

    async fn connection(&self, accepted: Accepted, tls: bool) {
        let Accepted {
            stream,
            peer,
            mut stop,
            permit,
        } = accepted;
        // Behind a trusted proxy the client is the one it names.
        let auth = self.state.auth.clone();
        let service =
            self.router
                .clone()
                .map_request(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut req = req.map(axum::body::Body::new);
                    let client = crate::routes::forwarded_client(&req, peer.ip(), &auth)
                        .unwrap_or(Client { ip: peer.ip(), tls });
                    req.extensions_mut().insert(client);
                    req
                });
        let service = hyper_util::service::TowerToHyperService::new(service);
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(64);
        let conn = builder.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(conn);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, "http connection: {e}");
                }
            }
            _ = async { let _ = stop.wait_for(|&s| s).await; } => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
        drop(permit);
    }
}

/// A refused plain connection gets a one-line HTTP answer.
fn refusal(reason: Refusal) -> Vec<u8> {
    let text = match reason {
        Refusal::Total => "Too many connections, try again later\n",
        Refusal::PerAddress => "Too many connections from your address\n",
    };
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\nRetry-After: 10\r\n\r\n{text}",
        text.len()
    )
    .into_bytes()
}
