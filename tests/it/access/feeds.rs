//! Feed tokens (RhodeCode's): a `read_feed` token reads hgweb's feeds (the default
//! `feed_paths` of hg routes) by URL, Basic or Bearer, and nothing else.

use super::{HgAccess, curl, logged};
use crate::support::hg::HgClient;
use crate::support::http;

#[test]
fn feeds_with_a_feed_token_by_url_basic_and_bearer() {
    let world = HgAccess::start();
    let feed = &world.tokens.feed;
    let scratch = tempfile::tempdir().unwrap();
    let atom = scratch.path().join("atom.xml");
    let status = curl(
        &format!("{}/atom-log?auth_token={feed}", world.url("app")),
        &atom,
        &[],
    );
    world.check(status == 200, &format!("atom-log by URL: {status}"));
    let text = std::fs::read_to_string(&atom).unwrap();
    assert!(
        text.contains("<feed") && text.contains("add README"),
        "an Atom feed of the log: {text}"
    );
    let rss = scratch.path().join("rss.xml");
    let status = curl(
        &format!("{}/rss-log", world.url("app")),
        &rss,
        &["-u", &format!("reader:{feed}")],
    );
    world.check(status == 200, &format!("rss-log by Basic: {status}"));
    let text = std::fs::read_to_string(&rss).unwrap();
    assert!(
        text.contains("<rss") && text.contains("add README"),
        "{text}"
    );
    let port = world.port();
    let bearer = [http::bearer(feed)];
    let response = http::get(port, "/hg/team/app/atom-tags", &bearer);
    world.check(
        response.status == 200,
        &format!("atom-tags by Bearer: {response:?}"),
    );

    for (path, form) in [
        ("/hg/team/app/atom-log", "credential=url"),
        ("/hg/team/app/rss-log", "credential=basic"),
        ("/hg/team/app/atom-tags", "credential=bearer"),
    ] {
        let fields = ["token=feed", "status=200", form];
        world.check(
            logged(&world.gate, path, &fields),
            &format!("{path}: {form}"),
        );
    }
    // a feed path takes read_repository too (by header)
    let read = [http::basic("alice", &world.tokens.read)];
    assert_eq!(http::get(port, "/hg/team/app/atom-log", &read).status, 200);
}

#[test]
fn a_feed_token_is_refused_elsewhere() {
    let world = HgAccess::start();
    let feed = &world.tokens.feed;
    let port = world.port();
    let basic = [http::basic("reader", feed)];
    // other pages and the wire protocol: 403 by header
    for target in [
        "/hg/team/app/log",
        "/hg/team/app/raw-file/tip/README",
        "/hg/team/app/json-log",
        "/hg/team/app?cmd=capabilities",
    ] {
        let response = http::get(port, target, &basic);
        world.check(
            response.status == 403,
            &format!("GET {target}: {response:?}"),
        );
        assert!(
            response.reason.contains("lacks read_repository"),
            "{response:?}"
        );
    }
    // by URL: not accepted off the feed and URL-token paths (400), and on a URL-token path
    // it lacks read_web (403)
    let target = format!("/hg/team/app/log?auth_token={feed}");
    assert_eq!(http::get(port, &target, &[]).status, 400);
    let target = format!("/hg/team/app/raw-file/tip/README?auth_token={feed}");
    let response = http::get(port, &target, &[]);
    assert_eq!(response.status, 403, "{response:?}");
    assert!(response.reason.contains("lacks read_web"), "{response:?}");
    // a repository without a grant
    let target = format!("/hg/team/other/atom-log?auth_token={feed}");
    assert_eq!(http::get(port, &target, &[]).status, 403);
    // no clone with it
    let hg = HgClient::new();
    let url = world
        .url("app")
        .replace("http://", &format!("http://reader:{feed}@"));
    let out = hg.run(&["clone", &url, "app"], None);
    world.check(
        !out.ok(),
        &format!("hg clone with a read_feed token: {out}"),
    );
}
