//! What one request adds to the metrics: its count and duration when the response head is
//! ready, the reason of a refusal, and its body bytes when the response ends. Labels come
//! from the access record's bounded fields only (route prefix, protocol, operation name,
//! status), never from the repo path, the user or the token.

use std::sync::Arc;

use http::StatusCode;

use super::rejection::Rejection;
use crate::admin::metrics::{
    BackendErrorLabels, BytesLabels, DurationLabels, Metrics, NONE, ReasonLabels, RequestLabels,
};
use crate::authn::AuthError;
use crate::authorize::Denial;

/// The bounded labels of one request.
#[derive(Debug, Clone)]
pub struct Labels {
    pub route: Option<Arc<str>>,
    pub vcs: Option<&'static str>,
    pub operation: Option<&'static str>,
    pub access: Option<&'static str>,
}

impl Labels {
    fn route(&self) -> Arc<str> {
        static UNKNOWN: std::sync::LazyLock<Arc<str>> =
            std::sync::LazyLock::new(|| Arc::from(NONE));
        self.route.clone().unwrap_or_else(|| Arc::clone(&UNKNOWN))
    }
}

/// What a refusal adds to the metrics besides the request count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// `vcsgate_auth_failures_total{reason}`
    Auth(&'static str),
    /// `vcsgate_throttled_total`
    Throttled,
    /// `vcsgate_backend_errors_total{route,kind}`
    Backend(&'static str),
    Other,
}

impl Refused {
    pub fn of(rejection: &Rejection) -> Self {
        match rejection {
            Rejection::Auth(error) => Refused::Auth(auth_reason(error)),
            Rejection::Throttled { .. } => Refused::Throttled,
            rejection => backend_error_kind(rejection).map_or(Refused::Other, Refused::Backend),
        }
    }
}

/// Counts a request whose response head is ready after `elapsed`.
pub fn head(
    metrics: &Metrics,
    labels: &Labels,
    status: StatusCode,
    elapsed: std::time::Duration,
    refused: Option<Refused>,
) {
    let route = labels.route();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            vcs: labels.vcs.unwrap_or(NONE),
            operation: labels.operation.unwrap_or(NONE),
            status: status.as_u16(),
        })
        .inc();
    metrics
        .duration
        .get_or_create(&DurationLabels {
            route: route.clone(),
            vcs: labels.vcs.unwrap_or(NONE),
            access: labels.access.unwrap_or(NONE),
        })
        .observe(elapsed.as_secs_f64());
    match refused {
        Some(Refused::Auth(reason)) => {
            metrics
                .auth_failures
                .get_or_create(&ReasonLabels { reason })
                .inc();
        }
        Some(Refused::Throttled) => {
            metrics.throttled.inc();
        }
        Some(Refused::Backend(kind)) => {
            metrics
                .backend_errors
                .get_or_create(&BackendErrorLabels { route, kind })
                .inc();
        }
        Some(Refused::Other) | None => {}
    }
}

/// Counts a finished request's body bytes.
pub fn bytes(metrics: &Metrics, labels: &Labels, bytes_in: u64, bytes_out: u64) {
    let route = labels.route();
    for (direction, count) in [("in", bytes_in), ("out", bytes_out)] {
        if count > 0 {
            metrics
                .bytes
                .get_or_create(&BytesLabels {
                    route: route.clone(),
                    direction,
                })
                .inc_by(count);
        }
    }
}

/// The `reason` label of a refused authentication.
pub fn auth_reason(error: &AuthError) -> &'static str {
    match error {
        AuthError::Missing => "missing",
        AuthError::Credentials(_) | AuthError::Format(_) => "malformed",
        AuthError::Unknown => "unknown",
        AuthError::Standing(Denial::Revoked) => "revoked",
        AuthError::Standing(Denial::Expired) => "expired",
        AuthError::Standing(Denial::UserDisabled) => "user_disabled",
        AuthError::Standing(
            Denial::MissingScope { .. }
            | Denial::NoGrant { .. }
            | Denial::OutsideTokenRepos { .. }
            | Denial::OutsideOidcRules { .. }
            | Denial::Anonymous { .. },
        ) => "denied",
        AuthError::StoreUnavailable => "store_unavailable",
        AuthError::Oidc(_) => "oidc_refused",
    }
}

/// The `kind` label of a backend failure, or `None` for every other refusal.
fn backend_error_kind(rejection: &Rejection) -> Option<&'static str> {
    match rejection {
        Rejection::BackendUnreachable => Some("unreachable"),
        Rejection::BackendFailed => Some("failed"),
        Rejection::BackendTimeout => Some("timeout"),
        Rejection::Canon(_)
        | Rejection::NoRoute
        | Rejection::NotRepository
        | Rejection::Classify(_)
        | Rejection::Repo(_)
        | Rejection::Framing(_)
        | Rejection::Auth(_)
        | Rejection::Denied(_)
        | Rejection::Throttled { .. }
        | Rejection::BodyTooLarge { .. }
        | Rejection::BodyRead
        | Rejection::UrlToken(_)
        | Rejection::PushRefused(_) => None,
    }
}
