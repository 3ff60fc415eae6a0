//! R2 (raw-path rules) and path traversal to another repository (CVE-2022-1993), plain and
//! encoded. alice may read `team/app` only: any request that reached `team/other` would be
//! a bypass, and Apache (which decodes and removes dot segments) would serve it.

use super::{Probe, Site, basic, run_probes};
use crate::support::http;
use crate::support::vcsgate::GateConfig;
use crate::support::wire::head;

const SERVICE: &str = "?service=git-upload-pack";

/// `(what, path)`: each must get 400 before routing.
const MALFORMED: &[(&str, &str)] = &[
    ("%2F in a segment", "/git/team/app.git%2Finfo%2Frefs"),
    ("%2f in a segment", "/git/team/app.git/info%2frefs"),
    ("%5C", "/git/team/app.git%5Cinfo/refs"),
    ("backslash", "/git/team/app.git/info\\refs"),
    ("semicolon in a segment", "/git/team/app.git;x=1/info/refs"),
    ("semicolon at the end", "/git/team/app.git/info/refs;x"),
    ("// after the prefix", "/git//team/app.git/info/refs"),
    ("// inside", "/git/team//app.git/info/refs"),
    ("%00 at the end", "/git/team/app.git/info/refs%00"),
    ("%00 in the repository", "/git/team/app.git%00/info/refs"),
    ("bad escape %zz", "/git/team/app.git/info/refs%zz"),
    ("truncated escape %2", "/git/team/app.git/info/refs%2"),
    ("bad escape %fs", "/git/team/app.git/info/re%fs"),
    ("%2E in a name", "/git/team/app%2Egit/info/refs"),
    ("./ segment", "/git/team/./app.git/info/refs"),
    (
        "overlong UTF-8 dots",
        "/git/team/%C0%AE%C0%AE/other.git/info/refs",
    ),
];

/// `(what, path)`: ways to reach `team/other` from a path that starts at `team/app`.
const TRAVERSALS: &[(&str, &str)] = &[
    ("plain .. to a sibling", "/git/team/../other.git/info/refs"),
    ("plain ..", "/git/team/../team/other.git/info/refs"),
    (
        "plain .. after the repo",
        "/git/team/app.git/../other.git/info/refs",
    ),
    (
        "plain .. after the endpoint",
        "/git/team/app.git/info/refs/../../../other.git/info/refs",
    ),
    ("%2e%2e", "/git/team/app.git/%2e%2e/other.git/info/refs"),
    ("%2E%2E", "/git/team/%2E%2E/team/other.git/info/refs"),
    ("mixed .%2e", "/git/team/app.git/.%2e/other.git/info/refs"),
    ("mixed %2e.", "/git/team/app.git/%2e./other.git/info/refs"),
    ("..%2f", "/git/team/app.git/..%2fother.git/info/refs"),
    (
        "%2e%2e%2f",
        "/git/team/app.git/%2e%2e%2fother.git/info/refs",
    ),
    ("..\\", "/git/team/app.git/..\\other.git/info/refs"),
    ("..%5c", "/git/team/app.git/..%5cother.git/info/refs"),
    (
        "above the prefix",
        "/git/%2e%2e/git/team/other.git/info/refs",
    ),
];

#[test]
fn r2_malformed_paths_are_refused_before_the_backend() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let auth = vec![basic(&token)];
    let probes: Vec<Probe> = MALFORMED
        .iter()
        .map(|(what, path)| {
            Probe::new(
                what,
                head("GET", &format!("{path}{SERVICE}"), &auth),
                &[400],
            )
        })
        .collect();
    run_probes(&site, &probes);
    site.assert_backend_saw_only(&token, &[]);
}

#[test]
fn traversal_to_another_repository_is_refused_plain_and_encoded() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    // The direct way is refused for lack of a grant: that is what traversal would bypass.
    let direct = http::get(
        site.gate.port(),
        &format!("/git/team/other.git/info/refs{SERVICE}"),
        &[basic(&token)],
    );
    assert_eq!(direct.status, 403, "no grant on team/other: {direct:?}");
    assert!(direct.body.contains("git/team/other"), "{direct:?}");

    let auth = vec![basic(&token)];
    let mut probes: Vec<Probe> = TRAVERSALS
        .iter()
        .map(|(what, path)| {
            Probe::new(
                what,
                head("GET", &format!("{path}{SERVICE}"), &auth),
                &[400],
            )
        })
        .collect();
    // `%25` is an ordinary escape: `%252e%252e` is a segment literally named `%2e%2e`, inside
    // `app.git`, so no repository a backend would resolve; refused one way or another.
    probes.push(Probe::new(
        "double-encoded %252e%252e",
        head(
            "GET",
            &format!("/git/team/app.git/%252e%252e/other.git/info/refs{SERVICE}"),
            &auth,
        ),
        &[400, 403, 404],
    ));
    run_probes(&site, &probes);
    site.assert_backend_saw_only(&token, &[]);
    assert!(
        site.apache.requests_matching("other").is_empty(),
        "a request reached team/other:\n{}",
        site.apache.access_log()
    );
}
