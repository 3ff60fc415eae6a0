//! The shared state of a running server — routes with their backends, the authenticator —
//! and the request handler, which reads as the lifecycle in `lib.rs`: canonicalise → route
//! → classify the head (and check its body framing) → authenticate → settle the body →
//! authorize → forward.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response};
use http_body::Body as _;

use super::body::Body;
use super::headers::ForwardedFor;
use super::log::AccessRecord;
use super::prepare::Decided;
use super::rejection::{self, Rejection};
use super::served::{self, ServedRoute};
use super::{framing, settle};
use crate::admin::metrics::Metrics;
use crate::authn::{Attempt, AuthError, Authenticator, KnownToken};
use crate::config::{Config, Limits, LogFormat, PagesConfig};
use crate::manage::TokenPolicy;
use crate::router::Router;
use crate::throttle::{self, Throttle, ThrottleConfig, TrustedProxies};
use crate::token::TokenHash;
use crate::{authorize, canon, credentials};

const X_FORWARDED_FOR: &str = "x-forwarded-for";
/// The first path segment of everything vcsgate serves itself (`/-/…`, API.md).
pub const RESERVED_SEGMENT: &str = "-";

/// Everything a request needs, shared by all connections.
#[derive(Debug)]
pub struct Gate {
    router: Router<ServedRoute>,
    authn: Arc<Authenticator>,
    metrics: Arc<Metrics>,
    throttle: Arc<Throttle>,
    throttle_quota: ThrottleConfig,
    trusted_proxies: TrustedProxies,
    realm: String,
    tls: bool,
    body_prefix_limit: usize,
    limits: Limits,
    log_format: LogFormat,
    /// The runtime the store was opened on: lookups run there, never on a worker's own
    /// runtime (a PostgreSQL connection belongs to the runtime that opened it).
    control: Option<tokio::runtime::Handle>,
    /// `[tokens]`: what the API applies to tokens it creates and rotates.
    policy: TokenPolicy,
    /// `[pages]`: the trusted SSO header.
    pages: PagesConfig,
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Gate {
    pub fn new(
        config: &Config,
        authn: Arc<Authenticator>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, served::Error> {
        let throttle = Arc::new(Throttle::new(config.throttle.quota));
        Self::build(config, authn, metrics, throttle)
    }

    /// The gate for a reloaded `config`: the same authenticator and metrics, and the same
    /// throttle state unless its settings changed.
    pub fn reloaded(&self, config: &Config) -> Result<Self, served::Error> {
        let throttle = if self.throttle_quota == config.throttle.quota {
            Arc::clone(&self.throttle)
        } else {
            Arc::new(Throttle::new(config.throttle.quota))
        };
        Self::build(
            config,
            Arc::clone(&self.authn),
            Arc::clone(&self.metrics),
            throttle,
        )
    }

    fn build(
        config: &Config,
        authn: Arc<Authenticator>,
        metrics: Arc<Metrics>,
        throttle: Arc<Throttle>,
    ) -> Result<Self, served::Error> {
        let routes = config
            .routes
            .iter()
            .map(|route| {
                Ok((
                    route.prefix_segments.clone(),
                    ServedRoute::new(route, &config.limits)?,
                ))
            })
            .collect::<Result<Vec<_>, served::Error>>()?;
        Ok(Gate {
            router: Router::new(routes),
            authn,
            metrics,
            throttle,
            throttle_quota: config.throttle.quota,
            trusted_proxies: config.throttle.trusted_proxies.clone(),
            realm: config.server.realm.clone(),
            tls: config.server.tls.is_some(),
            body_prefix_limit: config.limits.body_prefix_bytes,
            limits: config.limits.clone(),
            log_format: config.log_format,
            control: tokio::runtime::Handle::try_current().ok(),
            policy: config.tokens,
            pages: config.pages.clone(),
        })
    }

    pub fn authn(&self) -> &Arc<Authenticator> {
        &self.authn
    }

    pub fn throttle(&self) -> &Arc<Throttle> {
        &self.throttle
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The limits this gate's connections are served with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Route prefixes whose backend was tried but has not accepted a connection within
    /// `window` (for `/readyz`).
    pub fn unready_backends(&self, now: i64, window: i64) -> Vec<String> {
        self.router
            .iter()
            .filter(|route| !route.backend_health().is_ready(now, window))
            .map(|route| route.config().prefix.clone())
            .collect()
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }

    pub fn token_policy(&self) -> TokenPolicy {
        self.policy
    }

    pub fn pages_config(&self) -> &PagesConfig {
        &self.pages
    }

    /// Whether clients reach this server over TLS.
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The runtime store work runs on (`None` when the gate runs on it itself).
    pub fn control(&self) -> Option<&tokio::runtime::Handle> {
        self.control.as_ref()
    }

    /// Authenticates, throttling clients that keep presenting invalid credentials. A token
    /// remembered as valid is never throttled; a request without credentials (every
    /// client's first) never counts; a store lookup takes its unit of the client's budget
    /// before it runs, so requests in flight together cannot exceed the budget.
    pub(super) async fn authenticate(
        &self,
        headers: &http::HeaderMap,
        peer: SocketAddr,
        now: i64,
    ) -> Result<Arc<KnownToken>, Rejection> {
        let client_ip = throttle::client_ip(
            peer.ip(),
            headers.get_all(X_FORWARDED_FOR).iter(),
            &self.trusted_proxies,
        );
        let client = throttle::ClientKey::of(client_ip);
        let presented = match credentials::presented_token(headers) {
            Ok(Some(presented)) => presented,
            Ok(None) => return Err(AuthError::Missing.into()),
            Err(error) => return Err(self.failed(client, error.into())),
        };
        let throttled = |t: throttle::Throttled| Rejection::Throttled {
            retry_after_secs: t.retry_after_secs,
        };
        let known = match self.authn.begin(&presented, now) {
            Ok(Attempt::Known(known)) => known,
            Ok(Attempt::Unknown(hash)) => {
                self.throttle.reserve(client).map_err(throttled)?;
                self.look_up(hash, now).await?
            }
            Err(error) => {
                self.throttle.check(client).map_err(throttled)?;
                return Err(self.failed(client, error));
            }
        };
        self.authn.record_use(&known, now, client_ip);
        Ok(known)
    }

    /// A failed authentication: charged to the client when it counts as one.
    fn failed(&self, client: throttle::ClientKey, error: AuthError) -> Rejection {
        if throttle::counts_as_failure(&error) {
            self.throttle.record_failure(client);
        }
        Rejection::Auth(error)
    }

    /// The one store lookup for a well-formed token not in memory, on the control runtime.
    async fn look_up(&self, hash: TokenHash, now: i64) -> Result<Arc<KnownToken>, AuthError> {
        let Some(control) = &self.control else {
            return self.authn.finish(hash, now).await;
        };
        let authn = Arc::clone(&self.authn);
        control
            .spawn(async move { authn.finish(hash, now).await })
            .await
            .unwrap_or(Err(AuthError::StoreUnavailable))
    }

    /// Handles one request; never fails (refusals become responses).
    pub async fn handle(&self, request: Request<Body>, peer: SocketAddr) -> Response<Body> {
        let method = request.method().clone();
        let mut record = AccessRecord::start(
            peer,
            &method,
            request.version(),
            request.uri().path(),
            (self.log_format, Arc::clone(&self.metrics)),
        );
        let request = request.map(|body| record.count_in(body));
        let response = match self.process(request, peer, &mut record).await {
            Ok(response) => response,
            Err(rejection) => {
                record.rejected(&rejection);
                rejection::respond(&rejection, record.vcs(), &method, &self.realm)
            }
        };
        record.finish(response)
    }

    async fn process(
        &self,
        request: Request<Body>,
        peer: SocketAddr,
        record: &mut AccessRecord,
    ) -> Result<Response<Body>, Rejection> {
        let (mut parts, body) = request.into_parts();
        canon::check_request_target(parts.version, &parts.uri)?;
        // Read before the identity headers go: a trusted SSO proxy's user for the pages.
        let sso_user = self.sso_user(&parts, peer);
        canon::strip_untrusted_headers(&mut parts.headers);
        let canonical = canon::canonicalise(&parts.method, &parts.uri, &parts.headers)?;
        if canonical.segments.first().map(String::as_str) == Some(RESERVED_SEGMENT) {
            return Ok(self
                .reserved(parts, body, (&canonical, sso_user), peer, record)
                .await);
        }
        let (route, depth) = self
            .router
            .find(&canonical.segments)
            .ok_or(Rejection::NoRoute)?;
        record.routed(route.config());
        let classified = route.classify(&canonical, depth, &parts.headers)?;
        let repo = route.repo_path(classified.repo())?;
        framing::check_body(&parts.method, route.config().kind, &body.size_hint())?;
        let now = unix_now();
        let known = self.authenticate(&parts.headers, peer, now).await?;
        record.authenticated(&known.principal);
        // The repository is decided from the head; settling only decides the operation.
        let (verdict, body) = settle::settle(classified, body, self.body_prefix_limit).await?;
        record.decided(&repo, verdict.operation);
        authorize::authorize(&known.principal, verdict.access(), &repo, now)?;
        let host = served::client_host(&parts);
        let client = ForwardedFor {
            peer,
            tls: self.tls,
            host: host.as_deref(),
        };
        let decided = Decided {
            canonical: &canonical,
            depth,
            verdict: &verdict,
            user: &known.principal.user.name,
        };
        route.forward(&decided, &client, parts, body).await
    }
}
