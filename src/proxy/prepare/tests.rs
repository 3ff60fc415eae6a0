#![allow(clippy::unwrap_used)]

use http::{HeaderValue, Request};

use super::*;
use crate::canon;
use crate::classify::hg::{HgCommand, HgOp};
use crate::classify::{Forwarding, Operation, git::GitOp, svn::SvnOp};
use crate::config::{BackendIdentity, SvnLayout, Target};
use crate::proxy::body;
use crate::vocabulary::Vcs;

fn route(kind: Vcs, prefix: &str) -> RouteConfig {
    RouteConfig {
        prefix: format!("/{prefix}"),
        prefix_segments: vec![prefix.to_owned()],
        kind,
        target: Target::Url {
            url: "http://127.0.0.1:9/x".parse().unwrap(),
            ca_file: None,
        },
        identity: BackendIdentity::None,
        repo_depth: None,
        svn_layout: SvnLayout::ParentPath,
        paths: Default::default(),
    }
}

fn client() -> ForwardedFor<'static> {
    ForwardedFor {
        peer: "10.1.2.3:5555".parse().unwrap(),
        tls: false,
        host: Some("gate.example"),
    }
}

/// Prepares `method target` with `headers` and `body` for a verdict of `operation` with
/// `forwarding`, as alice, on a route of `kind` at `/prefix` whose backend is at
/// `http://backend:8081`; returns the prepared request's parts.
fn run(
    kind: Vcs,
    prefix: &str,
    request: Request<Body>,
    operation: Operation,
    forwarding: Forwarding,
) -> (
    Method,
    String,
    Option<String>,
    HeaderMap,
    Option<String>,
    Access,
) {
    let route = route(kind, prefix);
    let (parts, body) = request.into_parts();
    // Canonicalised without headers: the gate refuses some header combinations that this
    // step must still clean up if they ever reached it.
    let canonical = canon::canonicalise(&parts.method, &parts.uri, &HeaderMap::new()).unwrap();
    let mut verdict = Verdict::new(vec!["repo".to_owned()], operation);
    verdict.forwarding = forwarding;
    let user = UserName::parse("alice").unwrap();
    let decided = Decided {
        no_rewind: &[],
        canonical: &canonical,
        depth: 1,
        verdict: &verdict,
        user: &user,
    };
    let prepared = prepare(
        &route,
        &decided,
        &client(),
        Some("http://backend:8081"),
        parts,
        body,
    );
    (
        prepared.method,
        prepared.below.to_owned(),
        prepared.query.map(str::to_owned),
        prepared.headers,
        prepared.remote_user.map(str::to_owned),
        prepared.access,
    )
}

fn get(target: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::get(target);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(body::empty()).unwrap()
}

#[test]
fn the_path_below_the_prefix_and_the_raw_query_are_forwarded_as_received() {
    let (method, below, query, _, _, _) = run(
        Vcs::Git,
        "git",
        get("/git/team/a%20b.git/info/refs?service=git-upload-pack", &[]),
        Operation::Git(GitOp::UploadPackAdvertisement),
        Forwarding::default(),
    );
    assert_eq!(method, Method::GET);
    assert_eq!(below, "/team/a%20b.git/info/refs");
    assert_eq!(query.as_deref(), Some("service=git-upload-pack"));
}

#[test]
fn git_protocol_comes_from_the_verdict_only() {
    let accepted = Forwarding {
        git_protocol: Some(HeaderValue::from_static("version=2")),
        destination: None,
    };
    let op = Operation::Git(GitOp::UploadPackAdvertisement);
    let request = || get("/git/app/info/refs", &[("git-protocol", "version=2:evil")]);
    let (.., headers, _, _) = run(Vcs::Git, "git", request(), op, accepted);
    assert_eq!(headers["git-protocol"], "version=2");
    let (.., headers, _, _) = run(Vcs::Git, "git", request(), op, Forwarding::default());
    assert!(headers.get("git-protocol").is_none());
}

#[test]
fn the_svn_destination_is_pointed_at_the_backend_origin() {
    let forwarding = Forwarding {
        git_protocol: None,
        destination: Some("/svn/repo/branches/b".to_owned()),
    };
    let request = Request::builder()
        .method("COPY")
        .uri("/svn/repo/trunk")
        .header("destination", "https://gate.example/svn/repo/branches/b")
        .body(body::empty())
        .unwrap();
    let (.., headers, user, access) = run(
        Vcs::Svn,
        "svn",
        request,
        Operation::Svn(SvnOp::Copy),
        forwarding,
    );
    assert_eq!(
        headers["destination"],
        "http://backend:8081/svn/repo/branches/b"
    );
    assert_eq!(access, Access::Write);
    assert_eq!(user.as_deref(), Some("alice"));
}

#[test]
fn a_destination_the_classifier_did_not_accept_is_not_forwarded() {
    let request = get("/svn/repo/trunk", &[("destination", "http://elsewhere/x")]);
    let (.., headers, user, access) = run(
        Vcs::Svn,
        "svn",
        request,
        Operation::Svn(SvnOp::Read),
        Forwarding::default(),
    );
    assert!(headers.get("destination").is_none());
    assert_eq!((user, access), (None, Access::Read));
}

#[test]
fn credentials_and_hop_by_hop_headers_never_reach_the_backend() {
    let request = get(
        "/git/app/info/refs",
        &[
            ("authorization", "Bearer vcsg_x"),
            ("cookie", "a=b"),
            ("connection", "x-secret"),
            ("x-secret", "1"),
            ("x-forwarded-for", "6.6.6.6"),
        ],
    );
    let (.., headers, _, _) = run(
        Vcs::Git,
        "git",
        request,
        Operation::Git(GitOp::UploadPackAdvertisement),
        Forwarding::default(),
    );
    for gone in ["authorization", "cookie", "connection", "x-secret"] {
        assert!(headers.get(gone).is_none(), "{gone} was forwarded");
    }
    assert_eq!(headers["x-forwarded-for"], "10.1.2.3");
}

#[test]
fn hg_requests_with_a_body_close_the_backend_connection() {
    let request = Request::post("/hg/repo?cmd=unbundle")
        .header("content-length", "3")
        .body(body::full("abc"))
        .unwrap();
    let (.., headers, user, _) = run(
        Vcs::Hg,
        "hg",
        request,
        Operation::Hg(HgOp::Wire(HgCommand::Unbundle)),
        Forwarding::default(),
    );
    assert_eq!(headers["connection"], "close");
    assert_eq!(user.as_deref(), Some("alice"));
    let (.., headers, _, _) = run(
        Vcs::Hg,
        "hg",
        get("/hg/repo?cmd=heads", &[]),
        Operation::Hg(HgOp::Wire(HgCommand::Heads)),
        Forwarding::default(),
    );
    assert!(headers.get("connection").is_none());
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
