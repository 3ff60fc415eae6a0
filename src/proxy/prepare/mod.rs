//! The pure step between the decision and the backend: the request exactly as the backend
//! will receive it — the raw path below the route prefix, the raw query, headers cleaned
//! (credentials, cookies, hop-by-hop and client identity headers removed; `X-Forwarded-*`
//! and `Forwarded` set; the route's backend identity added), and the header values the
//! classifier accepted (`Git-Protocol`, the svn `Destination` pointed at the backend).
//! No IO: everything here is unit-tested without sockets.

use std::net::SocketAddr;

use http::header::HeaderName;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method};
use http_body::Body as _;

use super::body::Body;
use super::framing;
use super::headers::{self, ForwardedFor};
use crate::canon::CanonicalRequest;
use crate::classify::git::GitOp;
use crate::classify::{Operation, Verdict};
use crate::config::RouteConfig;
use crate::names::UserName;
use crate::refs::RewindCheck;
use crate::vocabulary::Access;

/// What the gate decided about a request that is about to be forwarded.
#[derive(Debug, Clone, Copy)]
pub struct Decided<'a> {
    pub canonical: &'a CanonicalRequest,
    /// How many path segments the route prefix takes.
    pub depth: usize,
    pub verdict: &'a Verdict,
    pub user: &'a UserName,
    /// Protected refs the push may not rewind (enforced by the built-in backend only).
    pub no_rewind: &'a [RewindCheck],
}

/// A request ready for a backend.
pub struct Prepared<'a> {
    pub method: Method,
    /// The raw path below the route prefix: `""` or starting with `/`.
    pub below: &'a str,
    /// The raw query, without `?`.
    pub query: Option<&'a str>,
    pub headers: HeaderMap,
    pub body: Body,
    pub access: Access,
    /// The vcsgate user for writes (the built-in Git backend lets git-http-backend accept a
    /// push only with a user); `None` for reads.
    pub remote_user: Option<&'a str>,
    pub peer: SocketAddr,
    pub no_rewind: &'a [RewindCheck],
    /// For Git LFS requests: what the built-in backend needs to serve them.
    pub lfs: Option<LfsTarget<'a>>,
}

/// A Git LFS request as the built-in backend serves it.
#[derive(Debug, Clone)]
pub struct LfsTarget<'a> {
    pub op: GitOp,
    /// The repository's segments below the route prefix (`.git` not stripped).
    pub repo: &'a [String],
    /// Decoded segments below `info/lfs`.
    pub below: Vec<String>,
    /// `scheme://host/…/info/lfs` as the client reached it (batch hrefs).
    pub base_url: String,
    /// The vcsgate user (lock owner).
    pub user: &'a str,
}

const GIT_PROTOCOL: HeaderName = HeaderName::from_static("git-protocol");
const DESTINATION: HeaderName = HeaderName::from_static("destination");

/// Prepares the request for the route's backend, whose `scheme://authority` is
/// `backend_origin` (`None` for the built-in backend).
pub fn prepare<'a>(
    route: &RouteConfig,
    decided: &Decided<'a>,
    client: &ForwardedFor<'_>,
    backend_origin: Option<&str>,
    parts: Parts,
    body: Body,
) -> Prepared<'a> {
    let mut headers = parts.headers;
    headers::to_backend(&mut headers, client, &route.identity, decided.user);
    if framing::close_backend_connection(route.kind, &body.size_hint()) {
        headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    let forwarding = &decided.verdict.forwarding;
    headers.remove(GIT_PROTOCOL);
    if let Some(value) = &forwarding.git_protocol {
        headers.insert(GIT_PROTOCOL, value.clone());
    }
    headers.remove(DESTINATION);
    if let (Some(path), Some(origin)) = (&forwarding.destination, backend_origin)
        && let Ok(value) = HeaderValue::from_str(&format!("{origin}{path}"))
    {
        headers.insert(DESTINATION, value);
    }
    let access = decided.verdict.access();
    let lfs = lfs_target(decided, client);
    Prepared {
        method: parts.method,
        below: raw_below(&decided.canonical.raw_path, decided.depth),
        query: decided.canonical.raw_query.as_deref(),
        headers,
        body,
        access,
        remote_user: (access == Access::Write).then_some(decided.user.as_str()),
        peer: client.peer,
        no_rewind: decided.no_rewind,
        lfs,
    }
}

/// For an LFS operation: its repository, the path below `info/lfs`, and the URL of
/// `…/info/lfs` as the client reached it.
fn lfs_target<'a>(decided: &Decided<'a>, client: &ForwardedFor<'_>) -> Option<LfsTarget<'a>> {
    let Operation::Git(op) = decided.verdict.operation else {
        return None;
    };
    if !op.is_lfs() {
        return None;
    }
    let repo = &decided.verdict.repo;
    // Segments up to and including `info/lfs`.
    let upto = decided.depth + repo.len() + 2;
    let below = decided.canonical.segments.get(upto..)?.to_vec();
    let raw: Vec<&str> = decided
        .canonical
        .raw_path
        .split('/')
        .skip(1)
        .take(upto)
        .collect();
    let scheme = if client.tls { "https" } else { "http" };
    let host = client.host.unwrap_or("localhost");
    Some(LfsTarget {
        op,
        repo,
        below,
        base_url: format!("{scheme}://{host}/{}", raw.join("/")),
        user: decided.user.as_str(),
    })
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

#[cfg(test)]
mod tests;
