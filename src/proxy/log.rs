//! The access log: one structured line per request, written when the response body has
//! been sent (or abandoned), with client address, route, repo path, operation, user, token
//! name, the credential form (`basic`, `bearer`, `url`, `anonymous`), an OIDC identity's
//! `jti` and `sub`, status, bytes and duration. It never holds a secret: no header values, no query
//! string.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Instant;

use http::{Method, Response, StatusCode};
use http_body_util::BodyExt;

use super::body::{Body, Observed, Observer};
use super::rejection::Rejection;
use crate::authn::Subject;
use crate::classify::Operation;
use crate::config::RouteConfig;
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
    route: Option<String>,
    repo: Option<String>,
    operation: Option<&'static str>,
    user: Option<String>,
    token: Option<String>,
    credential: Option<CredentialForm>,
    /// An OIDC identity's `jti` and `sub` claims (printable ASCII only, bounded).
    jti: Option<String>,
    sub: Option<String>,
    refusal: Option<String>,
}

/// Longest path kept in a log line.
const MAX_LOGGED_PATH: usize = 512;

impl AccessRecord {
    pub fn start(peer: SocketAddr, method: &Method, version: http::Version, path: &str) -> Self {
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
        }
    }

    pub fn vcs(&self) -> Option<Vcs> {
        self.vcs
    }

    pub fn routed(&mut self, route: &RouteConfig) {
        self.vcs = Some(route.kind);
        self.route = Some(route.prefix.clone());
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
    }

    pub fn rejected(&mut self, rejection: &Rejection) {
        self.refusal = Some(rejection.message());
    }

    /// Wraps the response body so the line is written when the body is done.
    pub fn finish(self, response: Response<Body>) -> Response<Body> {
        let status = response.status();
        response.map(|inner| {
            let observer = LogOnFinish {
                record: self,
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
            dash(&self.route),
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
    status: StatusCode,
    bytes: u64,
}

impl Observer for LogOnFinish {
    fn data(&mut self, len: usize) {
        self.bytes += len as u64;
    }

    fn finish(&mut self, complete: bool) {
        self.record.write(self.status, self.bytes, complete);
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
