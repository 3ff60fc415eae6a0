//! A route at run time: its config, how it classifies, and where it forwards (a backend URL
//! or the built-in Git backend).

use std::net::SocketAddr;

use http::request::Parts;
use http::{HeaderMap, HeaderValue, Response};
use http_body::Body as _;

use super::body::Body;
use super::cgi::{CgiRequest, GitCgi};
use super::headers::{self, ForwardedFor, LocationRewrite};
use super::rejection::Rejection;
use super::upstream::{self, Upstream};
use super::{first_byte, framing};
use crate::access::{Access, Vcs};
use crate::canon::CanonicalRequest;
use crate::classify::hg::HgRoute;
use crate::classify::svn::SvnRoute;
use crate::classify::{self, Classified, Refusal};
use crate::config::{Limits, RouteConfig, Target};
use crate::names::UserName;
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

#[derive(Debug)]
enum Backend {
    Upstream(Box<Upstream>),
    LocalGit(GitCgi),
}

/// The route's classifier with its per-route settings.
#[derive(Debug)]
enum Protocol {
    Git,
    Hg(HgRoute),
    Svn(SvnRoute),
}

#[derive(Debug)]
pub struct RouteRuntime {
    config: RouteConfig,
    protocol: Protocol,
    backend: Backend,
    first_byte_timeout: std::time::Duration,
}

/// Everything forwarding needs from the handler.
pub struct Forward<'a> {
    pub parts: Parts,
    pub canonical: &'a CanonicalRequest,
    pub depth: usize,
    pub body: Body,
    pub user: &'a UserName,
    pub access: Access,
    pub peer: SocketAddr,
    pub tls: bool,
}

impl RouteRuntime {
    pub fn new(config: &RouteConfig, limits: &Limits) -> Result<Self, Error> {
        let backend = match &config.target {
            Target::Url { url, ca_file } => Backend::Upstream(Box::new(
                Upstream::new(url, ca_file.as_deref(), limits.connect_timeout).map_err(
                    |source| Error::Backend {
                        prefix: config.prefix.clone(),
                        source,
                    },
                )?,
            )),
            Target::LocalGit { repos, git } => Backend::LocalGit(GitCgi {
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
        Ok(RouteRuntime {
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

    pub async fn forward(&self, forward: Forward<'_>) -> Result<Response<Body>, Rejection> {
        let Forward {
            parts,
            canonical,
            depth,
            body,
            user,
            access,
            peer,
            tls,
        } = forward;
        let below = raw_below(&canonical.raw_path, depth);
        let host = client_host(&parts);
        let mut headers = parts.headers;
        let forwarded = ForwardedFor {
            peer,
            tls,
            host: host.as_deref(),
        };
        headers::to_backend(&mut headers, &forwarded, &self.config.identity, user);
        if framing::close_backend_connection(self.config.kind, &body.size_hint()) {
            headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        let (body, sent) = first_byte::watch(body);
        let timeout = self.first_byte_timeout;
        if self.config.kind == Vcs::Git {
            headers::keep_valid_git_protocol(&mut headers);
        }
        match &self.backend {
            Backend::Upstream(upstream) => {
                if let Protocol::Svn(_) = self.protocol {
                    headers::destination_to_backend(&mut headers, upstream.origin());
                }
                let answer = upstream.send(
                    parts.method,
                    below,
                    canonical.raw_query.as_deref(),
                    headers,
                    body,
                );
                let mut response = first_byte::within(answer, sent, timeout)
                    .await
                    .ok_or(Rejection::BackendTimeout)??;
                if let Protocol::Hg(_) = self.protocol
                    && canonical.query.get("cmd").is_some()
                    && response.status().is_success()
                    && !classify::hg::is_wire_response(response.headers())
                {
                    return Err(Rejection::NotRepository);
                }
                let public_origin =
                    host.map(|h| format!("{}://{h}", if tls { "https" } else { "http" }));
                let rewrite = LocationRewrite {
                    backend_origin: upstream.origin(),
                    backend_base: upstream.base_path(),
                    public_origin: public_origin.as_deref(),
                    prefix: self.config.prefix.trim_end_matches('/'),
                };
                headers::from_backend(response.headers_mut(), &rewrite);
                Ok(response)
            }
            Backend::LocalGit(cgi) => {
                let request = CgiRequest {
                    method: &parts.method,
                    path_info: below,
                    query: canonical.raw_query.as_deref(),
                    headers: &headers,
                    remote_addr: peer,
                    remote_user: (access == Access::Write).then_some(user.as_str()),
                    access,
                };
                first_byte::within(cgi.call(request, body), sent, timeout)
                    .await
                    .ok_or(Rejection::BackendTimeout)?
                    .map_err(|error| {
                        tracing::error!(%error, "built-in git backend failed");
                        Rejection::BackendFailed
                    })
            }
        }
    }
}

/// The raw path below the first `depth` segments (`""` or starting with `/`). The raw path
/// passed canonicalisation, so its `/` are exactly the decoded segment boundaries.
fn raw_below(raw_path: &str, depth: usize) -> &str {
    let mut rest = raw_path;
    for _ in 0..depth {
        let after = rest.strip_prefix('/').unwrap_or(rest);
        rest = match after.find('/') {
            Some(i) => &after[i..],
            None => "",
        };
    }
    rest
}

/// The host the client asked for: `Host` on HTTP/1, `:authority` on HTTP/2.
fn client_host(parts: &Parts) -> Option<String> {
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

    fn runtime(kind: Vcs, prefix: &str) -> RouteRuntime {
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
        RouteRuntime::new(&config, &Limits::default()).unwrap()
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

    #[test]
    fn raw_below_splits_on_segments() {
        assert_eq!(
            raw_below("/git/team/app.git/info/refs", 1),
            "/team/app.git/info/refs"
        );
        assert_eq!(raw_below("/git/team", 2), "");
        assert_eq!(raw_below("/a/b/", 2), "/");
        assert_eq!(raw_below("/x", 0), "/x");
        assert_eq!(raw_below("/%67it/a%20b", 1), "/a%20b");
    }
}
