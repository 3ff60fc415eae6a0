//! A route as the server runs it: its config, its classifier with the route's settings,
//! its repo paths, and its backend.

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
use crate::access::Vcs;
use crate::canon::CanonicalRequest;
use crate::classify::hg::HgRoute;
use crate::classify::svn::SvnRoute;
use crate::classify::{self, Classified, Refusal};
use crate::config::{Limits, RouteConfig, Target};
use crate::repo::RepoPath;

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
            Target::LocalGit { repos, git } => Backend::BuiltinGit(GitCgi {
                git: git.clone(),
                project_root: repos.clone(),
            }),
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
        })
    }

    pub fn config(&self) -> &RouteConfig {
        &self.config
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

    /// The repo path: route prefix plus the repository segments, one `.git` stripped on Git
    /// routes (git http-backend serves `app` and `app.git` as one repository). hgweb and
    /// mod_dav_svn serve `app.git` as a repository of its own, which no repo path can name
    /// (repo paths never end in `.git`): such requests are refused.
    pub fn repo_path(&self, repo: &[String]) -> Result<RepoPath, Rejection> {
        let segments: Vec<&str> = self
            .config
            .prefix_segments
            .iter()
            .chain(repo.iter())
            .map(String::as_str)
            .collect();
        let dot_git = segments.last().is_some_and(|last| last.ends_with(".git"));
        if dot_git && self.config.kind != Vcs::Git {
            return Err(Rejection::Classify(Refusal::BadRepository {
                reason: "names ending in .git are only served on Git routes",
            }));
        }
        Ok(RepoPath::from_segments(&segments)?)
    }

    /// Forwards an authorized request: prepares it, sends it within the first-byte timeout,
    /// and checks and cleans the answer.
    pub async fn forward(
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
            let public_origin = client
                .host
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
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{BackendIdentity, SvnLayout};

    fn runtime(kind: Vcs, prefix: &str) -> ServedRoute {
        let config = RouteConfig {
            prefix: format!("/{prefix}"),
            prefix_segments: vec![prefix.to_owned()],
            kind,
            target: Target::Url {
                url: "http://127.0.0.1:9/x".parse().unwrap(),
                ca_file: None,
            },
            identity: BackendIdentity::None,
            repo_depth: (kind == Vcs::Hg).then_some(2),
            svn_layout: SvnLayout::ParentPath,
        };
        ServedRoute::new(&config, &Limits::default()).unwrap()
    }

    /// git http-backend serves `app` and `app.git` as one repository (it tries both), so Git
    /// repo paths drop one `.git`. hgweb and mod_dav_svn serve `app.git` as a repository of
    /// its own: stripping there would let a grant on `hg/team/app` reach it.
    #[test]
    fn only_git_routes_strip_dot_git() {
        let rows: &[(Vcs, &str, &[&str], Option<&str>)] = &[
            (Vcs::Git, "git", &["team", "app.git"], Some("git/team/app")),
            (Vcs::Git, "git", &["team", "app"], Some("git/team/app")),
            (Vcs::Hg, "hg", &["team", "app"], Some("hg/team/app")),
            (Vcs::Hg, "hg", &["team", "app.git"], None),
            (Vcs::Hg, "hg", &["team.git", "app"], Some("hg/team.git/app")),
            (Vcs::Hg, "hg", &["team", "app.GIT"], Some("hg/team/app.GIT")),
            (Vcs::Svn, "svn", &["repo"], Some("svn/repo")),
            (Vcs::Svn, "svn", &["repo.git"], None),
        ];
        for (kind, prefix, repo, expected) in rows {
            let repo: Vec<String> = repo.iter().map(|s| (*s).to_owned()).collect();
            let got = runtime(*kind, prefix).repo_path(&repo).ok();
            assert_eq!(
                got.as_ref().map(RepoPath::as_str),
                *expected,
                "{kind:?} {repo:?}"
            );
        }
    }
}
