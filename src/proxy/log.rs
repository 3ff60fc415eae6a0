//! The access log: one structured line per request, written when the response body has
//! been sent (or abandoned), with client address, route, repo path, operation, user, token
//! name, the credential form (`basic`, `bearer`, `url`, `anonymous`), an OIDC identity's
//! `jti` and `sub`, status, bytes and duration. It never holds a secret: no header values, no query
//! string.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use http::{Method, Response, StatusCode};
use http_body::Body as _;
use http_body_util::BodyExt;

use super::body::{Body, Observed, Observer};
use super::measure::{self, Labels, Refused};
use super::rejection::Rejection;
use crate::admin::metrics::Metrics;
use crate::authn::Subject;
use crate::classify::Operation;
use crate::config::{LogFormat, RouteConfig};
use crate::credentials::CredentialForm;
use crate::repo::RepoPath;
use crate::vocabulary::Vcs;

/// What is known about a request so far.
#[derive(Debug)]
pub struct AccessRecord {
    started: Instant,
    peer: SocketAddr,
    /// `None` when the method is not of R4's shape (it could be anything a client typed).
    method: Option<Method>,
    version: http::Version,
    path: String,
    vcs: Option<Vcs>,
    route: Option<Arc<str>>,
    repo: Option<String>,
    operation: Option<&'static str>,
    user: Option<String>,
    token: Option<String>,
    credential: Option<CredentialForm>,
    /// An OIDC identity's `jti` and `sub` claims (printable ASCII only, bounded).
    jti: Option<String>,
    sub: Option<String>,
    refusal: Option<String>,
    refused: Option<Refused>,
    access: Option<&'static str>,
    /// Request body bytes, counted as the body streams to the backend.
    bytes_in: Arc<AtomicU64>,
    format: LogFormat,
    metrics: Arc<Metrics>,
}

/// Counts the request body's bytes into the access record.
pub struct CountIn(Arc<AtomicU64>);

impl Observer for CountIn {
    fn data(&mut self, len: usize) {
        self.0.fetch_add(len as u64, Ordering::Relaxed);
    }

    fn finish(&mut self, _complete: bool) {}
}

/// Longest path kept in a log line.
const MAX_LOGGED_PATH: usize = 512;

impl AccessRecord {
    pub fn start(
        peer: SocketAddr,
        method: &Method,
        version: http::Version,
        path: &str,
        (format, metrics): (LogFormat, Arc<Metrics>),
    ) -> Self {
        let mut path = crate::pages::loggable_path(path).into_owned();
        if path.len() > MAX_LOGGED_PATH {
            let mut cut = MAX_LOGGED_PATH;
            while !path.is_char_boundary(cut) {
                cut -= 1;
            }
            path.truncate(cut);
            path.push('…');
        }
        AccessRecord {
            started: Instant::now(),
            peer,
            method: crate::canon::is_plain_method(method).then(|| method.clone()),
            version,
            path,
            vcs: None,
            route: None,
            repo: None,
            operation: None,
            user: None,
            token: None,
            credential: None,
            jti: None,
            sub: None,
            refusal: None,
            refused: None,
            access: None,
            bytes_in: Arc::new(AtomicU64::new(0)),
            format,
            metrics,
        }
    }

    /// Wraps the request body so that its bytes are counted.
    pub fn count_in(&self, body: Body) -> Body {
        if body.is_end_stream() {
            return body; // nothing to count
        }
        Observed::new(body, CountIn(Arc::clone(&self.bytes_in))).boxed()
    }

    fn labels(&self) -> Labels {
        Labels {
            route: self.route.clone(),
            vcs: self.vcs.map(Vcs::as_str),
            operation: self.operation,
            access: self.access,
        }
    }

    pub fn vcs(&self) -> Option<Vcs> {
        self.vcs
    }

    /// The request matched a route (`label`: its prefix, shared by every request).
    pub fn routed(&mut self, route: &RouteConfig, label: &Arc<str>) {
        self.vcs = Some(route.kind);
        self.route = Some(Arc::clone(label));
    }

    pub fn authenticated(&mut self, subject: &Subject) {
        self.user = Some(subject.user().to_string());
        self.credential = Some(subject.form());
        match subject {
            Subject::Token { known, .. } => {
                self.token = Some(known.principal.token.name.to_string());
            }
            Subject::Oidc { verified, .. } => {
                self.token = Some("oidc".to_owned());
                self.jti = verified.jti.as_deref().map(claim_text);
                self.sub = verified.sub.as_deref().map(claim_text);
            }
            Subject::Anonymous(_) => {}
        }
    }

    pub fn decided(&mut self, repo: &RepoPath, operation: Operation) {
        self.repo = Some(repo.to_string());
        self.operation = Some(operation.name());
        self.access = Some(operation.access().as_str());
    }

    pub fn rejected(&mut self, rejection: &Rejection) {
        self.refusal = Some(rejection.message());
        self.refused = Some(Refused::of(rejection));
    }

    /// A request for something vcsgate serves itself (the API under `/-/api`): `prefix`
    /// stands in for the route in the log and the metrics.
    pub fn served_here(&mut self, prefix: &str) {
        self.route = Some(Arc::from(prefix));
    }

    /// Counts the request in the metrics now that its response head is ready, and wraps the
    /// response body so the line is written (and the bytes counted) when the body is done.
    pub fn finish(self, response: Response<Body>) -> Response<Body> {
        let status = response.status();
        let labels = self.labels();
        measure::head(
            &self.metrics,
            &labels,
            status,
            self.started.elapsed(),
            self.refused,
        );
        response.map(|inner| {
            let observer = LogOnFinish {
                record: self,
                labels,
                status,
                bytes: 0,
            };
            Observed::new(inner, observer).boxed()
        })
    }

    /// Writes the line in tracing's text format (`TIMESTAMP  INFO request key=value…`), straight
    /// into the worker's log buffer: the access line is the one log line every request
    /// writes, so it skips tracing's generic formatting. `VCSGATE_LOG` filters it as the
    /// target `vcsgate::access`.
    fn write(&self, status: StatusCode, bytes: u64, complete: bool) {
        let level = if status.is_server_error() {
            tracing::Level::WARN
        } else {
            tracing::Level::INFO
        };
        let enabled = if level == tracing::Level::WARN {
            tracing::enabled!(target: "vcsgate::access", tracing::Level::WARN)
        } else {
            tracing::enabled!(target: "vcsgate::access", tracing::Level::INFO)
        };
        if !enabled {
            return;
        }
        if self.format == LogFormat::Json {
            self.write_json(level, status, bytes, complete);
            return;
        }
        let mut line = String::with_capacity(LINE_CAPACITY);
        crate::logging::timestamp(&mut line);
        let _ = writeln!(
            line,
            " {level:>5} request client={} method={} version={:?} path={} vcs={:?} route={} \
             repo={} operation={:?} user={} token={} credential={} jti={} sub={} status={} \
             bytes={bytes} duration_ms={} \
             complete={complete} refusal={}",
            self.peer.ip(),
            self.method.as_ref().map_or("-", Method::as_str),
            self.version,
            self.path,
            self.vcs.map(Vcs::as_str).unwrap_or("-"),
            self.route.as_deref().unwrap_or("-"),
            dash(&self.repo),
            self.operation.unwrap_or("-"),
            dash(&self.user),
            dash(&self.token),
            self.credential.map_or("-", CredentialForm::as_str),
            dash(&self.jti),
            dash(&self.sub),
            status.as_u16(),
            self.started.elapsed().as_millis(),
            dash(&self.refusal),
        );
        crate::logging::write_line(line.as_bytes());
    }

    /// The same line as one JSON object (`[log] format = "json"`): the fields of the text
    /// line, with `null` for the text line's `-`.
    fn write_json(&self, level: tracing::Level, status: StatusCode, bytes: u64, complete: bool) {
        let mut timestamp = String::with_capacity(32);
        crate::logging::timestamp(&mut timestamp);
        let line = serde_json::json!({
            "timestamp": timestamp,
            "level": level.as_str(),
            "target": "vcsgate::access",
            "message": "request",
            "client": self.peer.ip().to_string(),
            "method": self.method.as_ref().map(Method::as_str),
            "version": format!("{:?}", self.version),
            "path": self.path,
            "vcs": self.vcs.map(Vcs::as_str),
            "route": self.route.as_deref(),
            "repo": self.repo,
            "operation": self.operation,
            "user": self.user,
            "token": self.token,
            "credential": self.credential.map(CredentialForm::as_str),
            "jti": self.jti,
            "sub": self.sub,
            "status": status.as_u16(),
            "bytes": bytes,
            "bytes_in": self.bytes_in.load(Ordering::Relaxed),
            "duration_ms": u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "complete": complete,
            "refusal": self.refusal,
        });
        let mut text = line.to_string();
        text.push('\n');
        crate::logging::write_line(text.as_bytes());
    }
}

/// Longest claim value kept in a log line.
const MAX_LOGGED_CLAIM: usize = 128;

/// A claim as logged: printable ASCII without spaces (others become `?`), at most
/// [`MAX_LOGGED_CLAIM`] characters.
fn claim_text(value: &str) -> String {
    value
        .chars()
        .take(MAX_LOGGED_CLAIM)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

fn dash(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("-")
}

/// Typical length of an access line.
const LINE_CAPACITY: usize = 320;

struct LogOnFinish {
    record: AccessRecord,
    labels: Labels,
    status: StatusCode,
    bytes: u64,
}

impl Observer for LogOnFinish {
    fn data(&mut self, len: usize) {
        self.bytes += len as u64;
    }

    fn finish(&mut self, complete: bool) {
        self.record.write(self.status, self.bytes, complete);
        let bytes_in = self.record.bytes_in.load(Ordering::Relaxed);
        measure::bytes(&self.record.metrics, &self.labels, bytes_in, self.bytes);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn claims_are_logged_printable_and_bounded() {
        assert_eq!(
            super::claim_text("repo:team/app:ref:main"),
            "repo:team/app:ref:main"
        );
        assert_eq!(super::claim_text("a b\nc\u{e9}"), "a?b?c?");
        assert_eq!(super::claim_text(&"x".repeat(500)).len(), 128);
    }

    #[test]
    fn levels_pad_like_tracing() {
        assert_eq!(format!(" {:>5}", tracing::Level::INFO), "  INFO");
        assert_eq!(format!(" {:>5}", tracing::Level::WARN), "  WARN");
    }

    #[test]
    fn timestamps_look_like_tracings() {
        let mut out = String::new();
        crate::logging::timestamp(&mut out);
        assert_eq!(out.len(), "2026-11-26T14:08:09.073155Z".len(), "{out}");
        assert!(out.ends_with('Z') && out.as_bytes()[10] == b'T', "{out}");
    }
}
