#![allow(clippy::unwrap_used)]

use super::*;
use crate::classify::hg::{HgCommand, HgOp};
use crate::classify::{Operation, Verdict};

fn rules(web: &[&str], feed: &[&str]) -> PathRules {
    let parse = |list: &[&str]| {
        list.iter()
            .map(|p| RepoPattern::parse(p).unwrap())
            .collect()
    };
    PathRules {
        url_token_paths: parse(web),
        feed_paths: parse(feed),
    }
}

fn segments(path: &str) -> Vec<String> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn verdict(repo: &str, op: HgOp) -> Classified {
    Classified::Final(Verdict::new(segments(repo), Operation::Hg(op)))
}

const WEB: Area = Area {
    web: true,
    feed: false,
};
const FEED: Area = Area {
    web: false,
    feed: true,
};
const NONE: Area = Area {
    web: false,
    feed: false,
};

#[test]
fn area_rows() {
    let r = rules(&["archive/*", "raw-file/**"], HG_DEFAULT_FEED_PATHS);
    let head = Method::HEAD;
    let post = Method::POST;
    // (method, path below prefix, classified repo, operation, area)
    let rows: &[(&Method, &str, &str, HgOp, Area)] = &[
        (
            &Method::GET,
            "team/app/archive/tip.tar.gz",
            "team/app",
            HgOp::Page,
            WEB,
        ),
        (
            &head,
            "team/app/archive/tip.zip",
            "team/app",
            HgOp::Page,
            WEB,
        ),
        (
            &Method::GET,
            "team/app/raw-file/tip/a/b.txt",
            "team/app",
            HgOp::Page,
            WEB,
        ),
        (
            &Method::GET,
            "team/app/raw-file",
            "team/app",
            HgOp::Page,
            WEB,
        ),
        (
            &Method::GET,
            "team/app/atom-log",
            "team/app",
            HgOp::Page,
            FEED,
        ),
        (
            &Method::GET,
            "team/app/rss-tags/x",
            "team/app",
            HgOp::Page,
            FEED,
        ),
        // not listed
        (
            &Method::GET,
            "team/app/archive",
            "team/app",
            HgOp::Page,
            NONE,
        ),
        (
            &Method::GET,
            "team/app/archive/a/b",
            "team/app",
            HgOp::Page,
            NONE,
        ),
        (&Method::GET, "team/app/log", "team/app", HgOp::Page, NONE),
        (
            &Method::GET,
            "team/app/json-log",
            "team/app",
            HgOp::Page,
            NONE,
        ),
        (
            &Method::GET,
            "team/app/Archive/tip.zip",
            "team/app",
            HgOp::Page,
            NONE,
        ),
        (
            &Method::GET,
            "team/app/atom-logx",
            "team/app",
            HgOp::Page,
            NONE,
        ),
        // the repository root (the wire protocol) is never an area
        (&Method::GET, "team/app", "team/app", HgOp::Page, NONE),
        (
            &Method::GET,
            "team/app",
            "team/app",
            HgOp::Wire(HgCommand::Heads),
            NONE,
        ),
        // other methods, writes
        (
            &post,
            "team/app/archive/tip.zip",
            "team/app",
            HgOp::Page,
            NONE,
        ),
        (
            &Method::GET,
            "team/app/archive/tip.zip",
            "team/app",
            HgOp::Wire(HgCommand::Unbundle),
            NONE,
        ),
        // the repository must be a prefix of the path
        (
            &Method::GET,
            "team/app/archive/tip.zip",
            "team/other",
            HgOp::Page,
            NONE,
        ),
    ];
    for (method, path, repo, op, expected) in rows {
        let got = area(&r, method, &segments(path), &verdict(repo, *op));
        assert_eq!(got, *expected, "{method} {path} ({repo}, {op:?})");
    }
    let none = rules(&[], &[]);
    let got = area(
        &none,
        &Method::GET,
        &segments("team/app/archive/x"),
        &verdict("team/app", HgOp::Page),
    );
    assert_eq!(got, NONE, "the feature is off by default");
}

#[test]
fn url_token_rows() {
    assert_eq!(check_url_token(NONE, false, false), Ok(()));
    assert_eq!(check_url_token(NONE, false, true), Ok(()));
    assert_eq!(check_url_token(WEB, true, false), Ok(()));
    assert_eq!(check_url_token(FEED, true, false), Ok(()));
    assert_eq!(
        check_url_token(NONE, true, false),
        Err(UrlTokenRefusal::NotAccepted)
    );
    assert_eq!(check_url_token(WEB, true, true), Err(UrlTokenRefusal::Both));
    assert_eq!(
        check_url_token(NONE, true, true),
        Err(UrlTokenRefusal::Both)
    );
}

#[test]
fn scope_rows() {
    let set = |s: &[Scope]| s.iter().copied().collect::<ScopeSet>();
    let read = set(&[Scope::ReadRepository]);
    let write = set(&[Scope::WriteRepository]);
    let web = set(&[Scope::ReadWeb]);
    let feed = set(&[Scope::ReadFeed]);
    let api = set(&[Scope::Api]);
    let both = Area {
        web: true,
        feed: true,
    };
    use Access::{Read, Write};
    // (scopes, access, area, by_url, result)
    type Row = (ScopeSet, Access, Area, bool, Result<(), Scope>);
    let rows: &[Row] = &[
        // by URL: only the narrow scopes, only on their paths
        (web, Read, WEB, true, Ok(())),
        (feed, Read, FEED, true, Ok(())),
        (web, Read, both, true, Ok(())),
        (feed, Read, both, true, Ok(())),
        (read, Read, WEB, true, Err(Scope::ReadWeb)),
        (write, Read, WEB, true, Err(Scope::ReadWeb)),
        (read, Read, FEED, true, Err(Scope::ReadFeed)),
        (feed, Read, WEB, true, Err(Scope::ReadWeb)),
        (web, Read, FEED, true, Err(Scope::ReadFeed)),
        (web, Read, NONE, true, Err(Scope::ReadWeb)),
        (web, Write, WEB, true, Err(Scope::ReadWeb)),
        // by header: read_web is never a VCS credential; read_feed reads feeds only
        (web, Read, NONE, false, Err(Scope::ReadRepository)),
        (web, Read, WEB, false, Err(Scope::ReadRepository)),
        (feed, Read, FEED, false, Ok(())),
        (feed, Read, NONE, false, Err(Scope::ReadRepository)),
        (feed, Write, FEED, false, Err(Scope::WriteRepository)),
        (read, Read, FEED, false, Ok(())),
        (write, Read, FEED, false, Ok(())),
        (read, Read, NONE, false, Ok(())),
        (read, Write, NONE, false, Err(Scope::WriteRepository)),
        (api, Read, FEED, false, Err(Scope::ReadRepository)),
        (api, Read, WEB, true, Err(Scope::ReadWeb)),
    ];
    for (scopes, access, area, by_url, expected) in rows {
        assert_eq!(
            check_scopes(*scopes, *access, *area, *by_url),
            *expected,
            "{} {access} {area:?} by_url={by_url}",
            scopes.to_list()
        );
    }
}
