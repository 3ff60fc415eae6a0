//! The shared state of a running server — routes with their backends, the authenticator —
//! and the request handler, which reads as the lifecycle in `lib.rs`: canonicalise → route
//! → classify the head → authenticate → settle the body → authorize → forward.

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response};

use super::body::Body;
use super::log::AccessRecord;
use super::rejection::{self, Rejection};
use super::route::RouteRuntime;
use super::settle;
use crate::authn::{AuthError, Authenticator};
use crate::config::Config;
use crate::route::Router;
use crate::{authorize, canon, credentials};

/// Everything a request needs, shared by all connections.
#[derive(Debug)]
pub struct Gate {
    router: Router<RouteRuntime>,
    authn: Arc<Authenticator>,
    realm: String,
    tls: bool,
    body_prefix_limit: usize,
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl Gate {
    pub fn new(config: &Config, authn: Arc<Authenticator>) -> Result<Self, super::route::Error> {
        let routes = config
            .routes
            .iter()
            .map(|route| {
                Ok((
                    route.prefix_segments.clone(),
                    RouteRuntime::new(route, &config.limits)?,
                ))
            })
            .collect::<Result<Vec<_>, super::route::Error>>()?;
        Ok(Gate {
            router: Router::new(routes),
            authn,
            realm: config.server.realm.clone(),
            tls: config.server.tls.is_some(),
            body_prefix_limit: config.limits.body_prefix_bytes,
        })
    }

    pub fn authn(&self) -> &Arc<Authenticator> {
        &self.authn
    }

    /// Handles one request; never fails (refusals become responses).
    pub async fn handle(&self, request: Request<Body>, peer: SocketAddr) -> Response<Body> {
        let method = request.method().clone();
        let mut record =
            AccessRecord::start(peer, &method, request.version(), request.uri().path());
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
        canon::strip_untrusted_headers(&mut parts.headers);
        let canonical = canon::canonicalise(&parts.method, &parts.uri, &parts.headers)?;
        let (route, depth) = self
            .router
            .find(&canonical.segments)
            .ok_or(Rejection::NoRoute)?;
        record.routed(route.config());
        let classified = route.classify(&canonical, depth, &parts.headers)?;
        let presented = credentials::presented_token(&parts.headers)
            .map_err(AuthError::from)?
            .ok_or(AuthError::Missing)?;
        let now = unix_now();
        let known = self.authn.authenticate(&presented, now).await?;
        record.authenticated(&known.principal);
        let (verdict, body) = settle::settle(classified, body, self.body_prefix_limit).await?;
        let repo = route.repo_path(&verdict.repo)?;
        record.decided(&repo, verdict.operation);
        authorize::authorize(&known.principal, verdict.access(), &repo, now)?;
        route
            .forward(super::route::Forward {
                parts,
                canonical: &canonical,
                depth,
                body,
                user: &known.principal.user.name,
                access: verdict.access(),
                peer,
                tls: self.tls,
            })
            .await
    }
}
