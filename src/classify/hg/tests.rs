#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::classify::test_rows::{Parts, Want, outcome};
use crate::classify::{BodyRule, Progress, Verdict};

const TEAM: HgRoute = HgRoute {
    repo_depth: Some(2),
};

/// Classifies `"METHOD path?query"` (query values taken literally, already decoded) with
/// headers written `"name: value"`.
fn classify_line(route: HgRoute, line: &str, headers: &[&str]) -> Result<Classified, Refusal> {
    let (method, target) = line.split_once(' ').unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|h| h.split_once(": ").unwrap_or((h, "")))
        .collect();
    let parts = Parts::new(method, path, pairs, &headers);
    classify(&parts.request(), &route)
}

type Row<'a> = (Want, &'a str, &'a [&'a str]);

fn check_rows(route: HgRoute, rows: &[Row<'_>]) {
    for (want, line, headers) in rows {
        let result = classify_line(route, line, headers);
        assert_eq!(
            outcome(&result),
            *want,
            "{line} {headers:?} gave {result:?}"
        );
    }
}

const NO: &[&str] = &[];

#[test]
fn wire_commands_read_write_and_refuse() {
    use Want::*;
    let rows: &[Row<'_>] = &[
        (Read, "GET team/app?cmd=capabilities", NO),
        (Read, "GET team/app/?cmd=capabilities", NO),
        (Read, "POST team/app?cmd=capabilities", NO),
        (Read, "GET team/app?cmd=heads", NO),
        (Read, "GET team/app?cmd=stream_out", NO),
        (Read, "GET team/app?cmd=statlfile", &["x-hgarg-1: sha=ab"]),
        (Read, "GET team/app?cmd=lookup&key=tip", NO),
        (
            Read,
            "GET team/app?cmd=getbundle",
            &["x-hgarg-1: bookmarks=1&bundlecaps=HG20%2Cbundle2%3DHG20&cg=1&common=00&heads=ab"],
        ),
        (
            Write,
            "POST team/app?cmd=unbundle",
            &["x-hgarg-1: heads=666f726365"],
        ),
        (
            Write,
            "POST team/app?cmd=pushkey",
            &["x-hgarg-1: key=main&namespace=bookmarks&new=abcd&old="],
        ),
        (Write, "POST team/app?cmd=putlfile", &["x-hgarg-1: sha=ab"]),
        // Write commands need POST (hgweb: "push requires POST request").
        (Refuse, "GET team/app?cmd=unbundle", NO),
        (Refuse, "GET team/app?cmd=pushkey", NO),
        (Refuse, "GET team/app?cmd=putlfile", NO),
        // Methods: exact tokens, GET/POST only.
        (Refuse, "HEAD team/app?cmd=capabilities", NO),
        (Refuse, "PUT team/app?cmd=heads", NO),
        (Refuse, "get team/app?cmd=capabilities", NO),
        (Refuse, "post team/app?cmd=unbundle", NO),
        // Command names: exact, case-sensitive, known.
        (Refuse, "GET team/app?cmd=HEADS", NO),
        (Refuse, "GET team/app?cmd=Heads", NO),
        (Refuse, "GET team/app?cmd=heads ", NO),
        (Refuse, "GET team/app?cmd=heads+", NO),
        (Refuse, "GET team/app?cmd=heads\0", NO),
        (Refuse, "POST team/app?cmd=Unbundle", NO),
        (Refuse, "GET team/app?cmd=log", NO),
        (Refuse, "GET team/app?cmd=", NO),
        (Refuse, "GET team/app?cmd=listkeyspatterns", NO),
        // R3: keys the command does not read.
        (Refuse, "GET team/app?cmd=capabilities&x=1", NO),
        (Refuse, "GET team/app?cmd=lookup&namespace=x", NO),
        (Refuse, "GET team/app?cmd=heads&cmds=pushkey ", NO),
        (Refuse, "GET team/app?cmd=lookup&key=caf\u{e9}", NO),
        // Arguments in headers the command does not read, or given twice.
        (
            Refuse,
            "GET team/app?cmd=heads",
            &["x-hgarg-1: cmd=unbundle"],
        ),
        (
            Refuse,
            "GET team/app?cmd=lookup",
            &["x-hgarg-1: key=a&key=b"],
        ),
        (
            Refuse,
            "GET team/app?cmd=lookup&key=a",
            &["x-hgarg-1: key=b"],
        ),
    ];
    check_rows(TEAM, rows);
}

#[test]
fn header_arguments_follow_hg_numbering_exactly() {
    use Want::*;
    let lookup = "GET team/app?cmd=lookup";
    let rows: &[Row<'_>] = &[
        (Read, lookup, &["x-hgarg-1: key=tip"]),
        (Read, lookup, &["X-HgArg-1: key=tip"]),
        (Read, lookup, &["x-hgarg-1: ke", "x-hgarg-2: y=tip"]),
        (Read, lookup, &["x-hgarg-2: y=tip", "x-hgarg-1: ke"]),
        // hg serve drops empty header values and strips the others (ending the chain at an
        // empty one), CGI and WSGI servers keep them as sent: refused.
        (Refuse, lookup, &["x-hgarg-1: "]),
        (Refuse, lookup, &["x-hgarg-1: ", "x-hgarg-2: key=tip"]),
        (Refuse, lookup, &["x-hgarg-1: key=tip "]),
        (Refuse, lookup, &["x-hgarg-1: ke", "x-hgarg-2:  y=tip"]),
        (Refuse, lookup, &["x-hgarg-1: key=tip\t"]),
        (Refuse, lookup, &["x-hgarg-1: ke", "x-hgarg-3: y=tip"]),
        (Refuse, lookup, &["x-hgarg-2: key=tip"]),
        (Refuse, lookup, &["x-hgarg-0: key=tip"]),
        (Refuse, lookup, &["x-hgarg-01: key=tip"]),
        (Refuse, lookup, &["x-hgarg-1x: key=tip"]),
        (Refuse, lookup, &["x-hgarg-: key=tip"]),
        (Refuse, lookup, &["x-hgarg-+1: key=tip"]),
        (Refuse, lookup, &["x-hgarg-1: key=tip", "x-hgarg-1: x"]),
        (Refuse, lookup, &["X-HGARG-1: key=tip", "x-hgarg-1: x"]),
        (Refuse, lookup, &["x_hgarg_1: key=tip"]),
        (Refuse, lookup, &["X_HgArg-1: key=tip"]),
        // Forms hg's parse_qs reads differently or fails on.
        (Refuse, lookup, &["x-hgarg-1: key=tip;key=x"]),
        (Refuse, lookup, &["x-hgarg-1: key=%zz"]),
        (Refuse, lookup, &["x-hgarg-1: key=%C3%A9"]),
        (Refuse, lookup, &["x-hgarg-1: key=tip&"]),
        (Refuse, lookup, &["x-hgarg-1: key"]),
        (Refuse, lookup, &["x-hgarg-1: =tip"]),
    ];
    check_rows(TEAM, rows);
}

#[test]
fn batch_is_the_highest_access_of_its_commands() {
    use Want::*;
    let get = "GET team/app?cmd=batch";
    let post = "POST team/app?cmd=batch";
    let pushkey =
        "x-hgarg-1: cmds=heads+%3Bpushkey+key%3Dm%2Cnamespace%3Dbookmarks%2Cnew%3Dab%2Cold%3D";
    let rows: &[Row<'_>] = &[
        // What hg 6 sends for a pull: "heads ;known nodes=".
        (Read, get, &["x-hgarg-1: cmds=heads+%3Bknown+nodes%3D"]),
        (
            Read,
            get,
            &["x-hgarg-1: cmds=heads+%3", "x-hgarg-2: Bknown+nodes%3D"],
        ),
        (
            Read,
            get,
            &["x-hgarg-1: cmds=lookup+key%3Dtip%3Blistkeys+namespace%3Dbookmarks"],
        ),
        (Read, get, &["x-hgarg-1: cmds=lookup+key%3Da:cb:o:s:e"]),
        (Read, "GET team/app?cmd=batch&cmds=heads ;known nodes=", NO),
        // CVE-2018-1000132: a pushkey hidden in a batch.
        (Write, post, &[pushkey]),
        (Refuse, get, &[pushkey]),
        // The same, with the `;` escape split across two headers.
        (
            Write,
            post,
            &[
                "x-hgarg-1: cmds=heads+%3",
                "x-hgarg-2: Bpushkey+namespace%3Dbookmarks",
            ],
        ),
        (Write, post, &["x-hgarg-1: cmds=unbundle+heads%3Dab"]),
        (
            Refuse,
            "GET team/app?cmd=batch&cmds=pushkey namespace=x",
            NO,
        ),
        // Unparsable or unknown elements refuse the whole batch.
        (Refuse, get, &["x-hgarg-1: cmds=batch+cmds%3Dheads"]),
        (Refuse, get, &["x-hgarg-1: cmds=evil+"]),
        (Refuse, get, &["x-hgarg-1: cmds=HEADS+"]),
        (Refuse, get, &["x-hgarg-1: cmds=heads"]),
        (Refuse, get, &["x-hgarg-1: cmds="]),
        (Refuse, get, &["x-hgarg-1: cmds=heads+%3B"]),
        (Refuse, get, &["x-hgarg-1: cmds=+heads"]),
        (Refuse, get, &["x-hgarg-1: cmds=known+nodes"]),
        (Refuse, get, &["x-hgarg-1: cmds=known+nodes%3Da%3Db"]),
        (Refuse, get, &["x-hgarg-1: cmds=lookup+foo%3Dbar"]),
        (Refuse, get, &["x-hgarg-1: cmds=lookup+key%3Da:x"]),
        (Refuse, get, NO),
        (Refuse, get, &["x-hgarg-1: cmds=heads+&other=1"]),
        (
            Refuse,
            "GET team/app?cmd=batch&cmds=heads ",
            &["x-hgarg-1: cmds=heads+"],
        ),
        // hg reads a query `+` as a space; the canonical query keeps it (fail closed).
        (
            Refuse,
            "GET team/app?cmd=batch&cmds=heads+;known+nodes=",
            NO,
        ),
    ];
    check_rows(TEAM, rows);
}

fn post_rule(query: &str, headers: &[&str]) -> (Vec<String>, PostArgs) {
    match classify_line(TEAM, &format!("POST team/app?{query}"), headers) {
        Ok(Classified::NeedsBody {
            repo,
            rule: BodyRule::Hg(rule),
        }) => (repo, rule),
        other => panic!("expected an hg body rule, got {other:?}"),
    }
}

#[test]
fn post_arguments_decide_after_exactly_n_bytes() {
    let args = "cmds=heads+%3Bpushkey+namespace%3Dbookmarks";
    let length = format!("x-hgargs-post: {}", args.len());
    let headers = [length.as_str()];
    let (repo, mut rule) = post_rule("cmd=batch", &headers);
    assert_eq!(repo, ["team", "app"]);
    assert_eq!(rule.length(), args.len());
    let body = format!("{args}HG20 bundle bytes");
    let body = body.as_bytes();
    for end in 0..args.len() {
        let need = Ok(Progress::NeedMore { total: args.len() });
        assert_eq!(rule.feed(&body[..end], false), need);
    }
    let write = Ok(Progress::Complete(Operation::Hg(HgOp::Batch(
        Access::Write,
    ))));
    assert_eq!(rule.feed(&body[..args.len()], false), write);
    assert_eq!(post_rule("cmd=batch", &headers).1.feed(body, true), write);
    // A body that ends early is refused.
    assert!(
        post_rule("cmd=batch", &headers)
            .1
            .feed(&body[..3], true)
            .is_err()
    );

    let read = "cmds=heads+%3Bknown+nodes%3D";
    let length = format!("x-hgargs-post: {}", read.len());
    let mut rule = post_rule("cmd=batch", &[length.as_str()]).1;
    let done = Ok(Progress::Complete(Operation::Hg(HgOp::Batch(Access::Read))));
    assert_eq!(rule.feed(read.as_bytes(), true), done);
}

#[test]
fn post_arguments_are_checked_like_header_arguments() {
    let cases = [
        ("cmd=batch&cmds=heads ", "cmds=heads+"),
        ("cmd=lookup", "key=a&key=b"),
        ("cmd=lookup", "cmd=unbundle"),
        ("cmd=lookup", "key=a;key=b"),
        ("cmd=lookup", "key=%ff"),
        ("cmd=batch", "cmds=evil+"),
    ];
    for (query, body) in cases {
        let length = format!("x-hgargs-post: {}", body.len());
        let result = post_rule(query, &[length.as_str()])
            .1
            .feed(body.as_bytes(), true);
        assert!(result.is_err(), "{query:?} {body:?} gave {result:?}");
    }
    let mut rule = post_rule("cmd=unbundle", &["x-hgargs-post: 7"]).1;
    let done = Ok(Progress::Complete(Operation::Hg(HgOp::Wire(
        HgCommand::Unbundle,
    ))));
    assert_eq!(rule.feed(b"heads=0HG20...", false), done);
}

#[test]
fn post_argument_length_is_strict() {
    use Want::*;
    let post = "POST team/app?cmd=batch";
    // Any length of up to nine digits needs the body: the proxy's body prefix cap, not the
    // classifier, bounds what is read (proxy::settle).
    let rows: &[Row<'_>] = &[
        (Body, post, &["x-hgargs-post: 12"]),
        (Body, post, &["x-hgargs-post: 999999999"]),
        (Refuse, post, &["x-hgargs-post: 0"]),
        (Refuse, post, &["x-hgargs-post: 012"]),
        (Refuse, post, &["x-hgargs-post: +12"]),
        (Refuse, post, &["x-hgargs-post: -1"]),
        (Refuse, post, &["x-hgargs-post:  12"]),
        (Refuse, post, &["x-hgargs-post: 1_2"]),
        (Refuse, post, &["x-hgargs-post: 0x10"]),
        (Refuse, post, &["x-hgargs-post: "]),
        (Refuse, post, &["x-hgargs-post: 99999999999999999999"]),
        (Refuse, post, &["x-hgargs-post: 5", "x-hgargs-post: 5"]),
        (Refuse, "GET team/app?cmd=batch", &["x-hgargs-post: 12"]),
        (
            Refuse,
            post,
            &["x-hgargs-post: 12", "x-hgarg-1: cmds=heads+"],
        ),
        (Refuse, post, &["x_hgargs_post: 12"]),
    ];
    check_rows(TEAM, rows);
}

#[test]
fn pages_are_reads_below_a_repository_of_known_depth() {
    use Want::*;
    let rows: &[Row<'_>] = &[
        (Read, "GET team/app", NO),
        (Read, "GET team/app/", NO),
        (Read, "HEAD team/app", NO),
        (Read, "GET team/app/log", NO),
        (Read, "GET team/app/log/tip/README?revcount=60", NO),
        (Read, "GET team/app/json-log", NO),
        (Read, "GET team/app/raw-file/tip/README", NO),
        (Read, "GET team/app/rawfile/tip/README", NO),
        (Read, "GET team/app/raw-rev/tip", NO),
        (Read, "GET team/app/archive/tip.tar.gz", NO),
        (Read, "GET team/app/static/style-paper.css", NO),
        (Read, "GET team/app/graph?style=gitweb", NO),
        (Read, "GET team/app/help/config", NO),
        (Refuse, "POST team/app/log", NO),
        (Refuse, "PUT team/app", NO),
        (Refuse, "get team/app/log", NO),
        (Refuse, "GET team/app/Log", NO),
        (Refuse, "GET team/app/evil", NO),
        (Refuse, "GET team/app/-log", NO),
        (Refuse, "GET team/app/a.b-log", NO),
        (Refuse, "GET team/app/raw-", NO),
        (Refuse, "GET team/app/.hg/store", NO),
        (Refuse, "GET team", NO),
        (Refuse, "GET ", NO),
        // `cmd` makes it a wire request, even when it names a web command.
        (Refuse, "GET team/app/log?cmd=log", NO),
    ];
    check_rows(TEAM, rows);
}

fn verdict(route: HgRoute, line: &str) -> Verdict {
    match classify_line(route, line, NO) {
        Ok(Classified::Final(verdict)) => verdict,
        other => panic!("expected a final verdict for {line}, got {other:?}"),
    }
}

#[test]
fn repository_comes_from_the_route_depth_not_from_keywords() {
    let page = verdict(TEAM, "GET team/log/log");
    assert_eq!(page.repo, ["team", "log"]);
    assert_eq!(page.operation, Operation::Hg(HgOp::Page));
    let wire = verdict(TEAM, "GET team/log?cmd=capabilities");
    assert_eq!(wire.repo, ["team", "log"]);
    // Wire requests name a repository at the route's depth: a shorter path is a directory
    // (hgwebdir lists the repositories below it), a longer one is not served by hgweb.
    for line in [
        "GET team?cmd=capabilities",
        "GET team/log/log?cmd=capabilities",
        "GET team/index?cmd=capabilities",
        "GET team/index",
        "GET team/index/log",
    ] {
        assert!(classify_line(TEAM, line, NO).is_err(), "{line}");
    }

    let wire_only = HgRoute { repo_depth: None };
    assert!(classify_line(wire_only, "GET team/app/log", NO).is_err());
    assert!(classify_line(wire_only, "GET team/app", NO).is_err());
    let wire = verdict(wire_only, "GET team/app?cmd=capabilities");
    assert_eq!(wire.repo, ["team", "app"]);
    assert!(classify_line(wire_only, "GET ?cmd=capabilities", NO).is_err());
    assert!(classify_line(wire_only, "GET index?cmd=capabilities", NO).is_err());
    assert!(classify_line(wire_only, "GET team/index?cmd=capabilities", NO).is_err());
    assert_eq!(
        verdict(wire_only, "GET team/index2?cmd=heads").repo,
        ["team", "index2"]
    );

    assert!(classify_line(TEAM, "GET ?cmd=capabilities", NO).is_err());
}

#[test]
fn every_command_has_a_name_that_round_trips() {
    for command in HgCommand::ALL {
        assert_eq!(HgCommand::from_name(command.wire_name()), Some(command));
        assert!(command.op_name().starts_with("hg-"));
    }
    let writes: Vec<_> = HgCommand::ALL
        .into_iter()
        .filter(|c| c.access() == Access::Write)
        .map(HgCommand::wire_name)
        .collect();
    assert_eq!(writes, ["unbundle", "pushkey", "putlfile"]);
}

#[test]
fn refusal_messages_clip_long_values() {
    let line = format!("GET team/app?cmd={}", "x".repeat(500));
    let error = classify_line(TEAM, &line, NO).unwrap_err();
    assert!(error.to_string().len() < 200, "{error}");
}

/// However the body is split into frames, the rule decides the same, asking for exactly the
/// announced length.
#[test]
fn post_arguments_are_independent_of_frame_boundaries() {
    let bodies = [
        ("cmds=heads+%3Bpushkey+namespace%3Dbookmarks", "HG20"),
        ("cmds=heads+%3Bknown+nodes%3D", ""),
        ("cmds=nosuchcommand+", "rest"),
        ("cmds=heads+&cmds=known+", "x"),
    ];
    for (args, rest) in bodies {
        let length = format!("x-hgargs-post: {}", args.len());
        let body = format!("{args}{rest}");
        let whole = post_rule("cmd=batch", &[&length])
            .1
            .feed(body.as_bytes(), true);
        for frame in 1..=body.len() + 1 {
            let mut rule = post_rule("cmd=batch", &[&length]).1;
            let framed = crate::classify::test_rows::decide_in_frames(
                |prefix, eof| rule.feed(prefix, eof),
                body.as_bytes(),
                frame,
            );
            assert_eq!(framed, whole, "{args:?} in frames of {frame}");
        }
    }
}

#[test]
fn wire_responses_are_told_from_pages() {
    let with = |value: &str| {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_str(value).unwrap(),
        );
        is_wire_response(&headers)
    };
    assert!(with("application/mercurial-0.1"));
    assert!(with("application/mercurial-0.2"));
    assert!(with("application/mercurial-cbor"));
    assert!(with("application/hg-error"));
    assert!(!with("text/html; charset=ascii"));
    assert!(!with("application/json"));
    assert!(!is_wire_response(&http::HeaderMap::new()));
}
