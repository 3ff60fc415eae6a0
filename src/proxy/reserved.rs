//! What vcsgate serves itself under `/-/` (never a backend): the API at `/-/api/v1/…`.
//! Authentication and throttling are the gate's, as for VCS requests; the call itself runs
//! on the control runtime, where the store lives.

use std::net::SocketAddr;
use std::sync::Arc;

use http::request::Parts;
use http::{Response, StatusCode};

use super::body::Body;
use super::gate::{Gate, unix_now};
use super::log::AccessRecord;
use super::rejection::{self, Rejection};
use crate::api::calls::{self, Call, Caller, Context, Reply};
use crate::api::{self, ApiError, input, routes};
use crate::authn::KnownToken;
use crate::canon::CanonicalRequest;
use crate::throttle;
use crate::vocabulary::Scope;

/// The route label of API requests in the access log and the metrics.
const API_ROUTE: &str = "/-/api/v1";

/// Why an API request got no answer from its endpoint.
enum Refused {
    /// Refused by the gate (credentials, throttling, the store): its status and headers.
    Gate(Rejection),
    Api(ApiError),
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Refused::Api(error)
    }
}

impl Gate {
    /// Answers a request for a path under `/-/`.
    pub(super) async fn reserved(
        &self,
        parts: Parts,
        body: Body,
        canonical: &CanonicalRequest,
        peer: SocketAddr,
        record: &mut AccessRecord,
    ) -> Response<Body> {
        let below = canonical.segments.get(api::PREFIX.len()..);
        let is_api = canonical
            .segments
            .starts_with(&api::PREFIX.map(str::to_owned));
        let (true, Some(below)) = (is_api, below) else {
            return api::error_response(&ApiError::not_found("nothing is served here"));
        };
        record.served_here(API_ROUTE);
        match self.api(parts, body, canonical, below, peer, record).await {
            Ok(reply) => api::json_response(reply.status, reply.body.as_ref()),
            Err(Refused::Api(error)) => api::error_response(&error),
            Err(Refused::Gate(rejection)) => {
                record.rejected(&rejection);
                rejection::respond_json(&rejection, self.realm())
            }
        }
    }

    async fn api(
        &self,
        parts: Parts,
        body: Body,
        canonical: &CanonicalRequest,
        below: &[String],
        peer: SocketAddr,
        record: &mut AccessRecord,
    ) -> Result<Reply, Refused> {
        let endpoint = routes::find(&parts.method, below)?;
        let now = unix_now();
        let known = self
            .authenticate(&parts.headers, peer, now)
            .await
            .map_err(Refused::Gate)?;
        record.authenticated(&known.principal);
        require_api_scope(&known)?;
        if let Some(key) = canonical.query.first_key_outside(endpoint.query_keys()) {
            return Err(ApiError::bad_request(format!("unknown query parameter {key:?}")).into());
        }
        let body = match endpoint.body() {
            Some(_) => input::read(body).await?,
            None => bytes::Bytes::new(),
        };
        let client = throttle::client_ip(
            peer.ip(),
            parts.headers.get_all("x-forwarded-for").iter(),
            self.trusted_proxies(),
        );
        let call = Call {
            endpoint,
            query: canonical.query.clone(),
            body,
            json: input::is_json(&parts.headers),
        };
        let ctx = Context {
            store: Arc::clone(self.authn().store()),
            policy: self.token_policy(),
            now,
        };
        let caller = Caller {
            token: known.principal.token.clone(),
            client: Some(client.to_string()),
        };
        let run = calls::execute(ctx, caller, call);
        let answer = match self.control() {
            Some(control) => control.spawn(run).await.unwrap_or_else(|_| {
                Err(ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error (logged)",
                ))
            }),
            None => run.await,
        };
        let reply = answer?;
        if let Some(user) = &reply.changed {
            self.authn().evict_users(std::slice::from_ref(user));
        }
        Ok(reply)
    }
}

/// A token without the `api` scope authenticates nothing here: 403 naming the scope.
fn require_api_scope(known: &KnownToken) -> Result<(), ApiError> {
    let token = &known.principal.token;
    if token.scopes.contains(Scope::Api) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "token \"{}\" of {} lacks the {} scope the API needs",
        token.name,
        token.user,
        Scope::Api
    )))
}
