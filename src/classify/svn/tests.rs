#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::classify::Progress;
use crate::classify::test_rows::{Parts, Want, outcome};

fn parent() -> SvnRoute {
    SvnRoute {
        prefix: vec!["svn".to_owned()],
        layout: SvnLayout::ParentPath,
    }
}

fn classify_with(
    route: &SvnRoute,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Classified, Refusal> {
    let parts = Parts::new(method, path, Vec::new(), headers);
    classify(&parts.request(), route)
}

type Row<'a> = (Want, &'a str, &'a str, &'a [(&'a str, &'a str)]);

fn check_rows(route: &SvnRoute, rows: &[Row<'_>]) {
    for (want, method, path, headers) in rows {
        let result = classify_with(route, method, path, headers);
        assert_eq!(
            outcome(&result),
            *want,
            "{method} {path} {headers:?} gave {result:?}"
        );
    }
}

const DEST_IN: &[(&str, &str)] = &[(
    "destination",
    "http://localhost:8080/svn/repo/!svn/txr/1-2/trunk/b",
)];

#[test]
fn methods_and_areas() {
    use Want::*;
    let rows: &[Row<'_>] = &[
        (Read, "OPTIONS", "repo", &[]),
        (Read, "OPTIONS", "repo/trunk", &[]),
        (Read, "PROPFIND", "repo/trunk/", &[]),
        (Read, "GET", "repo/trunk/README", &[]),
        (Read, "HEAD", "repo/trunk/README", &[]),
        (Read, "REPORT", "repo/!svn/me", &[]),
        (Read, "PROPFIND", "repo/!svn/rev/5", &[]),
        (Read, "PROPFIND", "repo/!svn/bln/5", &[]),
        (Read, "GET", "repo/!svn/rvr/5/trunk/README", &[]),
        (Read, "PROPFIND", "repo/!svn/vcc/default", &[]),
        (Read, "REPORT", "repo/!svn/bc/5/trunk", &[]),
        (Read, "GET", "repo/!svn/ver/5/trunk/README", &[]),
        (Read, "PROPFIND", "repo/!svn/his/x", &[]),
        // Commit-only areas are writes whatever the method.
        (Write, "PROPFIND", "repo/!svn/txn/5-6", &[]),
        (Write, "GET", "repo/!svn/txr/5-6/trunk/README", &[]),
        (Write, "HEAD", "repo/!svn/act/1234", &[]),
        (Write, "OPTIONS", "repo/!svn/wrk/1234/trunk", &[]),
        (Write, "REPORT", "repo/!svn/wbl/1234/5", &[]),
        (Write, "PROPFIND", "repo/!svn/vtxn/name", &[]),
        (Write, "GET", "repo/!svn/vtxr/name/trunk", &[]),
        // Write methods.
        (Write, "POST", "repo/!svn/me", &[]),
        (Write, "POST", "repo/!svn/me/", &[]),
        (Write, "PUT", "repo/!svn/txr/5-6/trunk/README", &[]),
        (Write, "DELETE", "repo/!svn/txn/5-6", &[]),
        (Write, "DELETE", "repo/trunk/README", &[]),
        (Write, "PROPPATCH", "repo/!svn/txr/5-6/trunk", &[]),
        (Write, "PROPPATCH", "repo/!svn/rev/5", &[]),
        (Write, "PROPPATCH", "repo/!svn/bln/5", &[]),
        (Write, "MKCOL", "repo/!svn/txr/5-6/trunk/dir", &[]),
        (Write, "MKACTIVITY", "repo/!svn/act/1234", &[]),
        (Write, "CHECKOUT", "repo/!svn/ver/5/trunk", &[]),
        (Write, "LOCK", "repo/trunk/README", &[]),
        (Write, "UNLOCK", "repo/trunk/README", &[]),
        (Write, "COPY", "repo/!svn/rvr/5/trunk", DEST_IN),
        (Write, "MOVE", "repo/!svn/rvr/5/trunk", DEST_IN),
        (Body, "MERGE", "repo", &[]),
        (Body, "MERGE", "repo/trunk", &[]),
        // POST elsewhere, unknown and lower-case methods.
        (Refuse, "POST", "repo", &[]),
        (Refuse, "POST", "repo/!svn/me/x", &[]),
        (Refuse, "POST", "repo/!svn/txn/5-6", &[]),
        (Refuse, "POST", "repo/trunk/!svn/me", &[]),
        (Refuse, "get", "repo/trunk", &[]),
        (Refuse, "propfind", "repo/trunk", &[]),
        (Refuse, "Put", "repo/trunk", &[]),
        (Refuse, "VERSION-CONTROL", "repo/trunk", &[]),
        (Refuse, "PATCH", "repo/trunk", &[]),
        (Refuse, "UNCHECKOUT", "repo/trunk", &[]),
        (Refuse, "SEARCH", "repo/trunk", &[]),
        (Refuse, "TRACE", "repo/trunk", &[]),
        (Refuse, "CONNECT", "repo/trunk", &[]),
        // `!svn` only directly below the repository root, with a known area.
        (Refuse, "PROPFIND", "repo/!svn", &[]),
        (Refuse, "PROPFIND", "repo/!svn/nope/1", &[]),
        (Refuse, "PROPFIND", "repo/!svn/ACT/1", &[]),
        (Refuse, "PROPFIND", "repo/trunk/!svn/act/1", &[]),
        (Refuse, "PROPFIND", "!svn/act/1", &[]),
        // The repository list has no repository.
        (Refuse, "PROPFIND", "", &[]),
        (Refuse, "OPTIONS", "", &[]),
        (Refuse, "GET", "", &[]),
    ];
    check_rows(&parent(), rows);
}

#[test]
fn copy_and_move_need_a_destination_in_the_same_repository() {
    use Want::*;
    let destinations = [
        (Write, "https://h/svn/repo/!svn/wrk/a/tags/1.0"),
        (Write, "http://[::1]:8080/svn/repo/tags/a%20b/"),
        (Write, "http://h/svn/re%70o/trunk/b"),
        (Refuse, "http://h/svn/other/trunk"),
        (Refuse, "http://h/svn/repo2/trunk"),
        (Refuse, "http://h/svn/Repo/trunk"),
        (Refuse, "http://h/svn/"),
        (Refuse, "http://h/git/repo/trunk"),
        (Refuse, "http://h"),
        (Refuse, "/svn/repo/trunk/b"),
        (Refuse, "svn/repo/trunk/b"),
        (Refuse, "HTTP://h/svn/repo/trunk/b"),
        (Refuse, "ftp://h/svn/repo/trunk/b"),
        (Refuse, "http://u@h/svn/repo/trunk/b"),
        (Refuse, "http://h/svn/repo/../other/trunk"),
        (Refuse, "http://h/svn/repo/./trunk"),
        (Refuse, "http://h/svn/repo%2F..%2Fother/x"),
        (Refuse, "http://h/svn/repo/%2e%2e/other/x"),
        (Refuse, "http://h/svn/repo\\..\\other/x"),
        (Refuse, "http://h/svn//repo/trunk"),
        (Refuse, "http://h/svn/repo/trunk;x"),
        (Refuse, "http://h/svn/repo/trunk?x=1"),
        (Refuse, "http://h/svn/repo/trunk#x"),
        (Refuse, "http://h/svn/repo/trunk%00"),
        (Refuse, "http://h/svn/repo/trunk%0a"),
        (Refuse, "http://h/svn/repo/trunk%zz"),
        (Refuse, "http://h/svn/repo/trunk%ff"),
        (Refuse, "http://h/svn/repo/a/!svn/act/x"),
        (Refuse, "http://h/svn/repo/!svn/nope"),
    ];
    for (want, destination) in destinations {
        for method in ["COPY", "MOVE"] {
            let result = classify_with(
                &parent(),
                method,
                "repo/trunk",
                &[("destination", destination)],
            );
            assert_eq!(
                outcome(&result),
                want,
                "{method} to {destination} gave {result:?}"
            );
        }
    }
    let rows: &[Row<'_>] = &[
        (Refuse, "COPY", "repo/trunk", &[]),
        (
            Refuse,
            "COPY",
            "repo/trunk",
            &[
                ("destination", "http://h/svn/repo/a"),
                ("destination", "http://h/svn/repo/b"),
            ],
        ),
    ];
    check_rows(&parent(), rows);
}

#[test]
fn single_repository_routes_have_an_empty_repository() {
    let route = SvnRoute {
        prefix: vec!["svn".to_owned(), "only".to_owned()],
        layout: SvnLayout::SingleRepository,
    };
    let Ok(Classified::Final(verdict)) = classify_with(&route, "OPTIONS", "", &[]) else {
        panic!("the route root is the repository");
    };
    assert!(verdict.repo.is_empty());
    assert_eq!(verdict.operation, Operation::Svn(SvnOp::Read));
    use Want::*;
    let rows: &[Row<'_>] = &[
        (Read, "PROPFIND", "trunk", &[]),
        (Write, "POST", "!svn/me", &[]),
        (Write, "PROPFIND", "!svn/txn/1-2", &[]),
        (
            Write,
            "COPY",
            "trunk",
            &[("destination", "http://h/svn/only/tags/x")],
        ),
        (
            Refuse,
            "COPY",
            "trunk",
            &[("destination", "http://h/svn/other/tags/x")],
        ),
        (
            Refuse,
            "COPY",
            "trunk",
            &[("destination", "http://h/svn/tags/x")],
        ),
        (Refuse, "PROPFIND", "trunk/!svn/act/1", &[]),
    ];
    check_rows(&route, rows);
}

#[test]
fn parent_path_repository_is_the_first_segment() {
    let Ok(Classified::Final(verdict)) = classify_with(&parent(), "GET", "repo/trunk/a/b", &[])
    else {
        panic!("a read");
    };
    assert_eq!(verdict.repo, ["repo"]);
}

fn merge_rule(path: &str) -> MergeBody {
    match classify_with(&parent(), "MERGE", path, &[]) {
        Ok(Classified::NeedsBody {
            repo,
            rule: BodyRule::Svn(rule),
        }) => {
            assert_eq!(repo, ["repo"]);
            rule
        }
        other => panic!("expected a MERGE body rule, got {other:?}"),
    }
}

const MERGE_V2: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/repo/!svn/txn/0-1</D:href></D:source><D:no-auto-merge/><D:no-checkout/><D:prop><D:checked-in/><D:version-name/><D:resourcetype/><D:creationdate/><D:creator-displayname/></D:prop></D:merge>";

#[test]
fn merge_decides_from_the_source_href_incrementally() {
    let body = MERGE_V2.as_bytes();
    let decided_at = MERGE_V2.find("</D:source>").unwrap() + "</D:source>".len();
    let mut rule = merge_rule("repo");
    for end in 0..decided_at {
        assert_eq!(
            rule.feed(&body[..end], false),
            Ok(Progress::NeedMore { total: end + 1 }),
            "prefix {:?}",
            &MERGE_V2[..end]
        );
    }
    let done = Ok(Progress::Complete(Operation::Svn(SvnOp::Merge)));
    assert_eq!(rule.feed(&body[..decided_at], false), done);
    assert_eq!(merge_rule("repo").feed(body, true), done);
    assert!(
        merge_rule("repo")
            .feed(&body[..decided_at - 1], true)
            .is_err()
    );
}

#[test]
fn merge_bodies_accepted_and_refused() {
    let merge = |href: &str| {
        format!(
            "<D:merge xmlns:D=\"DAV:\">\n<D:source>\n<D:href>{href}</D:href>\n</D:source></D:merge>"
        )
    };
    let accepted = [
        MERGE_V2.to_owned(),
        merge("/svn/repo/!svn/act/a5f1"),
        merge("http://localhost:8080/svn/repo/!svn/txn/0-1"),
        merge("  /svn/repo/!svn/txn/0-1\n"),
        merge("/svn/repo/!svn/txn/a&amp;b"),
        "<?xml version=\"1.0\"?><D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/repo/!svn/txn/1</D:href></D:source>".to_owned(),
    ];
    for body in &accepted {
        let result = merge_rule("repo").feed(body.as_bytes(), true);
        assert_eq!(
            result,
            Ok(Progress::Complete(Operation::Svn(SvnOp::Merge))),
            "{body}"
        );
    }
    let refused = [
        merge("/svn/other/!svn/txn/0-1"),
        merge("/svn/repo2/!svn/txn/0-1"),
        merge("/svn/repo/../other/!svn/txn/0-1"),
        merge("/svn/repo/%2e%2e/other/!svn/txn/0-1"),
        merge("/svn/repo%2F..%2Fother/!svn/txn/0-1"),
        merge("/svn/repo/!svn/txn/0-1?x"),
        merge("/other/repo/!svn/txn/0-1"),
        merge("svn/repo/!svn/txn/0-1"),
        merge("http://u@h/svn/repo/!svn/txn/0-1"),
        merge("/svn/repo/!svn/txn/&#48;"),
        merge("/svn/repo/!svn/txn/<![CDATA[x]]>"),
        merge("/svn/repo/!svn/txn/0-1</D:href><D:href>/svn/other/!svn/txn/1"),
        merge(""),
        "<X:merge xmlns:X=\"DAV:\"><X:source><X:href>/svn/repo/!svn/txn/0-1</X:href></X:source>".to_owned(),
        "<D:merge xmlns:D=\"urn:x\" xmlns:E=\"DAV:\"><D:source><D:href>/svn/repo/!svn/txn/0-1</D:href></D:source>".to_owned(),
        "<D:merge xmlns:D=\"DAV:\"><D:source xmlns:D=\"urn:x\"><D:href>/svn/repo/!svn/txn/0-1</D:href></D:source>".to_owned(),
        "<D:merge xmlns:D=\"DAV:\"><!-- c --><D:source><D:href>/svn/repo/!svn/txn/0-1</D:href></D:source>".to_owned(),
        "<!DOCTYPE x [<!ENTITY e \"/svn/other\">]><D:merge xmlns:D=\"DAV:\"><D:source><D:href>&e;</D:href></D:source>".to_owned(),
        "<?xml version=\"1.0\" encoding=\"UTF-16\"?><D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/repo/!svn/txn/0-1</D:href></D:source>".to_owned(),
        "\u{feff}<D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/repo/!svn/txn/0-1</D:href></D:source>".to_owned(),
        " <D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/repo/!svn/txn/0-1</D:href></D:source>".to_owned(),
        "not xml".to_owned(),
        String::new(),
    ];
    for body in &refused {
        let result = merge_rule("repo").feed(body.as_bytes(), true);
        assert!(result.is_err(), "{body} gave {result:?}");
    }
}

/// However the body is split into frames, the rule decides the same. (How far it may read
/// is the proxy's body prefix cap: proxy::settle.)
#[test]
fn merge_is_independent_of_frame_boundaries() {
    let bodies = [
        MERGE_V2.to_owned(),
        "<D:merge xmlns:D=\"DAV:\">\n <D:source> <D:href>/svn/repo/!svn/txn/1-2</D:href></D:source>".to_owned(),
        "<D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/other/!svn/txn/1-2</D:href></D:source>"
            .to_owned(),
        "<D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/repo/%zz</D:href></D:source>".to_owned(),
        "<D:merge xmlns:D=\"DAV:\"><!-- --><D:source>".to_owned(),
        "<D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/repo/".to_owned(),
    ];
    for body in &bodies {
        let whole = merge_rule("repo").feed(body.as_bytes(), true);
        for frame in 1..=body.len() + 1 {
            let mut rule = merge_rule("repo");
            let framed = crate::classify::test_rows::decide_in_frames(
                |prefix, eof| rule.feed(prefix, eof),
                body.as_bytes(),
                frame,
            );
            assert_eq!(framed, whole, "{body:?} in frames of {frame}");
        }
    }
}

#[test]
fn destination_parser_is_exposed_for_rewriting() {
    let url = parse_destination("https://example.org:8443/svn/repo/a%20b/").unwrap();
    assert_eq!(url.raw_path, "/svn/repo/a%20b/");
    assert_eq!(url.segments, ["svn", "repo", "a b"]);
    assert!(parse_destination("/svn/repo").is_err());
}

#[test]
fn only_plain_reads_are_reads_and_names_are_unique() {
    let all = [
        SvnOp::Read,
        SvnOp::CommitAreaRead,
        SvnOp::CreateTransaction,
        SvnOp::Put,
        SvnOp::Delete,
        SvnOp::Proppatch,
        SvnOp::RevpropChange,
        SvnOp::Mkcol,
        SvnOp::Mkactivity,
        SvnOp::Checkout,
        SvnOp::Merge,
        SvnOp::Lock,
        SvnOp::Unlock,
        SvnOp::Copy,
        SvnOp::Move,
    ];
    let reads: Vec<_> = all
        .iter()
        .filter(|op| op.access() == Access::Read)
        .collect();
    assert_eq!(reads, [&SvnOp::Read]);
    let mut names: Vec<_> = all.iter().map(|op| op.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len());
}

/// A URL inside an svn request (Destination, MERGE href) is resolved by Apache like a request
/// path, so it passes exactly the request line's path rules: every path below is accepted by
/// both or refused by both.
#[test]
fn hrefs_follow_the_request_line_path_rules() {
    let paths = [
        "/svn/repo/trunk/a%20b",
        "/svn/repo/caf%C3%A9",
        "/svn/repo/trunk/",
        "/svn/repo/a%C2%85b",
        "/svn/repo/a%C2%9Fb",
        "/svn/repo/a%7Fb",
        "/svn/repo/a%0Ab",
        "/svn/repo/%C0%AF",
        "/svn/repo/%FF",
        "/svn/repo/%2e%2e/x",
        "/svn/repo/a%2Fb",
        "/svn/repo/a%5cb",
        "/svn/repo/a%00b",
        "/svn/repo/a%zzb",
        "/svn/repo/a%2",
        "/svn//repo",
        "/svn/./repo",
        "/svn/../repo",
        "/svn/repo;x",
    ];
    for path in paths {
        let uri: http::Uri = path.parse().unwrap();
        let line = crate::canon::canonicalise(&http::Method::GET, &uri, &http::HeaderMap::new());
        let url = format!("http://h{path}");
        let href = parse_destination(&url);
        assert_eq!(
            href.is_ok(),
            line.is_ok(),
            "{path}: href {href:?}, request line {line:?}"
        );
    }
}
