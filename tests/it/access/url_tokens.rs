//! `?auth_token=` (RhodeCode's web-interface tokens): a `read_web` token downloads hgweb
//! archives and raw files and svn files, and nothing else; the parameter never reaches a
//! backend or a log.

use std::process::Command;

use super::{HgAccess, SvnAccess, curl, logged};
use crate::support::hg::HgClient;
use crate::support::svn::SvnClient;
use crate::support::{http, process, tools};

#[test]
fn hgweb_archive_and_raw_file_downloads_with_a_url_token() {
    let world = HgAccess::start();
    let scratch = tempfile::tempdir().unwrap();
    let web = &world.tokens.web;

    let archive = scratch.path().join("app.tar.gz");
    let url = format!("{}/archive/tip.tar.gz?auth_token={web}", world.url("app"));
    let status = curl(&url, &archive, &[]);
    world.check(status == 200, &format!("archive download: {status}"));
    let mut tar = Command::new(tools::tar());
    tar.arg("-xzOf")
        .arg(&archive)
        .args(["--wildcards", "*/README"]);
    let out = process::run(&mut tar);
    assert!(out.ok(), "the download is a tar.gz holding README: {out}");
    assert_eq!(out.stdout, "first\n");

    let raw = scratch.path().join("README");
    let url = format!("{}/raw-file/tip/README?auth_token={web}", world.url("app"));
    let status = curl(&url, &raw, &[]);
    world.check(status == 200, &format!("raw-file download: {status}"));
    assert_eq!(std::fs::read_to_string(&raw).unwrap(), "first\n");
    // the encoded name is the same parameter (and is taken out as well)
    let target = format!("/hg/team/app/raw-file/tip/README?auth%5Ftoken={web}");
    let response = http::get(world.port(), &target, &[]);
    assert_eq!((response.status, response.body.as_str()), (200, "first\n"));
    let target = format!("/hg/team/app/raw-file/tip/README?style=raw&auth_token={web}");
    assert_eq!(http::get(world.port(), &target, &[]).status, 200);
    // HEAD is accepted too (hg serve itself does not implement HEAD: whatever it answers,
    // vcsgate let the request through)
    let target = format!("/hg/team/app/raw-file/tip/README?auth_token={web}");
    let response = http::request(world.port(), "HEAD", &target, &[]);
    assert!(
        ![400, 401, 403].contains(&response.status),
        "HEAD with a URL token: {response:?}"
    );

    let path = "/hg/team/app/raw-file/tip/README";
    world.check(
        logged(&world.gate, path, &["credential=url", "token=web"]),
        "the access log names the form and the token (never its value)",
    );
    let backend = world.backend_requests();
    let downloads: Vec<&String> = backend
        .iter()
        .filter(|l| l.contains("/raw-file/") || l.contains("/archive/"))
        .collect();
    assert!(
        downloads.len() >= 5,
        "the downloads reached hg serve: {backend:?}"
    );
    for line in &downloads {
        assert!(
            !line.contains("auth_token") && !line.contains("auth%5F"),
            "{line}"
        );
    }
    world.check(
        downloads.iter().any(|l| l.contains("style=raw")),
        "the other parameters are forwarded",
    );
}

#[test]
fn a_url_token_is_refused_everywhere_else() {
    let world = HgAccess::start();
    let web = &world.tokens.web;
    let port = world.port();
    let before = world.backend_requests().len();
    // other paths, the wire protocol, other methods: 400 before any lookup
    for target in [
        format!("/hg/team/app/log?auth_token={web}"),
        format!("/hg/team/app/rev/tip?auth_token={web}"),
        format!("/hg/team/app/archive?auth_token={web}"),
        format!("/hg/team/app/raw-rev/tip?auth_token={web}"),
        format!("/hg/team/app?cmd=capabilities&auth_token={web}"),
        format!("/hg/team/app?auth_token={web}"),
    ] {
        let response = http::get(port, &target, &[]);
        world.check(
            response.status == 400,
            &format!("GET {target}: {response:?}"),
        );
        assert!(response.reason.contains("auth_token"), "{response:?}");
    }
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let target = format!("/hg/team/app/archive/tip.zip?auth_token={web}");
        let response = http::request(port, method, &target, &[]);
        world.check(response.status == 400, &format!("{method}: {response:?}"));
    }
    // malformed placements
    for target in [
        format!("/hg/team/app/archive/tip.zip?auth_token={web}&auth_token={web}"),
        format!("/hg/team/app/archive/tip.zip?auth_token={web}&auth%5Ftoken={web}"),
        "/hg/team/app/archive/tip.zip?auth_token=".to_string(),
        format!("/hg/team/app/archive/tip.zip?AUTH_TOKEN={web}"),
    ] {
        let response = http::get(port, &target, &[]);
        world.check(
            response.status == 400,
            &format!("GET {target}: {response:?}"),
        );
    }
    // a header and the parameter together
    let target = format!("/hg/team/app/archive/tip.zip?auth_token={web}");
    let response = http::get(port, &target, &[http::basic("alice", &world.tokens.read)]);
    world.check(response.status == 400, &format!("both: {response:?}"));
    let lines = world.backend_requests();
    assert_eq!(lines.len(), before, "nothing reached hg serve: {lines:?}");
    // every refusal is logged without a user: no token was looked up
    let unauthenticated = ["status=400", "user=- token=- credential=-"];
    for path in [
        "/hg/team/app/log",
        "/hg/team/app/rev/tip",
        "/hg/team/app/raw-rev/tip",
        "/hg/team/app",
        "/hg/team/app/archive/tip.zip",
    ] {
        world.check(
            logged(&world.gate, path, &unauthenticated),
            &format!("{path} refused before authentication"),
        );
    }
    world.check(
        !world.gate.log().contains("token=web"),
        "no refused request was looked up",
    );

    // the right place but the wrong token: repository tokens are not URL tokens
    for token in [&world.tokens.read, &world.tokens.write] {
        let target = format!("/hg/team/app/archive/tip.zip?auth_token={token}");
        let response = http::get(port, &target, &[]);
        world.check(response.status == 403, &format!("read token: {response:?}"));
        assert!(response.reason.contains("lacks read_web"), "{response:?}");
    }
    // an unknown token: 401 with the challenge
    let target = "/hg/team/app/archive/tip.zip?auth_token=vcsg_unknown0000000000000000";
    let response = http::get(port, target, &[]);
    assert_eq!(response.status, 401, "{response:?}");
    // a repository alice has no grant for
    let target = format!("/hg/team/other/archive/tip.zip?auth_token={web}");
    assert_eq!(http::get(port, &target, &[]).status, 403);

    // read_web is no VCS credential, not even on the download paths
    let headers = [http::basic("alice", web)];
    let response = http::get(port, "/hg/team/app/raw-file/tip/README", &headers);
    assert_eq!(response.status, 403, "{response:?}");
    let response = http::get(port, "/hg/team/app?cmd=capabilities", &headers);
    assert_eq!(response.status, 403, "{response:?}");
    let hg = HgClient::new();
    let url = world
        .url("app")
        .replace("http://", &format!("http://alice:{web}@"));
    let out = hg.run(&["clone", &url, "app"], None);
    world.check(!out.ok(), &format!("hg clone with a read_web token: {out}"));
    world.check(
        out.stderr.contains("lacks read_repository"),
        &format!("hg shows why: {out}"),
    );
}

#[test]
fn svn_file_download_with_a_url_token() {
    let world = SvnAccess::start();
    let web = &world.tokens.web;
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("README");
    let status = curl(
        &format!("{}?auth_token={web}", world.url("/trunk/README")),
        &file,
        &[],
    );
    world.check(status == 200, &format!("svn file download: {status}"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "readme\n");
    world.check(
        logged(&world.gate, "/svn/repo/trunk/README", &["credential=url"]),
        "logged as a URL credential",
    );

    let port = world.port();
    // outside trunk/**, the repository root, other methods: 400
    for (method, target) in [
        ("GET", format!("/svn/repo/branches?auth_token={web}")),
        ("GET", format!("/svn/repo?auth_token={web}")),
        ("GET", format!("/svn/repo/!svn/me?auth_token={web}")),
        (
            "PROPFIND",
            format!("/svn/repo/trunk/README?auth_token={web}"),
        ),
        (
            "OPTIONS",
            format!("/svn/repo/trunk/README?auth_token={web}"),
        ),
        ("PUT", format!("/svn/repo/trunk/README?auth_token={web}")),
    ] {
        let response = http::request(port, method, &target, &[]);
        world.check(
            response.status == 400,
            &format!("{method} {target}: {response:?}"),
        );
    }
    let backend = world.backend_requests();
    let readme: Vec<&String> = backend
        .iter()
        .filter(|l| l.contains("/svn/repo/trunk/README"))
        .collect();
    assert_eq!(
        readme.len(),
        1,
        "only the download reached Apache: {backend:?}"
    );
    assert!(
        !readme[0].contains('?'),
        "no query was forwarded: {}",
        readme[0]
    );

    // no svn client access with it
    let svn = SvnClient::new();
    let out = svn.run(
        Some(("anyone", web)),
        &["checkout", &world.url("/trunk"), "wc"],
        None,
    );
    world.check(
        !out.ok(),
        &format!("svn checkout with a read_web token: {out}"),
    );
}
