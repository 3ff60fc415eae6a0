//! `serve`: open the store, start following its change feed, bind, and serve until SIGTERM.

use std::sync::Arc;

use super::Failure;
use crate::authn::oidc::IssuerKeys;
use crate::authn::{Authenticator, ChangeFeed};
use crate::config::Config;
use crate::config::oidc::JwksSource;
use crate::proxy::admission::Admission;
use crate::proxy::gate::Gate;
use crate::proxy::served::ServedRoute;
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
        ServedRoute::new(route, &config.limits).map_err(config_failure)?;
    }
    oidc_issuers(config)?;
    Ok(())
}

/// Every `[[oidc]]` issuer's JWKS file loads (a `jwks_url` is only fetched by `serve`).
fn oidc_issuers(config: &Config) -> Result<(), Failure> {
    for issuer in &config.oidc {
        issuer.load_keys().map_err(config_failure)?;
    }
    Ok(())
}

/// The issuers with their keys as `serve` keeps them: files loaded (a bad one is a config
/// error), URLs fetched (an unreachable one is logged; its JWTs are refused until a fetch
/// succeeds).
async fn oidc_keys(config: &Config) -> Result<Vec<IssuerKeys>, Failure> {
    let mut out = Vec::with_capacity(config.oidc.len());
    for configured in &config.oidc {
        let issuer = configured.issuer.clone();
        let keys = match (
            configured.load_keys().map_err(config_failure)?,
            &configured.jwks,
        ) {
            (Some(keys), _) => IssuerKeys::fixed(issuer, keys),
            (None, JwksSource::Url { url, ca_file }) => {
                IssuerKeys::remote(issuer, url.clone(), ca_file.clone()).await
            }
            (None, JwksSource::File(_)) => continue,
        };
        out.push(keys);
    }
    Ok(out)
}

/// How often addresses whose failure budget has refilled are forgotten.
const THROTTLE_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// How long shutdown waits for an expiry notice under way.
const NOTICE_STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

pub async fn serve(config: Config) -> Result<(), Failure> {
    let tls = tls_acceptor(&config)?;
    let store = store::open(config.store.url.expose()).await.map_err(|e| {
        Failure::refused(format!(
            "cannot open store {}: {e}",
            config.store.redacted_url
        ))
    })?;
    let notifier =
        crate::notify::Notifier::new(&config.notify, Arc::clone(&store)).map_err(config_failure)?;
    let issuers = oidc_keys(&config).await?;
    let mut authn = Authenticator::new(store, config.store.outage_grace);
    authn.enable_oidc(issuers);
    let authn = Arc::new(authn);
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
    let listen = config.server.listen;
    let listeners = server::bind(listen, config.server.workers)
        .map_err(|e| Failure::refused(format!("cannot listen on {listen}: {e}")))?;
    let shared = server::Shared {
        gate,
        tls,
        admission: Admission::new(
            config.limits.max_connections,
            config.limits.max_connections_per_client,
        ),
        limits: config.limits.clone(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let notices = notifier.map(|notifier| tokio::spawn(notifier.run(stopped.clone())));
    let workers = server::start_workers(&shared, listeners, &stopped)
        .map_err(|e| Failure::refused(format!("cannot start the worker threads: {e}")))?;
    tracing::info!(
        listen = %listen,
        tls = shared.tls.is_some(),
        workers = workers.len(),
        routes = config.routes.len(),
        store = %config.store.redacted_url,
        "vcsgate serving"
    );
    drop(shared);
    server::shutdown_signal().await;
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    let _ = stop.send(true);
    let joined = tokio::task::spawn_blocking(move || {
        for worker in workers {
            let _ = worker.join();
        }
    });
    let _ = joined.await;
    tracing::info!("all connections closed");
    if let Some(mut notices) = notices {
        // A delivery under way finishes (and is recorded) unless it takes too long.
        if tokio::time::timeout(NOTICE_STOP_GRACE, &mut notices)
            .await
            .is_err()
        {
            notices.abort();
        }
    }
    feed_task.abort();
    sweeper.abort();
    authn.flush_last_used().await;
    Ok(())
}
