//! `serve`: open the store, start following its change feed, bind, and serve until SIGTERM.

use std::sync::Arc;

use tokio::net::TcpListener;

use super::Failure;
use crate::authn::{Authenticator, ChangeFeed};
use crate::config::Config;
use crate::proxy::gate::Gate;
use crate::proxy::route::RouteRuntime;
use crate::proxy::server;
use crate::store;

fn config_failure(error: impl ToString) -> Failure {
    Failure {
        code: super::EXIT_CONFIG,
        message: error.to_string(),
    }
}

fn tls_acceptor(config: &Config) -> Result<Option<tokio_rustls::TlsAcceptor>, Failure> {
    config
        .server
        .tls
        .as_ref()
        .map(|files| server::tls_acceptor(files).map_err(config_failure))
        .transpose()
}

/// What `check-config` checks beyond parsing: the files the config names load (TLS
/// certificate and key, backend CA files) and every route's backend can be set up.
pub fn check_files(config: &Config) -> Result<(), Failure> {
    tls_acceptor(config)?;
    for route in &config.routes {
        RouteRuntime::new(route, &config.limits).map_err(config_failure)?;
    }
    Ok(())
}

/// How often addresses whose failure budget has refilled are forgotten.
const THROTTLE_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn serve(config: Config) -> Result<(), Failure> {
    let tls = tls_acceptor(&config)?;
    let store = store::open(config.store.url.expose()).await.map_err(|e| {
        Failure::refused(format!(
            "cannot open store {}: {e}",
            config.store.redacted_url
        ))
    })?;
    let authn = Arc::new(Authenticator::new(store, config.store.outage_grace));
    let feed = ChangeFeed::start(Arc::clone(&authn))
        .await
        .map_err(|e| Failure::refused(format!("cannot read the change feed: {e}")))?;
    let feed_task = tokio::spawn(feed.run());
    let gate = Gate::new(&config, Arc::clone(&authn)).map_err(config_failure)?;
    let gate = Arc::new(gate);
    let throttle = Arc::clone(gate.throttle());
    let sweeper = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(THROTTLE_SWEEP_INTERVAL);
        loop {
            ticker.tick().await;
            throttle.sweep();
        }
    });
    let listener = TcpListener::bind(config.server.listen)
        .await
        .map_err(|e| Failure::refused(format!("cannot listen on {}: {e}", config.server.listen)))?;
    tracing::info!(
        listen = %config.server.listen,
        tls = tls.is_some(),
        routes = config.routes.len(),
        store = %config.store.redacted_url,
        "vcsgate serving"
    );
    server::serve(
        gate,
        listener,
        tls,
        server::shutdown_signal(),
        &config.limits,
    )
    .await;
    feed_task.abort();
    sweeper.abort();
    authn.flush_last_used().await;
    Ok(())
}
