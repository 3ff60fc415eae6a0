//! A route as the server runs it: its config, its classifier with the route's settings,
//! its repo paths, and its backend.

use std::sync::atomic::{AtomicI64, Ordering};

use http::request::Parts;
use http::{HeaderMap, Response};

use super::backend::Backend;
use super::body::Body;
use super::cgi::GitCgi;
use super::first_byte;
use super::headers::{self, ForwardedFor, LocationRewrite};
use super::prepare::{Decided, prepare};
use super::rejection::Rejection;
use super::upstream::{self, Upstream};
use crate::canon::CanonicalRequest;
use crate::classify::hg::HgRoute;
use crate::classify::svn::SvnRoute;
use crate::classify::{self, Classified};
use crate::config::{Limits, RouteConfig, Target};
use crate::repo::{self, RepoPath};
use crate::vocabulary::Vcs;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("route {prefix}: {source}")]
    Backend {
        prefix: String,
        #[source]
        source: upstream::Error,
    },
}

/// The route's classifier with its per-route settings.
#[derive(Debug)]
enum Protocol {
    Git,
    Hg(HgRoute),
    Svn(SvnRoute),
}

#[derive(Debug)]
pub struct ServedRoute {
    config: RouteConfig,
    protocol: Protocol,
    backend: Backend,
    first_byte_timeout: std::time::Duration,
    health: BackendHealth,
    /// The prefix as the log and metrics label.
    label: std::sync::Arc<str>,
}

/// When the backend last accepted a request and last could not be reached (Unix seconds,
/// 0 = never), for `/readyz`.
#[derive(Debug, Default)]
pub struct BackendHealth {
    last_ok: AtomicI64,
    last_unreachable: AtomicI64,
}

impl BackendHealth {
    fn record(&self, outcome: &Result<Response<Body>, Rejection>, now: i64) {
        match outcome {
            Ok(_) | Err(Rejection::BackendTimeout | Rejection::NotRepository) => {
                self.last_ok.store(now, Ordering::Relaxed);
            }
            Err(Rejection::BackendUnreachable) => {
                self.last_unreachable.store(now, Ordering::Relaxed);
            }
            Err(_) => {}
        }
    }

    /// Ready unless the backend was tried within `window` seconds and has not accepted a
    /// connection in that time.
    pub fn is_ready(&self, now: i64, window: i64) -> bool {
        let since = now.saturating_sub(window);
        self.last_unreachable.load(Ordering::Relaxed) < since
            || self.last_ok.load(Ordering::Relaxed) >= since
    }
}

impl ServedRoute {
    pub fn new(config: &RouteConfig, limits: &Limits) -> Result<Self, Error> {
        let backend = match &config.target {
            Target::Url { url, ca_file } => Backend::Url(Box::new(
                Upstream::new(url, ca_file.as_deref(), limits.connect_timeout).map_err(
                    |source| Error::Backend {
                        prefix: config.prefix.clone(),
                        source,
                    },
                )?,
            )),
            Target::LocalGit { repos, git, lfs } => {
                let mut cgi = GitCgi::new(git.clone(), repos.clone());
                cgi.lfs = *lfs;
                Backend::BuiltinGit(cgi)
            }
        };
        let protocol = match config.kind {
            Vcs::Git => Protocol::Git,
            Vcs::Hg => Protocol::Hg(HgRoute {
                repo_depth: config.repo_depth,
            }),
            Vcs::Svn => Protocol::Svn(SvnRoute {
                prefix: config.prefix_segments.clone(),
                layout: config.svn_layout,
            }),
        };
        Ok(ServedRoute {
            config: config.clone(),
            protocol,
            backend,
            first_byte_timeout: limits.first_byte_timeout,
            health: BackendHealth::default(),
            label: std::sync::Arc::from(config.prefix.as_str()),
        })
    }

    /// Whether the route serves repositories itself (the built-in Git backend).
    pub fn is_builtin(&self) -> bool {
        matches!(self.backend, Backend::BuiltinGit(_))
    }

    /// The route's prefix as the log and metrics label (shared, never copied per request).
    pub fn label(&self) -> &std::sync::Arc<str> {
        &self.label
    }

    pub fn config(&self) -> &RouteConfig {
        &self.config
    }

    pub fn backend_health(&self) -> &BackendHealth {
        &self.health
    }

    /// Runs the route's protocol classifier on the request below the prefix.
    pub fn classify(
        &self,
        canonical: &CanonicalRequest,
        depth: usize,
        headers: &HeaderMap,
    ) -> Result<Classified, Rejection> {
        let below = &canonical.segments[depth.min(canonical.segments.len())..];
        let request = classify::Request {
            method: &canonical.method,
            segments: below,
            trailing_slash: canonical.trailing_slash,
            query: &canonical.query,
            headers,
        };
        let classified = match &self.protocol {
            Protocol::Git => classify::git::classify(&request),
            Protocol::Hg(route) => classify::hg::classify(&request, route),
            Protocol::Svn(route) => classify::svn::classify(&request, route),
        }?;
        Ok(classified)
    }

    /// The repo path of a request whose repository segments below the prefix are `repo`.
    pub fn repo_path(&self, repo: &[String]) -> Result<RepoPath, Rejection> {
        Ok(repo::for_route(
            self.config.kind,
            &self.config.prefix_segments,
            repo,
        )?)
    }

    /// Forwards an authorized request: prepares it, sends it within the first-byte timeout,
    /// and checks and cleans the answer. Whether the backend could be reached is recorded
    /// for `/readyz`.
    pub async fn forward(
        &self,
        decided: &Decided<'_>,
        client: &ForwardedFor<'_>,
        parts: Parts,
        body: Body,
    ) -> Result<Response<Body>, Rejection> {
        let outcome = self.send(decided, client, parts, body).await;
        self.health.record(&outcome, super::gate::unix_now());
        outcome
    }

    async fn send(
        &self,
        decided: &Decided<'_>,
        client: &ForwardedFor<'_>,
        parts: Parts,
        body: Body,
    ) -> Result<Response<Body>, Rejection> {
        let (body, sent) = first_byte::watch(body);
        let prepared = prepare(
            &self.config,
            decided,
            client,
            self.backend.origin(),
            parts,
            body,
        );
        let mut response =
            first_byte::within(self.backend.send(prepared), sent, self.first_byte_timeout)
                .await
                .ok_or(Rejection::BackendTimeout)??;
        if let Backend::Url(upstream) = &self.backend {
            self.check_answer(decided, &response)?;
            // Built only for an answer that has a `Location` to rewrite.
            let public_origin = client
                .host
                .filter(|_| response.headers().contains_key(http::header::LOCATION))
                .map(|h| format!("{}://{h}", if client.tls { "https" } else { "http" }));
            let rewrite = LocationRewrite {
                backend_origin: upstream.origin(),
                backend_base: upstream.base_path(),
                public_origin: public_origin.as_deref(),
                prefix: self.config.prefix.trim_end_matches('/'),
            };
            headers::from_backend(response.headers_mut(), &rewrite);
        }
        Ok(response)
    }

    /// hgwebdir answers a wire request for a directory holding repositories with a listing
    /// of them (an HTML page, not a wire answer): such answers are withheld.
    fn check_answer(
        &self,
        decided: &Decided<'_>,
        response: &Response<Body>,
    ) -> Result<(), Rejection> {
        if let Protocol::Hg(_) = self.protocol
            && decided.canonical.query.get("cmd").is_some()
            && response.status().is_success()
            && !classify::hg::is_wire_response(response.headers())
        {
            return Err(Rejection::NotRepository);
        }
        Ok(())
    }
}

/// The host the client asked for: `Host` on HTTP/1, `:authority` on HTTP/2.
pub fn client_host(parts: &Parts) -> Option<String> {
    parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backend_is_unready_only_when_tried_and_unreachable_within_the_window() {
        let health = BackendHealth::default();
        assert!(health.is_ready(1_000, 60), "never tried");
        health.last_ok.store(900, Ordering::Relaxed);
        health.last_unreachable.store(990, Ordering::Relaxed);
        assert!(
            !health.is_ready(1_000, 60),
            "refused, and no success in the window"
        );
        health.last_ok.store(995, Ordering::Relaxed);
        assert!(health.is_ready(1_000, 60), "accepted within the window");
        health.last_ok.store(900, Ordering::Relaxed);
        assert!(health.is_ready(1_051, 60), "the failure left the window");
    }
}
