//! The HTTPS front on `http.listen` (axum over rustls): the web client at
//! `/` (embedded in the binary), protocol v1 on `/ws`, `/metrics`,
//! `/healthz`, `/readyz` and the admin API under `/admin/`.

mod tls_listener;
mod web_client;

use crate::signaling::protocol::MAX_FRAME;
use crate::signaling::session::{self, SessionConfig};
use axum::Router;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::registry::Registry;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tls_listener::TlsListener;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

/// Largest WebSocket message the transport reads: frames above the
/// protocol's [`MAX_FRAME`] but below this get an `error` frame and the
/// socket lives on; above it the connection is closed.
const MAX_WS_MESSAGE: usize = 16 * MAX_FRAME;

/// A running HTTPS front.
pub struct HttpServer {
    /// Where it listens.
    pub local_addr: SocketAddr,
    /// The server task.
    pub task: JoinHandle<io::Result<()>>,
}

/// Binds `listen` and serves until `shutdown` turns true.
pub async fn start(
    listen: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
    sessions: Arc<SessionConfig>,
    registry: Arc<Registry>,
    readiness: Readiness,
    admin: crate::admin::AdminState,
    mut shutdown: watch::Receiver<bool>,
) -> io::Result<HttpServer> {
    let tcp = TcpListener::bind(listen).await?;
    let mut tls = (*tls).clone();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let listener = TlsListener::new(tcp, Arc::new(tls))?;
    let local_addr = axum::serve::Listener::local_addr(&listener)?;
    let app = router(sessions, registry, readiness).merge(crate::admin::routes(admin));
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = shutdown.wait_for(|stop| *stop).await;
            })
            .await
    });
    info!(%local_addr, "HTTPS front: web client at /, protocol v1 at /ws");
    Ok(HttpServer { local_addr, task })
}

fn router(sessions: Arc<SessionConfig>, registry: Arc<Registry>, readiness: Readiness) -> Router {
    Router::new()
        .route("/ws", get(ws))
        .route("/healthz", get(healthz))
        .merge(web_client::routes())
        .with_state(sessions)
        .merge(metrics_routes(registry))
        .merge(
            Router::new()
                .route("/readyz", get(readyz))
                .with_state(readiness),
        )
}

/// What `/readyz` answers from: the PBX's state (when it is pinged) and
/// whether the gateway is draining.
#[derive(Clone, Default)]
pub struct Readiness {
    /// Whether the PBX answered its last OPTIONS ping; `None` when no PBX
    /// is pinged (the demo PBX, or pings turned off).
    pub pbx_up: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Set once the gateway stops taking new calls.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// `/readyz`: 200 while the gateway takes calls (its listeners are up, the
/// PBX answers pings, it is not draining), 503 with the reason otherwise.
async fn readyz(State(r): State<Readiness>) -> Response {
    use std::sync::atomic::Ordering;
    let reason = if r.draining.load(Ordering::Relaxed) {
        Some("draining")
    } else if r
        .pbx_up
        .as_ref()
        .is_some_and(|up| !up.load(Ordering::Relaxed))
    {
        Some("the PBX does not answer OPTIONS")
    } else {
        None
    };
    let json = [("content-type", "application/json")];
    match reason {
        None => (json, r#"{"status":"ready"}"#.to_owned()).into_response(),
        Some(why) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            json,
            serde_json::json!({"status": "not ready", "reason": why}).to_string(),
        )
            .into_response(),
    }
}

/// `/metrics`: the registry in the OpenMetrics text format.
pub fn metrics_routes(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(registry)
}

/// OpenMetrics for scrapers that ask for it (Prometheus does), the classic
/// text format otherwise.
async fn metrics(
    State(registry): State<Arc<Registry>>,
    headers: axum::http::HeaderMap,
) -> Response {
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &registry).is_err() {
        return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    }
    let wants_openmetrics = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/openmetrics-text"));
    if wants_openmetrics {
        let ty = "application/openmetrics-text; version=1.0.0; charset=utf-8";
        ([("content-type", ty)], body).into_response()
    } else {
        let ty = "text/plain; version=0.0.4; charset=utf-8";
        (
            [("content-type", ty)],
            crate::metrics::to_classic_text(&body),
        )
            .into_response()
    }
}

async fn ws(upgrade: WebSocketUpgrade, State(sessions): State<Arc<SessionConfig>>) -> Response {
    upgrade
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE)
        .on_upgrade(move |socket| session::run(socket, sessions))
}

async fn healthz() -> impl IntoResponse {
    ([("content-type", "application/json")], r#"{"status":"ok"}"#)
}
