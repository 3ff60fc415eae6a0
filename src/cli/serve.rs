//! `serve`: open the store, start following its change feed, bind, and serve until SIGTERM;
//! SIGHUP reloads the config ([`reload`]).

use std::sync::Arc;

use super::Failure;
use crate::admin::metrics::{Metrics, ReasonLabels};
use crate::authn::oidc::IssuerKeys;
use crate::authn::{Authenticator, ChangeFeed};
use crate::config::oidc::JwksSource;
use crate::config::{self, Config};
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
    // First: SIGHUP's default action ends the process.
    let mut hangup = hangup_signal();
    let tls = tls_acceptor(&config)?;
    let store = store::open(config.store.url.expose()).await.map_err(|e| {
        Failure::refused(format!(
            "cannot open store {}: {e}",
            config.store.redacted_url
        ))
    })?;
    let metrics = Arc::new(Metrics::new());
    let notifier = crate::notify::Notifier::new(&config.notify, Arc::clone(&store))
        .map_err(config_failure)?
        .map(|notifier| notifier.with_metrics(Arc::clone(&metrics)));
    let issuers = oidc_keys(&config).await?;
    let mut authn = Authenticator::new(store, config.store.outage_grace);
    authn.enable_oidc(issuers);
    let authn = Arc::new(authn);
    let listen_url = config
        .store
        .notifications
        .then(|| config.store.url.expose());
    let feed = ChangeFeed::start(Arc::clone(&authn), listen_url, Arc::clone(&metrics))
        .await
        .map_err(|e| Failure::refused(format!("cannot read the change feed: {e}")))?;
    let feed_task = tokio::spawn(feed.run());
    let gate = Gate::new(&config, Arc::clone(&authn), metrics).map_err(config_failure)?;
    let gate: server::CurrentGate = Arc::new(arc_swap::ArcSwap::from_pointee(gate));
    let current = Arc::clone(&gate);
    let sweeper = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(THROTTLE_SWEEP_INTERVAL);
        loop {
            ticker.tick().await;
            current.load().throttle().sweep();
        }
    });
    let admin_task = match &config.admin {
        None => None,
        Some(admin) => {
            let listener = crate::admin::bind(admin.listen).await.map_err(|e| {
                Failure::refused(format!("cannot listen on {} (admin): {e}", admin.listen))
            })?;
            tracing::info!(listen = %admin.listen, "admin listener: /metrics /healthz /readyz");
            Some(tokio::spawn(crate::admin::serve(
                listener,
                Arc::clone(&gate),
            )))
        }
    };
    let listen = config.server.listen;
    let listeners = server::bind(listen, config.server.workers)
        .map_err(|e| Failure::refused(format!("cannot listen on {listen}: {e}")))?;
    let shared = server::Shared {
        gate: Arc::clone(&gate),
        tls,
        admission: Admission::new(
            config.limits.max_connections,
            config.limits.max_connections_per_client,
        ),
        limits: config.limits.clone(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut notices = notifier.map(Notices::start);
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
    let mut config = config;
    let shutdown = server::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(()) = hangup.recv() => {
                if let Some((reloaded, notifier)) = reload(&config, &gate) {
                    config = reloaded;
                    // The notifier of the new [notify] settings takes over; the old one
                    // finishes a delivery under way (claims keep both from sending one
                    // notice twice).
                    if let Some(old) = notices.take() {
                        tokio::spawn(old.stop());
                    }
                    notices = notifier.map(Notices::start);
                }
            }
        }
    }
    tracing::info!("shutting down: no new connections; waiting for in-flight requests");
    let _ = stop.send(true);
    let joined = tokio::task::spawn_blocking(move || {
        for worker in workers {
            let _ = worker.join();
        }
    });
    let _ = joined.await;
    tracing::info!("all connections closed");
    if let Some(notices) = notices {
        notices.stop().await;
    }
    feed_task.abort();
    sweeper.abort();
    if let Some(admin) = admin_task {
        admin.abort();
    }
    authn.flush_last_used().await;
    Ok(())
}

/// The running expiry-notice task and its own stop switch.
struct Notices {
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Notices {
    fn start(notifier: crate::notify::Notifier) -> Self {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        Notices {
            task: tokio::spawn(notifier.run(stopped)),
            stop,
        }
    }

    /// Stops it: a delivery under way finishes (and is recorded) unless it takes too long.
    async fn stop(self) {
        let Notices { mut task, stop } = self;
        let _ = stop.send(true);
        if tokio::time::timeout(NOTICE_STOP_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// A channel that yields once per SIGHUP (never on other platforms or when the handler
/// cannot be installed).
fn hangup_signal() -> tokio::sync::mpsc::Receiver<()> {
    let (send, receive) = tokio::sync::mpsc::channel(1);
    #[cfg(unix)]
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut signal) => {
            tokio::spawn(async move {
                while signal.recv().await.is_some() {
                    let _ = send.try_send(());
                }
            });
        }
        Err(error) => tracing::warn!(%error, "cannot handle SIGHUP: reload needs a restart"),
    }
    #[cfg(not(unix))]
    drop(send);
    receive
}

/// Re-reads the config file on SIGHUP. A file `check-config` would refuse (or whose
/// `[notify]` channels cannot be set up) is refused with the same message and the running
/// config stays; otherwise new requests get a gate built from the new file (routes,
/// limits, throttle, tokens, pages), while requests in flight finish with the gate they
/// started with. Settings that need a restart are named in the log and keep their running
/// value. Returns the config now in force and the notifier for its `[notify]` settings.
fn reload(
    running: &Config,
    gate: &server::CurrentGate,
) -> Option<(Config, Option<crate::notify::Notifier>)> {
    let metrics = Arc::clone(gate.load().metrics());
    let count = |reason: &'static str| {
        metrics
            .reloads
            .get_or_create(&ReasonLabels { reason })
            .inc();
    };
    let loaded = config::load(&running.path)
        .map_err(|e| Failure::config(&e))
        .and_then(|new| check_files(&new).map(|()| new));
    let new = match loaded {
        Ok(new) => new,
        Err(failure) => {
            tracing::error!(error = %failure.message, "reload refused; the running config stays");
            count("refused");
            return None;
        }
    };
    let current = gate.load_full();
    let built = current
        .reloaded(&new)
        .map_err(|e| e.to_string())
        .and_then(|next| {
            let store = Arc::clone(current.authn().store());
            crate::notify::Notifier::new(&new.notify, store)
                .map(|notifier| (next, notifier))
                .map_err(|e| e.to_string())
        });
    let (next, notifier) = match built {
        Ok(built) => built,
        Err(error) => {
            tracing::error!(%error, "reload refused; the running config stays");
            count("refused");
            return None;
        }
    };
    let notifier = notifier.map(|n| n.with_metrics(Arc::clone(current.metrics())));
    for key in restart_keys(running, &new) {
        tracing::warn!(
            key,
            "changed in the config file: takes effect only after a restart"
        );
    }
    gate.store(Arc::new(next));
    count("applied");
    tracing::info!(routes = new.routes.len(), "config reloaded");
    Some((new, notifier))
}

/// The keys whose change a reload cannot apply.
fn restart_keys(running: &Config, new: &Config) -> Vec<&'static str> {
    let mut keys = Vec::new();
    let mut differ = |key: &'static str, changed: bool| {
        if changed {
            keys.push(key);
        }
    };
    differ("server.listen", running.server.listen != new.server.listen);
    differ(
        "server.workers",
        running.server.workers != new.server.workers,
    );
    differ(
        "server.tls",
        running.server.tls.as_ref().map(|t| (&t.cert, &t.key))
            != new.server.tls.as_ref().map(|t| (&t.cert, &t.key)),
    );
    differ(
        "store.url",
        running.store.url.expose() != new.store.url.expose(),
    );
    differ(
        "store.notifications",
        running.store.notifications != new.store.notifications,
    );
    differ(
        "store.outage_grace_secs",
        running.store.outage_grace != new.store.outage_grace,
    );
    differ("admin.listen", running.admin != new.admin);
    differ("log.format", running.log_format != new.log_format);
    differ(
        "limits.max_connections",
        running.limits.max_connections != new.limits.max_connections
            || running.limits.max_connections_per_client != new.limits.max_connections_per_client,
    );
    differ(
        "limits.shutdown_grace_secs",
        running.limits.shutdown_grace != new.limits.shutdown_grace,
    );
    keys
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const BASE: &str = r#"
version = 1
[server]
listen = "127.0.0.1:8080"
[store]
url = "sqlite://x.db"
[[route]]
prefix = "/git"
kind = "git"
backend = "http://127.0.0.1:8081/git"
"#;

    fn parse(text: &str) -> Config {
        config::parse(text, std::path::Path::new("/etc/vcsgate/proxy.toml")).unwrap()
    }

    #[test]
    fn reload_names_what_needs_a_restart_and_nothing_else() {
        let running = parse(BASE);
        let routes = format!(
            "{BASE}\n[[route]]\nprefix = \"/hg\"\nkind = \"hg\"\nbackend = \"http://127.0.0.1:8000\"\n[limits]\nheader_timeout_secs = 5\n"
        );
        assert!(restart_keys(&running, &parse(&routes)).is_empty());
        let moved = BASE
            .replace("127.0.0.1:8080", "127.0.0.1:8090")
            .replace("x.db", "y.db");
        let moved = format!("{moved}\n[log]\nformat = \"json\"\n");
        assert_eq!(
            restart_keys(&running, &parse(&moved)),
            ["server.listen", "store.url", "log.format"]
        );
    }
}
