//! Hand-made hg wire requests that try to move a bookmark with a READ-ONLY token: a
//! `pushkey` inside `batch` (CVE-2018-1000132) in each place hg reads arguments from, a
//! `pushkey` over GET, and a duplicate `cmd` (hg obeys the last one). Every one must be
//! refused before it reaches hg serve, and the served bookmarks must stay as they were.
//!
//! Positive controls prove the negative checks would catch a bypass: the same requests with
//! a WRITE token (or, for the ones vcsgate refuses for everybody, sent straight to hg serve)
//! really do move a bookmark. NEEDS THE PROXY.

use super::HgWorld;
use crate::support::http::{self, Response};

/// hg's `wireprototypes.escapebatcharg`: how `batch` escapes argument names and values.
fn escape_batch_arg(plain: &str) -> String {
    plain
        .replace(':', ":c")
        .replace(',', ":o")
        .replace(';', ":s")
        .replace('=', ":e")
}

/// One `batch` element: `pushkey namespace=bookmarks,key=KEY,old=,new=NODE`.
fn pushkey_element(key: &str, node: &str) -> String {
    let args = [
        ("namespace", "bookmarks"),
        ("key", key),
        ("old", ""),
        ("new", node),
    ];
    let args: Vec<String> = args
        .iter()
        .map(|(n, v)| format!("{}={}", escape_batch_arg(n), escape_batch_arg(v)))
        .collect();
    format!("pushkey {}", args.join(","))
}

/// `application/x-www-form-urlencoded` as Python's `urlencode` writes it (what hg sends in
/// `X-HgArg-N` headers and post args): space as `+`, everything else but `A-Za-z0-9_.-~`
/// escaped.
fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Where the `batch` arguments travel.
#[derive(Debug, Clone, Copy)]
enum Carrier {
    /// `X-HgArg-1: cmds=…` (how hg's client sends arguments).
    Header,
    /// `X-HgArg-1` and `X-HgArg-2`, split inside a `%3D` escape.
    SplitHeaders,
    /// `?cmd=batch&cmds=…` (space as `%20`).
    Query,
    /// `X-HgArgs-Post: N` and the arguments as the first N body bytes.
    PostArgs,
    /// `X-HgArg-1: cmds=heads ;pushkey …`: the write behind a read.
    BehindARead,
}

const CARRIERS: [Carrier; 5] = [
    Carrier::Header,
    Carrier::SplitHeaders,
    Carrier::Query,
    Carrier::PostArgs,
    Carrier::BehindARead,
];

/// A raw HTTP request.
struct Wire {
    method: &'static str,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Wire {
    fn post(target: String) -> Wire {
        Wire {
            method: "POST",
            target,
            headers: vec![(
                "Content-Type".to_string(),
                "application/mercurial-0.1".to_string(),
            )],
            body: Vec::new(),
        }
    }

    fn header(mut self, name: &str, value: String) -> Wire {
        self.headers.push((name.to_string(), value));
        self
    }

    /// Sends it to `port` with `token` as Basic password (none when `None`).
    fn send(&self, port: u16, token: Option<&str>) -> Response {
        let mut headers = self.headers.clone();
        headers.extend(token.map(|t| http::basic("alice", t)));
        http::request_with_body(port, self.method, &self.target, &headers, &self.body)
    }
}

/// A `batch` POST to `PREFIX/team/app` that creates bookmark `key` at `node`.
fn pushkey_batch(prefix: &str, carrier: Carrier, key: &str, node: &str) -> Wire {
    let element = pushkey_element(key, node);
    let path = format!("{prefix}/team/app?cmd=batch");
    let form = format!("cmds={}", form_encode(&element));
    match carrier {
        Carrier::Header => Wire::post(path).header("X-HgArg-1", form),
        Carrier::SplitHeaders => {
            let at = form.find("%3D").expect("an escaped '=' to split") + 2;
            let (first, second) = form.split_at(at);
            Wire::post(path)
                .header("X-HgArg-1", first.to_string())
                .header("X-HgArg-2", second.to_string())
        }
        Carrier::Query => {
            let cmds = form_encode(&element).replace('+', "%20");
            Wire::post(format!("{path}&cmds={cmds}"))
        }
        Carrier::PostArgs => {
            let mut wire = Wire::post(path).header("X-HgArgs-Post", form.len().to_string());
            wire.body = form.into_bytes();
            wire
        }
        Carrier::BehindARead => {
            let cmds = format!("heads ;{element}");
            Wire::post(path).header("X-HgArg-1", format!("cmds={}", form_encode(&cmds)))
        }
    }
}

/// `?cmd=pushkey&namespace=bookmarks&key=KEY&old=&new=NODE` after `cmd_prefix` (e.g. a first
/// `cmd=heads&`).
fn pushkey_query(prefix: &str, cmd_prefix: &str, key: &str, node: &str) -> String {
    format!(
        "{prefix}/team/app?{cmd_prefix}cmd=pushkey&namespace=bookmarks&key={key}&old=&new={node}"
    )
}

/// Sends `wire` through vcsgate with the read-only token and checks it was refused with
/// `status`, never reached hg serve, and left the bookmarks alone.
#[track_caller]
fn assert_refused(world: &HgWorld, what: &str, wire: &Wire, status: u16) -> Response {
    let bookmarks = world.app_bookmarks();
    let reached_before = world.backend_requests("app").len();
    let response = wire.send(world.gate.port(), Some(&world.tokens.read));
    world.check(
        response.status == status,
        &format!("{what}: expected {status}, got {response:?}"),
    );
    assert_eq!(world.app_bookmarks(), bookmarks, "{what}: bookmarks moved");
    let reached = world.backend_requests("app");
    assert_eq!(
        reached.len(),
        reached_before,
        "{what}: the request reached hg serve: {:?}",
        &reached[reached_before..]
    );
    response
}

#[test]
fn read_only_token_cannot_hide_a_pushkey_in_a_batch() {
    let world = HgWorld::start();
    let node = world.app_tip();
    for carrier in CARRIERS {
        let wire = pushkey_batch("/hg", carrier, "evil", &node);
        let response = assert_refused(&world, &format!("{carrier:?}"), &wire, 403);
        assert!(
            response.reason.contains("write_repository"),
            "{carrier:?}: the reason phrase (all hg shows) names write_repository: {response:?}"
        );
    }
    assert_eq!(world.app_bookmarks(), "", "no bookmark at all");

    // Positive control: the same requests with the write token move a bookmark each.
    let mut expected = Vec::new();
    for (n, carrier) in CARRIERS.into_iter().enumerate() {
        let key = format!("ok{n}");
        let wire = pushkey_batch("/hg", carrier, &key, &node);
        let response = wire.send(world.gate.port(), Some(&world.tokens.write));
        world.check(
            response.status == 200,
            &format!("{carrier:?} with a write token: {response:?}"),
        );
        expected.push(format!("{key} {node}\n"));
        assert_eq!(
            world.app_bookmarks(),
            expected.concat(),
            "{carrier:?} with a write token moves the bookmark {key}"
        );
    }
}

#[test]
fn pushkey_over_get_and_duplicate_cmd_are_refused() {
    let world = HgWorld::start();
    let node = world.app_tip();
    let get = |target: String| Wire {
        method: "GET",
        target,
        headers: Vec::new(),
        body: Vec::new(),
    };

    // A write command over GET is refused for everybody (hg itself would answer 405).
    let wire = get(pushkey_query("/hg", "", "evil", &node));
    assert_refused(&world, "pushkey over GET", &wire, 400);
    let response = wire.send(world.gate.port(), Some(&world.tokens.write));
    world.check(response.status == 400, &format!("{response:?}"));

    // hg runs the last `cmd`: vcsgate must not classify this as `heads`.
    for method in ["GET", "POST"] {
        let mut wire = Wire::post(pushkey_query("/hg", "cmd=heads&", "evil", &node));
        wire.method = method;
        assert_refused(&world, &format!("duplicate cmd ({method})"), &wire, 400);
    }

    // A plain pushkey over POST is a write.
    let wire = Wire::post(pushkey_query("/hg", "", "evil", &node));
    let response = assert_refused(&world, "pushkey over POST", &wire, 403);
    assert!(response.reason.contains("write_repository"), "{response:?}");
    assert_eq!(world.app_bookmarks(), "", "no bookmark at all");

    // Positive controls: the POST pushkey with a write token moves a bookmark, and hg serve
    // itself obeys the duplicate-cmd request sent to it directly.
    let wire = Wire::post(pushkey_query("/hg", "", "written", &node));
    let response = wire.send(world.gate.port(), Some(&world.tokens.write));
    world.check(response.status == 200, &format!("{response:?}"));
    assert_eq!(world.app_bookmarks(), format!("written {node}\n"));
    let direct = Wire::post(pushkey_query("", "cmd=heads&", "direct", &node));
    let response = direct.send(world.serve().port(), None);
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        world.app_bookmarks(),
        format!("direct {node}\nwritten {node}\n"),
        "hg serve runs the last cmd (pushkey)"
    );
}
