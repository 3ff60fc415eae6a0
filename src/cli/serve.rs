//! `serve`: open the store, start following its change feed, bind, and serve until SIGTERM.

use std::sync::Arc;

use tokio::net::TcpListener;

use super::Failure;
use crate::authn::{Authenticator, ChangeFeed};
use crate::config::Config;
use crate::proxy::gate::Gate;
use crate::proxy::server;
use crate::store;

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
        Arc::new(gate),
        listener,
        tls,
        server::shutdown_signal(),
        &config.limits,
    )
    .await;
    feed_task.abort();
    authn.flush_last_used().await;
    Ok(())
}
