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
use super::{framing, refcheck, settle};
use crate::access;
use crate::admin::metrics::Metrics;
use crate::authn::{Attempt, AuthError, Authenticator, KnownToken, Subject, oidc};
use crate::authorize::Presented;
use crate::classify::git::GitOp;
use crate::classify::{Classified, Operation};
use crate::config::{Config, Limits, LogFormat, PagesConfig};
use crate::credentials::CredentialForm;
use crate::manage::TokenPolicy;
use crate::names::UserName;
use crate::refs::{Protection, RewindCheck};
use crate::repo::RepoPath;
use crate::router::Router;
use crate::secret::Secret;
use crate::store::UserAccess;
use crate::throttle::{self, Throttle, ThrottleConfig, TrustedProxies};
use crate::token::TokenHash;
use crate::vocabulary::Access;
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
    /// client's first) never counts and is decided as `anonymous`; a store lookup takes its
    /// unit of the client's budget before it runs, so requests in flight together cannot
    /// exceed the budget. `url_token` is the `?auth_token=` value the path accepted (never
    /// together with an `Authorization` header: refused before).
    pub(super) async fn authenticate(
        &self,
        headers: &http::HeaderMap,
        url_token: Option<Secret>,
        peer: SocketAddr,
        now: i64,
    ) -> Result<Subject, Rejection> {
        let client_ip = throttle::client_ip(
            peer.ip(),
            headers.get_all(X_FORWARDED_FOR).iter(),
            &self.trusted_proxies,
        );
        let client = throttle::ClientKey::of(client_ip);
        let (presented, form) = match (credentials::presented(headers), url_token) {
            (Ok(Some(presented)), None) => presented,
            (Ok(None), Some(token)) => (token, CredentialForm::Url),
            (Ok(None), None) => {
                let anonymous = self.standing(&UserName::anonymous()).await?;
                return Ok(Subject::Anonymous(anonymous));
            }
            (Ok(Some(_)), Some(_)) => return Err(access::UrlTokenRefusal::Both.into()),
            (Err(error), _) => return Err(self.failed(client, error.into())),
        };
        let throttled = |t: throttle::Throttled| Rejection::Throttled {
            retry_after_secs: t.retry_after_secs,
        };
        if oidc::looks_like_jwt(presented.expose()) {
            // A JWT is a header credential only (never in a URL).
            if form == CredentialForm::Url {
                return Err(self.failed(client, AuthError::Unknown));
            }
            // Like a remembered token, a JWT verified before is never throttled.
            let verified = match self.authn.remembered_jwt(&presented, now) {
                Ok(Some(verified)) => verified,
                Ok(None) => {
                    self.throttle.check(client).map_err(throttled)?;
                    match self.authn.verify_jwt(&presented, now).await {
                        Ok(verified) => verified,
                        Err(error) => return Err(self.failed(client, error)),
                    }
                }
                Err(error) => return Err(self.failed(client, error)),
            };
            let user = self.standing(&verified.user).await?;
            return Ok(Subject::Oidc {
                verified,
                user,
                form,
            });
        }
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
        Ok(Subject::Token { known, form })
    }

    /// A user's standing (`anonymous`, or the user a JWT acts as): from memory, or one store
    /// lookup on the control runtime.
    async fn standing(&self, name: &UserName) -> Result<Arc<UserAccess>, AuthError> {
        if let Some(user) = self.authn.standing_remembered(name)? {
            return Ok(user);
        }
        let Some(control) = &self.control else {
            return self.authn.look_up_standing(name).await;
        };
        let authn = Arc::clone(&self.authn);
        let name = name.clone();
        control
            .spawn(async move { authn.look_up_standing(&name).await })
            .await
            .unwrap_or(Err(AuthError::StoreUnavailable))
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

    /// Ref rules on a push (`refcheck`, for `git-receive-pack` requests only).
    async fn check_refs(
        &self,
        route: &ServedRoute,
        pusher: refcheck::Pusher<'_>,
        repo: &RepoPath,
        (headers, body): (&http::HeaderMap, Body),
    ) -> Result<(Body, Vec<RewindCheck>), Rejection> {
        let protections = self.protections().await?;
        let enforcement = match route.is_builtin() {
            true => refcheck::Enforcement::Builtin,
            false => refcheck::Enforcement::Url,
        };
        let limit = self.body_prefix_limit;
        refcheck::check(
            pusher,
            repo,
            &protections,
            (headers, body),
            limit,
            enforcement,
        )
        .await
    }

    /// Every protected-ref rule, read from the store for each push (on the control
    /// runtime, like token lookups): a change is enforced on the next push.
    async fn protections(&self) -> Result<Vec<Protection>, Rejection> {
        let store = Arc::clone(self.authn.store());
        let read = async move { store.list_protections().await };
        let listed = match &self.control {
            Some(control) => control.spawn(read).await.ok(),
            None => Some(read.await),
        };
        match listed {
            Some(Ok(protections)) => Ok(protections),
            Some(Err(error)) => {
                tracing::error!(%error, "cannot read protected refs");
                Err(AuthError::StoreUnavailable.into())
            }
            None => Err(AuthError::StoreUnavailable.into()),
        }
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
        let mut canonical = canon::canonicalise(&parts.method, &parts.uri, &parts.headers)?;
        // Out of the query before anything else reads it: never classified, forwarded, logged.
        let url_token = canonical.take_auth_token()?;
        if canonical.segments.first().map(String::as_str) == Some(RESERVED_SEGMENT) {
            if url_token.is_some() {
                return Err(access::UrlTokenRefusal::NotAccepted.into());
            }
            return Ok(self
                .reserved(parts, body, (&canonical, sso_user), peer, record)
                .await);
        }
        let (route, depth) = self
            .router
            .find(&canonical.segments)
            .ok_or(Rejection::NoRoute)?;
        record.routed(route.config(), route.label());
        let classified = route.classify(&canonical, depth, &parts.headers)?;
        let repo = route.repo_path(classified.repo())?;
        framing::check_body(&parts.method, route.config().kind, &body.size_hint())?;
        let below = &canonical.segments[depth.min(canonical.segments.len())..];
        let area = access::area(&route.config().paths, &parts.method, below, &classified);
        let authorization = parts.headers.contains_key(http::header::AUTHORIZATION);
        access::check_url_token(area, url_token.is_some(), authorization)?;
        let now = unix_now();
        let subject = self
            .authenticate(&parts.headers, url_token, peer, now)
            .await?;
        record.authenticated(&subject);
        if let (Subject::Anonymous(user), Classified::NeedsBody { .. }) = (&subject, &classified) {
            // No body is read for anonymous unless it may read the repository at all.
            authorize::authorize_anonymous(user, Access::Read, &repo)?;
        }
        // The repository is decided from the head; settling only decides the operation.
        let (verdict, body) = settle::settle(classified, body, self.body_prefix_limit).await?;
        record.decided(&repo, verdict.operation);
        match &subject {
            Subject::Token { known, form } => {
                let presented = Presented {
                    area,
                    by_url: *form == CredentialForm::Url,
                };
                let principal = &known.principal;
                authorize::authorize_presented(principal, verdict.access(), &repo, presented, now)?;
            }
            Subject::Anonymous(user) => {
                authorize::authorize_anonymous(user, verdict.access(), &repo)?;
            }
            Subject::Oidc { verified, user, .. } => {
                authorize::authorize_oidc(user, &verified.allowed, verdict.access(), &repo)?;
            }
        }
        let is_push = verdict.operation == Operation::Git(GitOp::ReceivePack);
        let pusher = match &subject {
            _ if !is_push => None,
            Subject::Token { known, .. } => Some(refcheck::Pusher::of(&known.principal)),
            Subject::Oidc { user, .. } => Some(refcheck::Pusher::oidc(user)),
            // Anonymous never writes (refused above).
            Subject::Anonymous(_) => None,
        };
        let (body, no_rewind) = match pusher {
            Some(pusher) => {
                self.check_refs(route, pusher, &repo, (&parts.headers, body))
                    .await?
            }
            None => (body, Vec::new()),
        };
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
            user: subject.user(),
            no_rewind: &no_rewind,
        };
        route.forward(&decided, &client, parts, body).await
    }
}
