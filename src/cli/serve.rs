//! `serve`: open the store, start following its change feed, bind, and serve until SIGTERM.

use std::sync::Arc;

use tokio::net::TcpListener;

use super::Failure;
use crate::authn::{Authenticator, ChangeFeed};
use crate::config::Config;
use crate::proxy::gate::Gate;
use crate::proxy::server;
use crate::store;

/// How often addresses whose failure budget has refilled are forgotten.
const THROTTLE_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

pub async fn serve(config: Config) -> Result<(), Failure> {
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
    let gate = Gate::new(&config, Arc::clone(&authn)).map_err(|e| Failure {
        code: super::EXIT_CONFIG,
        message: e.to_string(),
    })?;
    let gate = Arc::new(gate);
    let throttle = Arc::clone(gate.throttle());
    let sweeper = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(THROTTLE_SWEEP_INTERVAL);
        loop {
            ticker.tick().await;
            throttle.sweep();
        }
    });
    let tls = match &config.server.tls {
        Some(files) => Some(server::tls_acceptor(files).map_err(|e| Failure {
            code: super::EXIT_CONFIG,
            message: e.to_string(),
        })?),
        None => None,
    };
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
