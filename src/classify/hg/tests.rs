#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::*;
use crate::canon::Query;
use crate::classify::{BodyRule, Progress, Verdict};

const TEAM: HgRoute = HgRoute {
    repo_depth: Some(2),
};

fn classify_with(
    route: HgRoute,
    method: &str,
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Result<Classified, Refusal> {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let pairs = query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let query = Query::from_pairs(pairs).unwrap();
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    let request = Request {
        method: &method,
        segments: &segments,
        trailing_slash: path.ends_with('/'),
        query: &query,
        headers: &map,
    };
    classify(&request, &route)
}

/// What a row expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    Read,
    Write,
    Body,
    Refuse,
}

fn outcome(result: &Result<Classified, Refusal>) -> Want {
    match result {
        Ok(Classified::Final(verdict)) => match verdict.access() {
            Access::Read => Want::Read,
            Access::Write => Want::Write,
        },
        Ok(Classified::NeedsBody { .. }) => Want::Body,
        Err(_) => Want::Refuse,
    }
}

type Row<'a> = (
    Want,
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    &'a [(&'a str, &'a str)],
);

fn check_rows(route: HgRoute, rows: &[Row<'_>]) {
    for (want, method, path, query, headers) in rows {
        let result = classify_with(route, method, path, query, headers);
        assert_eq!(
            outcome(&result),
            *want,
            "{method} {path} {query:?} {headers:?} gave {result:?}"
        );
    }
}

const CAPS: &[(&str, &str)] = &[("cmd", "capabilities")];

#[test]
fn wire_commands_read_write_and_refuse() {
    use Want::*;
    let rows: &[Row<'_>] = &[
        (Read, "GET", "team/app", CAPS, &[]),
        (Read, "GET", "team/app/", CAPS, &[]),
        (Read, "POST", "team/app", CAPS, &[]),
        (Read, "GET", "team/app", &[("cmd", "heads")], &[]),
        (Read, "GET", "team/app", &[("cmd", "stream_out")], &[]),
        (
            Read,
            "GET",
            "team/app",
            &[("cmd", "statlfile")],
            &[("x-hgarg-1", "sha=ab")],
        ),
        (
            Read,
            "GET",
            "team/app",
            &[("cmd", "lookup"), ("key", "tip")],
            &[],
        ),
        (
            Read,
            "GET",
            "team/app",
            &[("cmd", "getbundle")],
            &[(
                "x-hgarg-1",
                "bookmarks=1&bundlecaps=HG20%2Cbundle2%3DHG20&cg=1&common=0000&heads=abcd&listkeys=phases%2Cbookmarks&phases=1",
            )],
        ),
        (
            Write,
            "POST",
            "team/app",
            &[("cmd", "unbundle")],
            &[("x-hgarg-1", "heads=666f726365")],
        ),
        (
            Write,
            "POST",
            "team/app",
            &[("cmd", "pushkey")],
            &[("x-hgarg-1", "key=main&namespace=bookmarks&new=abcd&old=")],
        ),
        (
            Write,
            "POST",
            "team/app",
            &[("cmd", "putlfile")],
            &[("x-hgarg-1", "sha=ab")],
        ),
        // Write commands need POST (hgweb: "push requires POST request").
        (Refuse, "GET", "team/app", &[("cmd", "unbundle")], &[]),
        (Refuse, "GET", "team/app", &[("cmd", "pushkey")], &[]),
        (Refuse, "GET", "team/app", &[("cmd", "putlfile")], &[]),
        // Methods: exact tokens, GET/POST only.
        (Refuse, "HEAD", "team/app", CAPS, &[]),
        (Refuse, "PUT", "team/app", &[("cmd", "heads")], &[]),
        (Refuse, "get", "team/app", CAPS, &[]),
        (Refuse, "post", "team/app", &[("cmd", "unbundle")], &[]),
        // Command names: exact, case-sensitive, known.
        (Refuse, "GET", "team/app", &[("cmd", "HEADS")], &[]),
        (Refuse, "GET", "team/app", &[("cmd", "Heads")], &[]),
        (Refuse, "GET", "team/app", &[("cmd", "heads ")], &[]),
        (Refuse, "GET", "team/app", &[("cmd", "heads\0")], &[]),
        (Refuse, "POST", "team/app", &[("cmd", "Unbundle")], &[]),
        (Refuse, "GET", "team/app", &[("cmd", "log")], &[]),
        (Refuse, "GET", "team/app", &[("cmd", "")], &[]),
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "listkeyspatterns")],
            &[],
        ),
        // R3: keys the command does not read.
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "capabilities"), ("x", "1")],
            &[],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "lookup"), ("namespace", "x")],
            &[],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "heads"), ("cmds", "pushkey ")],
            &[],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "lookup"), ("key", "caf\u{e9}")],
            &[],
        ),
        // Arguments in headers the command does not read, or given twice.
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "heads")],
            &[("x-hgarg-1", "cmd=unbundle")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "lookup")],
            &[("x-hgarg-1", "key=a&key=b")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "lookup"), ("key", "a")],
            &[("x-hgarg-1", "key=b")],
        ),
    ];
    check_rows(TEAM, rows);
}

#[test]
fn header_arguments_follow_hg_numbering_exactly() {
    use Want::*;
    let lookup: &[(&str, &str)] = &[("cmd", "lookup")];
    let rows: &[Row<'_>] = &[
        (Read, "GET", "team/app", lookup, &[("x-hgarg-1", "key=tip")]),
        (Read, "GET", "team/app", lookup, &[("X-HgArg-1", "key=tip")]),
        (
            Read,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-1", "ke"), ("x-hgarg-2", "y=tip")],
        ),
        (
            Read,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-2", "y=tip"), ("x-hgarg-1", "ke")],
        ),
        (Read, "GET", "team/app", lookup, &[("x-hgarg-1", "")]),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-1", "ke"), ("x-hgarg-3", "y=tip")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-2", "key=tip")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-0", "key=tip")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-01", "key=tip")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-1x", "key=tip")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-", "key=tip")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-+1", "key=tip")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-1", "key=tip"), ("x-hgarg-1", "x")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x_hgarg_1", "key=tip")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("X_HgArg-1", "key=tip")],
        ),
        // Forms hg's parse_qs reads differently or fails on.
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-1", "key=tip;key=x")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-1", "key=%zz")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-1", "key=%C3%A9")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            lookup,
            &[("x-hgarg-1", "key=tip&")],
        ),
        (Refuse, "GET", "team/app", lookup, &[("x-hgarg-1", "key")]),
        (Refuse, "GET", "team/app", lookup, &[("x-hgarg-1", "=tip")]),
    ];
    check_rows(TEAM, rows);
}

#[test]
fn batch_is_the_highest_access_of_its_commands() {
    use Want::*;
    let batch: &[(&str, &str)] = &[("cmd", "batch")];
    let rows: &[Row<'_>] = &[
        // What hg 6 sends for a pull: "heads ;known nodes=".
        (
            Read,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=heads+%3Bknown+nodes%3D")],
        ),
        (
            Read,
            "GET",
            "team/app",
            batch,
            &[
                ("x-hgarg-1", "cmds=heads+%3"),
                ("x-hgarg-2", "Bknown+nodes%3D"),
            ],
        ),
        (
            Read,
            "GET",
            "team/app",
            batch,
            &[(
                "x-hgarg-1",
                "cmds=lookup+key%3Dtip%3Blistkeys+namespace%3Dbookmarks",
            )],
        ),
        (
            Read,
            "GET",
            "team/app",
            &[("cmd", "batch"), ("cmds", "heads ;known nodes=")],
            &[],
        ),
        // CVE-2018-1000132: a pushkey hidden in a batch.
        (
            Write,
            "POST",
            "team/app",
            batch,
            &[(
                "x-hgarg-1",
                "cmds=heads+%3Bpushkey+key%3Dmain%2Cnamespace%3Dbookmarks%2Cnew%3Dab%2Cold%3D",
            )],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[(
                "x-hgarg-1",
                "cmds=heads+%3Bpushkey+key%3Dmain%2Cnamespace%3Dbookmarks%2Cnew%3Dab%2Cold%3D",
            )],
        ),
        // The same, with the `;` escape split across two headers.
        (
            Write,
            "POST",
            "team/app",
            batch,
            &[
                ("x-hgarg-1", "cmds=heads+%3"),
                ("x-hgarg-2", "Bpushkey+namespace%3Dbookmarks"),
            ],
        ),
        (
            Write,
            "POST",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=unbundle+heads%3Dab")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "batch"), ("cmds", "pushkey namespace=x")],
            &[],
        ),
        // Unparsable or unknown elements refuse the whole batch.
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=batch+cmds%3Dheads")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=evil+")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=HEADS+")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=heads")],
        ),
        (Refuse, "GET", "team/app", batch, &[("x-hgarg-1", "cmds=")]),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=heads+%3B")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=+heads")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=known+nodes")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=known+nodes%3Da%3Db")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=lookup+foo%3Dbar")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=lookup+key%3Da:x")],
        ),
        (Refuse, "GET", "team/app", batch, &[]),
        (
            Refuse,
            "GET",
            "team/app",
            batch,
            &[("x-hgarg-1", "cmds=heads+&other=1")],
        ),
        (
            Refuse,
            "GET",
            "team/app",
            &[("cmd", "batch"), ("cmds", "heads ")],
            &[("x-hgarg-1", "cmds=heads+")],
        ),
    ];
    check_rows(TEAM, rows);
}

fn post_rule(result: Result<Classified, Refusal>) -> (Vec<String>, PostArgs) {
    match result {
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
    let length = args.len().to_string();
    let headers = [("x-hgargs-post", length.as_str())];
    let result = classify_with(TEAM, "POST", "team/app", &[("cmd", "batch")], &headers);
    let (repo, mut rule) = post_rule(result);
    assert_eq!(repo, ["team", "app"]);
    assert_eq!(rule.length(), args.len());
    let mut body = args.as_bytes().to_vec();
    body.extend_from_slice(b"HG20 bundle bytes");
    for end in 0..args.len() {
        assert_eq!(rule.feed(&body[..end], false), Ok(Progress::NeedMore));
    }
    let done = Progress::Complete(Operation::Hg(HgOp::Batch(Access::Write)));
    assert_eq!(rule.feed(&body[..args.len()], false), Ok(done));
    let mut rule = post_rule(classify_with(
        TEAM,
        "POST",
        "team/app",
        &[("cmd", "batch")],
        &headers,
    ))
    .1;
    let done = Progress::Complete(Operation::Hg(HgOp::Batch(Access::Write)));
    assert_eq!(rule.feed(&body, true), Ok(done));
    // A body that ends early is refused.
    let mut rule = post_rule(classify_with(
        TEAM,
        "POST",
        "team/app",
        &[("cmd", "batch")],
        &headers,
    ))
    .1;
    assert!(rule.feed(&body[..3], true).is_err());

    let read = "cmds=heads+%3Bknown+nodes%3D";
    let length = read.len().to_string();
    let headers = [("x-hgargs-post", length.as_str())];
    let mut rule = post_rule(classify_with(
        TEAM,
        "POST",
        "team/app",
        &[("cmd", "batch")],
        &headers,
    ))
    .1;
    let done = Progress::Complete(Operation::Hg(HgOp::Batch(Access::Read)));
    assert_eq!(rule.feed(read.as_bytes(), true), Ok(done));
}

#[test]
fn post_arguments_are_checked_like_header_arguments() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("cmd", "batch"), ("cmds", "heads ")], "cmds=heads+"),
        (&[("cmd", "lookup")], "key=a&key=b"),
        (&[("cmd", "lookup")], "cmd=unbundle"),
        (&[("cmd", "lookup")], "key=a;key=b"),
        (&[("cmd", "lookup")], "key=%ff"),
        (&[("cmd", "batch")], "cmds=evil+"),
    ];
    for (query, body) in cases {
        let length = body.len().to_string();
        let headers = [("x-hgargs-post", length.as_str())];
        let mut rule = post_rule(classify_with(TEAM, "POST", "team/app", query, &headers)).1;
        let result = rule.feed(body.as_bytes(), true);
        assert!(result.is_err(), "{query:?} {body:?} gave {result:?}");
    }
    let mut rule = post_rule(classify_with(
        TEAM,
        "POST",
        "team/app",
        &[("cmd", "unbundle")],
        &[("x-hgargs-post", "7")],
    ))
    .1;
    let done = Progress::Complete(Operation::Hg(HgOp::Wire(HgCommand::Unbundle)));
    assert_eq!(rule.feed(b"heads=0HG20...", false), Ok(done));
}

#[test]
fn post_argument_length_is_strict() {
    use Want::*;
    let batch: &[(&str, &str)] = &[("cmd", "batch")];
    let too_big = (MAX_POST_ARGS + 1).to_string();
    let max = MAX_POST_ARGS.to_string();
    let rows: &[Row<'_>] = &[
        (Body, "POST", "team/app", batch, &[("x-hgargs-post", "12")]),
        (Body, "POST", "team/app", batch, &[("x-hgargs-post", &max)]),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", &too_big)],
        ),
        (Refuse, "POST", "team/app", batch, &[("x-hgargs-post", "0")]),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", "012")],
        ),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", "+12")],
        ),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", "-1")],
        ),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", " 12")],
        ),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", "1_2")],
        ),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", "0x10")],
        ),
        (Refuse, "POST", "team/app", batch, &[("x-hgargs-post", "")]),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", "99999999999999999999")],
        ),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", "5"), ("x-hgargs-post", "5")],
        ),
        (Refuse, "GET", "team/app", batch, &[("x-hgargs-post", "12")]),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x-hgargs-post", "12"), ("x-hgarg-1", "cmds=heads+")],
        ),
        (
            Refuse,
            "POST",
            "team/app",
            batch,
            &[("x_hgargs_post", "12")],
        ),
    ];
    check_rows(TEAM, rows);
}

#[test]
fn pages_are_reads_below_a_repository_of_known_depth() {
    use Want::*;
    let rows: &[Row<'_>] = &[
        (Read, "GET", "team/app", &[], &[]),
        (Read, "GET", "team/app/", &[], &[]),
        (Read, "HEAD", "team/app", &[], &[]),
        (Read, "GET", "team/app/log", &[], &[]),
        (
            Read,
            "GET",
            "team/app/log/tip/README",
            &[("revcount", "60")],
            &[],
        ),
        (Read, "GET", "team/app/json-log", &[], &[]),
        (Read, "GET", "team/app/raw-file/tip/README", &[], &[]),
        (Read, "GET", "team/app/rawfile/tip/README", &[], &[]),
        (Read, "GET", "team/app/raw-rev/tip", &[], &[]),
        (Read, "GET", "team/app/archive/tip.tar.gz", &[], &[]),
        (Read, "GET", "team/app/static/style-paper.css", &[], &[]),
        (Read, "GET", "team/app/graph", &[("style", "gitweb")], &[]),
        (Read, "GET", "team/app/help/config", &[], &[]),
        (Refuse, "POST", "team/app/log", &[], &[]),
        (Refuse, "PUT", "team/app", &[], &[]),
        (Refuse, "get", "team/app/log", &[], &[]),
        (Refuse, "GET", "team/app/Log", &[], &[]),
        (Refuse, "GET", "team/app/evil", &[], &[]),
        (Refuse, "GET", "team/app/-log", &[], &[]),
        (Refuse, "GET", "team/app/a.b-log", &[], &[]),
        (Refuse, "GET", "team/app/raw-", &[], &[]),
        (Refuse, "GET", "team/app/.hg/store", &[], &[]),
        (Refuse, "GET", "team", &[], &[]),
        (Refuse, "GET", "", &[], &[]),
        // `cmd` makes it a wire request, even when it names a web command.
        (Refuse, "GET", "team/app/log", &[("cmd", "log")], &[]),
    ];
    check_rows(TEAM, rows);
}

fn verdict(result: Result<Classified, Refusal>) -> Verdict {
    match result {
        Ok(Classified::Final(verdict)) => verdict,
        other => panic!("expected a final verdict, got {other:?}"),
    }
}

#[test]
fn repository_comes_from_the_route_depth_not_from_keywords() {
    let page = verdict(classify_with(TEAM, "GET", "team/log/log", &[], &[]));
    assert_eq!(page.repo, ["team", "log"]);
    assert_eq!(page.operation, Operation::Hg(HgOp::Page));
    let wire = verdict(classify_with(TEAM, "GET", "team/log/log", CAPS, &[]));
    assert_eq!(wire.repo, ["team", "log", "log"]);

    let wire_only = HgRoute { repo_depth: None };
    assert!(classify_with(wire_only, "GET", "team/app/log", &[], &[]).is_err());
    assert!(classify_with(wire_only, "GET", "team/app", &[], &[]).is_err());
    let wire = verdict(classify_with(wire_only, "GET", "team/app", CAPS, &[]));
    assert_eq!(wire.repo, ["team", "app"]);
    assert!(classify_with(wire_only, "GET", "", CAPS, &[]).is_err());

    let single = HgRoute {
        repo_depth: Some(0),
    };
    assert!(
        verdict(classify_with(single, "GET", "", CAPS, &[]))
            .repo
            .is_empty()
    );
    assert!(
        verdict(classify_with(single, "GET", "", &[], &[]))
            .repo
            .is_empty()
    );
    assert!(
        verdict(classify_with(single, "GET", "log/tip", &[], &[]))
            .repo
            .is_empty()
    );
    assert!(classify_with(single, "GET", "app/log", &[], &[]).is_err());
    assert!(classify_with(TEAM, "GET", "", CAPS, &[]).is_err());
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
    let long = "x".repeat(500);
    let error = classify_with(TEAM, "GET", "team/app", &[("cmd", long.as_str())], &[]).unwrap_err();
    assert!(error.to_string().len() < 200, "{error}");
}
