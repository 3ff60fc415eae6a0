//! What vcsgate serves itself under `/-/` (never a backend): the API at `/-/api/v1/…` and
//! the pages everywhere else. Authentication and throttling are the gate's, as for VCS
//! requests (a pasted token, a used-up sign-in link count like failed tokens); the work
//! itself runs on the control runtime, where the store lives.

use std::net::SocketAddr;
use std::sync::Arc;

use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode};

use super::body::{self, Body};
use super::gate::{Gate, unix_now};
use super::log::AccessRecord;
use super::rejection::{self, Rejection};
use crate::api::calls::{self, Call, Caller, Context, Reply};
use crate::api::{self, ApiError, input, routes};
use crate::authn::{AuthError, KnownToken, Subject};
use crate::canon::CanonicalRequest;
use crate::names::UserName;
use crate::pages::{self, Form, form};
use crate::secret::Secret;
use crate::throttle;
use crate::vocabulary::Scope;

/// The route label of API requests in the access log and the metrics.
const API_ROUTE: &str = "/-/api/v1";
/// The route label of the pages (everything else under `/-/`).
const PAGES_ROUTE: &str = "/-";

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
        (canonical, sso_user): (&CanonicalRequest, Option<UserName>),
        peer: SocketAddr,
        record: &mut AccessRecord,
    ) -> Response<Body> {
        let below = canonical.segments.get(api::PREFIX.len()..);
        let is_api = canonical
            .segments
            .starts_with(&api::PREFIX.map(str::to_owned));
        let (true, Some(below)) = (is_api, below) else {
            record.served_here(PAGES_ROUTE);
            return self.page(parts, body, (canonical, sso_user), peer).await;
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
        let (known, subject) = self
            .authenticate_token(&parts.headers, peer, now)
            .await
            .map_err(Refused::Gate)?;
        record.authenticated(&subject);
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
            parts.headers.get_all(X_FORWARDED_FOR).iter(),
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

impl Gate {
    /// Answers a page request.
    async fn page(
        &self,
        parts: Parts,
        body: Body,
        (canonical, header_user): (&CanonicalRequest, Option<UserName>),
        peer: SocketAddr,
    ) -> Response<Body> {
        let secure = self.is_tls();
        let client_ip = throttle::client_ip(
            peer.ip(),
            parts.headers.get_all(X_FORWARDED_FOR).iter(),
            self.trusted_proxies(),
        );
        let client = throttle::ClientKey::of(client_ip);
        let path: Vec<String> = canonical.segments[1..].to_vec();
        let post = parts.method == Method::POST;
        let form = if post {
            match read_form(&parts.headers, body).await {
                Ok(form) => form,
                Err((status, text)) => return page_response(plain_page(status, text)),
            }
        } else {
            Form::default()
        };
        let signing_in = post && path.first().is_some_and(|p| p == "sign-in");
        if signing_in && self.throttle().check(client).is_err() {
            let text = "Too many failed sign-ins from your address; wait a minute and try again.";
            return page_response(plain_page(StatusCode::TOO_MANY_REQUESTS, text));
        }
        let pasted_token = match (signing_in && path.len() == 1, form.get("token")) {
            (true, Some(token)) if !token.trim().is_empty() => {
                Some(self.pasted_token(&parts.headers, token.trim(), peer).await)
            }
            _ => None,
        };
        let cookies = cookie_header(&parts.headers);
        let request = pages::Request {
            method: parts.method.clone(),
            path,
            query: canonical.query.clone(),
            session: form::cookie(&cookies, pages::SESSION_COOKIE)
                .map(|v| Secret::new(v.to_owned())),
            sign_in_csrf: form::cookie(&cookies, pages::SIGN_IN_COOKIE).map(str::to_owned),
            form,
            client: client_ip.to_string(),
            secure,
            header_user,
            pasted_token,
        };
        let ctx = pages::Context {
            store: Arc::clone(self.authn().store()),
            policy: self.token_policy(),
            now: unix_now(),
        };
        let run = pages::handle(ctx, request);
        let page = match self.control() {
            Some(control) => match control.spawn(run).await {
                Ok(page) => page,
                Err(_) => plain_page(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong."),
            },
            None => run.await,
        };
        if page.failed_sign_in {
            self.throttle().record_failure(client);
        }
        if let Some(user) = &page.changed {
            self.authn().evict_users(std::slice::from_ref(user));
        }
        page_response(page)
    }

    /// Authenticates the `Authorization` header of an API request or a pasted token: only a
    /// vcsgate token will do (no credentials, or a CI job's JWT, are refused as such).
    async fn authenticate_token(
        &self,
        headers: &http::HeaderMap,
        peer: SocketAddr,
        now: i64,
    ) -> Result<(Arc<KnownToken>, Subject), Rejection> {
        match self.authenticate(headers, None, peer, now).await? {
            Subject::Token { known, form } => {
                let subject = Subject::Token {
                    known: Arc::clone(&known),
                    form,
                };
                Ok((known, subject))
            }
            Subject::Anonymous(_) => Err(AuthError::Missing.into()),
            Subject::Oidc { .. } => Err(AuthError::Unknown.into()),
        }
    }

    /// Authenticates a token pasted into the sign-in form exactly as one presented in a
    /// header (throttled, remembered, standing checked): its record, or why not.
    async fn pasted_token(
        &self,
        headers: &http::HeaderMap,
        token: &str,
        peer: SocketAddr,
    ) -> Result<crate::store::TokenInfo, String> {
        let mut presented = http::HeaderMap::new();
        for value in headers.get_all(X_FORWARDED_FOR) {
            presented.append(X_FORWARDED_FOR, value.clone());
        }
        let bearer = http::HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| "That is not an access token.".to_owned())?;
        presented.insert(http::header::AUTHORIZATION, bearer);
        match self.authenticate_token(&presented, peer, unix_now()).await {
            Ok((known, _)) => Ok(known.principal.token.clone()),
            Err(rejection) => Err(match rejection.status() {
                StatusCode::TOO_MANY_REQUESTS => {
                    "Too many failed sign-ins from your address; wait a minute.".to_owned()
                }
                StatusCode::SERVICE_UNAVAILABLE => rejection.message(),
                _ => "That token is unknown, expired or revoked.".to_owned(),
            }),
        }
    }

    /// For a page request: the user a trusted SSO proxy names (only from `[throttle]
    /// trusted_proxies`). Read before the identity headers are stripped.
    pub(super) fn sso_user(&self, parts: &Parts, peer: SocketAddr) -> Option<UserName> {
        let name = self.pages_config().trusted_user_header.as_ref()?;
        let path = parts.uri.path();
        if path != "/-" && !path.starts_with("/-/") {
            return None;
        }
        let headers = &parts.headers;
        if !self.trusted_proxies().contains(peer.ip()) {
            return None;
        }
        let mut values = headers.get_all(name).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return None;
        };
        UserName::parse(value.to_str().ok()?.trim()).ok()
    }
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Every `Cookie` header joined (HTTP/2 may split them).
fn cookie_header(headers: &http::HeaderMap) -> String {
    let values: Vec<&str> = headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    values.join("; ")
}

/// A POSTed form: `application/x-www-form-urlencoded`, at most the API's body limit.
async fn read_form(
    headers: &http::HeaderMap,
    body: Body,
) -> Result<Form, (StatusCode, &'static str)> {
    let declared = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !declared {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Forms are sent urlencoded.",
        ));
    }
    let bytes = input::read(body)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large."))?;
    Form::parse(&bytes).map_err(|_| (StatusCode::BAD_REQUEST, "The form is malformed."))
}

fn plain_page(status: StatusCode, text: &str) -> pages::Page {
    pages::Page {
        status,
        content: pages::Content::Html(
            maud::html! {
                (maud::DOCTYPE)
                html lang="en" { head { meta charset="utf-8"; title { "vcsgate" } } body { p { (text) } } }
            }
            .into_string(),
        ),
        cookies: Vec::new(),
        failed_sign_in: false,
        changed: None,
    }
}

/// The HTTP response of a page, with the security headers.
fn page_response(page: pages::Page) -> Response<Body> {
    let (content_type, body, location) = match page.content {
        pages::Content::Html(html) => ("text/html; charset=utf-8", body::full(html), None),
        pages::Content::Redirect(to) => ("text/plain; charset=utf-8", body::empty(), Some(to)),
        pages::Content::Asset(content_type, text) => (content_type, body::full(text), None),
    };
    let mut response = Response::new(body);
    *response.status_mut() = page.status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    for (name, value) in pages::SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Some(to) = location.and_then(|to| HeaderValue::from_str(&to).ok()) {
        headers.insert(http::header::LOCATION, to);
    }
    for cookie in page.cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(http::header::SET_COOKIE, value);
        }
    }
    response
}
