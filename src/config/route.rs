//! `[[route]]` tables: prefix, kind, and where requests go (a backend URL or the built-in
//! Git backend serving a local directory), plus per-protocol and backend-identity settings.

use crate::proxy::gate::RESERVED_SEGMENT;
use std::path::PathBuf;

use http::HeaderName;
use http::uri::Scheme;

use super::raw::{RawIdentity, RawRoute};
use super::{Context, Error, secrets};
pub use crate::classify::svn::SvnLayout;
use crate::secret::Secret;
use crate::vocabulary::Vcs;

/// Where a route's requests go.
#[derive(Debug, Clone)]
pub enum Target {
    /// Forward to an `http://` or `https://` backend; the path below the prefix is appended
    /// to the URL's path.
    Url {
        url: http::Uri,
        /// Extra CA certificate file (PEM) to trust for an `https://` backend.
        ca_file: Option<PathBuf>,
    },
    /// Serve bare repositories from a local directory with `git http-backend` (CGI).
    LocalGit { repos: PathBuf, git: PathBuf },
}

/// How the backend learns who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendIdentity {
    /// The backend is told nothing.
    None,
    /// A header named by the admin carries the vcsgate user name.
    Header(HeaderName),
    /// `Authorization: Basic base64(user:secret)` with a configured backend secret.
    Basic(Secret),
}

#[derive(Debug, Clone)]
pub struct RouteConfig {
    /// Normalised prefix: `/` or `/a/b` (no trailing slash).
    pub prefix: String,
    pub prefix_segments: Vec<String>,
    pub kind: Vcs,
    pub target: Target,
    pub identity: BackendIdentity,
    /// hg: how many segments below the prefix name a repository in page URLs.
    pub repo_depth: Option<usize>,
    /// svn: parent path or single repository.
    pub svn_layout: SvnLayout,
}

pub(super) fn routes(ctx: &Context, raw: Vec<RawRoute>) -> Result<Vec<RouteConfig>, Error> {
    let mut routes: Vec<RouteConfig> = Vec::with_capacity(raw.len());
    for (index, raw) in raw.into_iter().enumerate() {
        let route = route(ctx, index, raw)?;
        if routes.iter().any(|r| r.prefix == route.prefix) {
            return Err(Error::DuplicatePrefix {
                path: ctx.path.clone(),
                prefix: route.prefix,
            });
        }
        routes.push(route);
    }
    Ok(routes)
}

fn route(ctx: &Context, index: usize, raw: RawRoute) -> Result<RouteConfig, Error> {
    let key = |name: &str| format!("route[{index}].{name}");
    let prefix_text = raw.prefix.ok_or_else(|| ctx.missing(key("prefix")))?;
    let prefix_segments = prefix_segments(&prefix_text).ok_or_else(|| {
        ctx.invalid(
            key("prefix"),
            &prefix_text,
            "must start with '/' and consist of plain segments (A-Z a-z 0-9 . _ - ~)",
        )
    })?;
    if prefix_segments.first().map(String::as_str) == Some(RESERVED_SEGMENT) {
        return Err(ctx.invalid(
            key("prefix"),
            &prefix_text,
            "/- and every path below it are reserved for vcsgate's own API and pages",
        ));
    }
    let prefix = format!("/{}", prefix_segments.join("/"));
    let kind_text = raw.kind.ok_or_else(|| ctx.missing(key("kind")))?;
    let kind: Vcs = kind_text
        .parse()
        .map_err(|e: crate::vocabulary::UnknownWord| {
            ctx.invalid(key("kind"), &kind_text, e.to_string())
        })?;

    let target = match (raw.backend, raw.repos) {
        (Some(_), Some(_)) => {
            return Err(ctx.invalid(
                key("repos"),
                "",
                "give either `backend` (a URL) or `repos` (a local directory), not both",
            ));
        }
        (None, None) => return Err(ctx.missing(key("backend"))),
        (Some(backend), None) => {
            if raw.git_binary.is_some() {
                return Err(ctx.invalid(key("git_binary"), "", "only with `repos`"));
            }
            let url = backend_url(ctx, &key("backend"), &backend)?;
            if kind == Vcs::Svn && url.path().trim_end_matches('/') != prefix.trim_end_matches('/')
            {
                return Err(ctx.invalid(
                    key("backend"),
                    &backend,
                    format!(
                        "svn routes keep the path unchanged: the backend URL's path must be {prefix}"
                    ),
                ));
            }
            Target::Url {
                url,
                ca_file: raw.ca_file.as_deref().map(|f| ctx.resolve(f)),
            }
        }
        (None, Some(repos)) => {
            if kind != Vcs::Git {
                return Err(ctx.invalid(
                    key("repos"),
                    &repos,
                    "the built-in backend serves Git only",
                ));
            }
            if raw.ca_file.is_some() {
                return Err(ctx.invalid(key("ca_file"), "", "only with an https backend"));
            }
            let repos = ctx.resolve(&repos);
            if !repos.is_dir() {
                return Err(ctx.invalid(key("repos"), repos.display(), "is not a directory"));
            }
            Target::LocalGit {
                repos,
                git: PathBuf::from(raw.git_binary.as_deref().unwrap_or("git")),
            }
        }
    };

    if raw.repo_depth.is_some() && kind != Vcs::Hg {
        return Err(ctx.invalid(key("repo_depth"), "", "only for hg routes"));
    }
    if raw.repo_depth == Some(0) {
        return Err(ctx.invalid(key("repo_depth"), 0, "must be at least 1"));
    }
    let svn_layout = match (kind, raw.svn_layout.as_deref()) {
        (Vcs::Svn, None | Some("parent")) => SvnLayout::ParentPath,
        (Vcs::Svn, Some("single")) => SvnLayout::SingleRepository,
        (Vcs::Svn, Some(other)) => {
            return Err(ctx.invalid(
                key("svn_layout"),
                other,
                "expected \"parent\" or \"single\"",
            ));
        }
        (_, Some(_)) => return Err(ctx.invalid(key("svn_layout"), "", "only for svn routes")),
        (_, None) => SvnLayout::ParentPath,
    };
    let identity = identity(ctx, &key("identity"), raw.identity)?;
    Ok(RouteConfig {
        prefix,
        prefix_segments,
        kind,
        target,
        identity,
        repo_depth: raw.repo_depth,
        svn_layout,
    })
}

fn prefix_segments(prefix: &str) -> Option<Vec<String>> {
    let rest = prefix.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let segments: Vec<String> = rest.split('/').map(str::to_owned).collect();
    let plain = |s: &String| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~'))
    };
    segments.iter().all(plain).then_some(segments)
}

fn backend_url(ctx: &Context, key: &str, text: &str) -> Result<http::Uri, Error> {
    let invalid = |reason: &str| ctx.invalid(key, text, reason);
    let url: http::Uri = text.parse().map_err(|_| invalid("not a valid URL"))?;
    match url.scheme() {
        Some(s) if *s == Scheme::HTTP || *s == Scheme::HTTPS => {}
        _ => return Err(invalid("must start with http:// or https://")),
    }
    let Some(authority) = url.authority() else {
        return Err(invalid("needs a host"));
    };
    if authority.as_str().contains('@') {
        return Err(invalid(
            "must not carry credentials; use the route's `identity` table",
        ));
    }
    if url.query().is_some() {
        return Err(invalid("must not have a query"));
    }
    Ok(url)
}

fn identity(ctx: &Context, key: &str, raw: Option<RawIdentity>) -> Result<BackendIdentity, Error> {
    let Some(raw) = raw else {
        return Ok(BackendIdentity::None);
    };
    let secret = secrets::optional_secret(
        ctx,
        key,
        raw.secret.as_deref(),
        raw.secret_env.as_deref(),
        raw.secret_file.as_deref(),
    )?;
    match raw.mode.as_deref() {
        None => Err(ctx.missing(format!("{key}.mode"))),
        Some("none") => {
            if raw.header.is_some() || secret.is_some() {
                return Err(ctx.invalid(
                    format!("{key}.mode"),
                    "none",
                    "takes no header or secret",
                ));
            }
            Ok(BackendIdentity::None)
        }
        Some("header") => {
            if secret.is_some() {
                return Err(ctx.invalid(format!("{key}.mode"), "header", "takes no secret"));
            }
            let name = raw
                .header
                .ok_or_else(|| ctx.missing(format!("{key}.header")))?;
            let header = HeaderName::from_bytes(name.as_bytes())
                .ok()
                .filter(|_| !name.contains('_'))
                .ok_or_else(|| {
                    ctx.invalid(
                        format!("{key}.header"),
                        &name,
                        "not a valid header name (no '_')",
                    )
                })?;
            Ok(BackendIdentity::Header(header))
        }
        Some("basic") => {
            if raw.header.is_some() {
                return Err(ctx.invalid(format!("{key}.mode"), "basic", "takes no header"));
            }
            let secret = secret.ok_or_else(|| ctx.missing(format!("{key}.secret")))?;
            Ok(BackendIdentity::Basic(secret))
        }
        Some(other) => Err(ctx.invalid(
            format!("{key}.mode"),
            other,
            "expected \"none\", \"header\" or \"basic\"",
        )),
    }
}
