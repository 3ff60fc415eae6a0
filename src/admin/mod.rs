//! The admin listener (`[admin] listen`, OPERATIONS.md): `/metrics` for Prometheus,
//! `/healthz` for liveness and `/readyz` for readiness. It runs on the control runtime, on
//! an address of its own: nothing of it is served on the main listener.

pub mod metrics;

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use crate::proxy::gate::unix_now;
use crate::proxy::server::CurrentGate;

/// A route's backend counts as unready when it was tried within this many seconds and
/// accepted no connection in that time.
pub const BACKEND_WINDOW_SECS: i64 = 60;
/// How long a client of the admin listener has to send its request head.
const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Binds the admin listener (before serving starts, so a taken port is a start-up error).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves the admin endpoints until the task is dropped.
pub async fn serve(listener: TcpListener, gate: CurrentGate) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "admin listener: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let gate = gate.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let response = answer(&gate, request.method(), request.uri().path());
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

/// The answer to one admin request.
pub fn answer(gate: &CurrentGate, method: &Method, path: &str) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        return respond(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".to_owned(),
        );
    }
    let gate = gate.load();
    match path {
        "/metrics" => {
            let metrics = gate.metrics();
            let authn = gate.authn();
            metrics.store_up.set(i64::from(authn.health().is_up()));
            metrics
                .cached_tokens
                .set(i64::try_from(authn.remembered_count()).unwrap_or(i64::MAX));
            respond(StatusCode::OK, OPENMETRICS, metrics.encode())
        }
        "/healthz" => respond(
            StatusCode::OK,
            "application/json",
            "{\"status\":\"ok\"}\n".to_owned(),
        ),
        "/readyz" => {
            let health = gate.authn().health();
            let store_ok = health.is_available();
            let backends = gate.unready_backends(unix_now(), BACKEND_WINDOW_SECS);
            let ready = store_ok && backends.is_empty();
            let mut reasons = Vec::new();
            if !store_ok {
                reasons.push(format!(
                    "the store has not answered for {} s (past its outage grace)",
                    health.since_last_ok().as_secs()
                ));
            }
            for prefix in &backends {
                reasons.push(format!(
                    "the backend of route {prefix} accepted no connection in the last {BACKEND_WINDOW_SECS} s"
                ));
            }
            let body = serde_json::json!({
                "status": if ready { "ready" } else { "unready" },
                "store": if store_ok { "ok" } else { "unavailable" },
                "unready_routes": backends,
                "reasons": reasons,
            });
            let status = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            respond(status, "application/json", format!("{body}\n"))
        }
        _ => respond(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: /metrics, /healthz, /readyz\n".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;
    use crate::admin::metrics::Metrics;
    use crate::authn::Authenticator;
    use crate::proxy::gate::Gate;

    async fn current() -> (CurrentGate, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let text = format!(
            "version = 1\n[store]\nurl = \"{url}\"\n[[route]]\nprefix = \"/git\"\nkind = \"git\"\nbackend = \"http://127.0.0.1:9/git\"\n"
        );
        let config = crate::config::parse(&text, &dir.path().join("proxy.toml")).unwrap();
        let store = crate::store::open(&url).await.unwrap();
        let authn = Arc::new(Authenticator::new(store, config.store.outage_grace));
        authn.health().record_ok();
        let gate = Gate::new(&config, authn, Arc::new(Metrics::new())).unwrap();
        (Arc::new(arc_swap::ArcSwap::from_pointee(gate)), dir)
    }

    #[tokio::test]
    async fn endpoints_methods_and_unknown_paths() {
        let (gate, _dir) = current().await;
        assert_eq!(
            answer(&gate, &Method::GET, "/healthz").status(),
            StatusCode::OK
        );
        assert_eq!(
            answer(&gate, &Method::GET, "/readyz").status(),
            StatusCode::OK
        );
        let metrics = answer(&gate, &Method::GET, "/metrics");
        assert_eq!(metrics.status(), StatusCode::OK);
        assert_eq!(metrics.headers()[header::CONTENT_TYPE], OPENMETRICS);
        assert_eq!(
            answer(&gate, &Method::POST, "/metrics").status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            answer(&gate, &Method::GET, "/git/x").status(),
            StatusCode::NOT_FOUND
        );
    }
}
