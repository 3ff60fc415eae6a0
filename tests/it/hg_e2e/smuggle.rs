//! Request smuggling into `hg serve` (PROTOCOLS.md R6). hg serve speaks HTTP/1.1 with
//! keep-alive, never reads the body of a GET, and cannot read a chunked body (it reads the
//! raw stream, chunk-size lines included). Body bytes it leaves unread are parsed as the next
//! request on the proxy's pooled backend connection: a request vcsgate never classified, run
//! by a backend that accepts every push (`allow-push = *`).
//!
//! Three carriers, all sent with the READ-ONLY token, each hiding a `pushkey`:
//! - a `GET ?cmd=heads` whose `Content-Length` body is the smuggled request;
//! - a chunked `POST ?cmd=lookup` with `X-HgArgs-Post: N`: hg reads N raw bytes (the
//!   chunk-size line, then the start of the arguments) and the rest of the body, which
//!   starts with the smuggled request line, stays on the connection;
//! - a `POST ?cmd=lookup` without its `key` argument and with a `Content-Length` body: hg
//!   fails with a 500 before it reads (or drains) the body.
//!
//! The first two must be refused before they reach hg serve; the third may reach it, but
//! the hidden request must not run. Positive control: the same bytes sent straight to hg
//! serve do move a bookmark. NEEDS THE PROXY.

use std::time::Duration;

use super::HgWorld;
use crate::support::{http, poll};

/// How long hg serve gets to run a smuggled request before the bookmarks are checked.
const SETTLE: Duration = Duration::from_secs(2);

/// The hidden request: `pushkey` creating bookmark `key` at `node` in `team/app`.
fn smuggled_pushkey(key: &str, node: &str) -> String {
    format!(
        "POST /team/app?cmd=pushkey&namespace=bookmarks&key={key}&old=&new={node} HTTP/1.1\r\n\
         Host: hg\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
}

/// A request head. Through vcsgate (`token` given) it asks vcsgate to close the client
/// connection (vcsgate drops `Connection` and keeps its backend connection open); sent
/// straight to hg serve it does not, so that hg serve goes on to read the hidden request
/// (which closes the connection itself).
fn head(method: &str, target: &str, token: Option<&str>, extra: &[String]) -> String {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some(token) = token {
        let (name, value) = http::basic("alice", token);
        head.push_str(&format!("{name}: {value}\r\nConnection: close\r\n"));
    }
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head
}

/// `GET PREFIX/team/app?cmd=heads` with `hidden` as its `Content-Length` body.
fn get_with_body(prefix: &str, token: Option<&str>, hidden: &str) -> Vec<u8> {
    let target = format!("{prefix}/team/app?cmd=heads");
    let length = format!("Content-Length: {}", hidden.len());
    format!("{}{hidden}", head("GET", &target, token, &[length])).into_bytes()
}

/// A chunked `POST PREFIX/team/app?cmd=lookup` whose post arguments are `key=tip` plus the
/// first k bytes of `hidden`, k being the length of the chunk-size line hg reads first; the
/// body is `key=tip` + `hidden`, sent as one chunk.
fn chunked_post_args(prefix: &str, token: Option<&str>, hidden: &str) -> Vec<u8> {
    let body = format!("key=tip{hidden}");
    let size_line = format!("{:x}\r\n", body.len());
    let args_len = "key=tip".len() + size_line.len();
    let target = format!("{prefix}/team/app?cmd=lookup");
    let extra = [
        "Content-Type: application/mercurial-0.1".to_string(),
        format!("X-HgArgs-Post: {args_len}"),
        "Transfer-Encoding: chunked".to_string(),
    ];
    format!(
        "{}{size_line}{body}\r\n0\r\n\r\n",
        head("POST", &target, token, &extra)
    )
    .into_bytes()
}

/// `POST PREFIX/team/app?cmd=lookup` without `key` (hg raises before reading the body),
/// with `hidden` as its `Content-Length` body.
fn failing_post(prefix: &str, token: Option<&str>, hidden: &str) -> Vec<u8> {
    let target = format!("{prefix}/team/app?cmd=lookup");
    let extra = [
        "Content-Type: application/mercurial-0.1".to_string(),
        format!("Content-Length: {}", hidden.len()),
    ];
    format!("{}{hidden}", head("POST", &target, token, &extra)).into_bytes()
}

type Carrier = fn(&str, Option<&str>, &str) -> Vec<u8>;

/// Each carrier, and whether vcsgate refuses it outright (400) rather than forwarding it.
const CARRIERS: [(&str, Carrier, bool); 3] = [
    ("GET with a body", get_with_body, true),
    ("chunked POST with post args", chunked_post_args, true),
    (
        "POST that makes hg fail before reading its body",
        failing_post,
        false,
    ),
];

/// Waits [`SETTLE`] for a bookmark to appear; true if one did.
fn bookmark_appears(world: &HgWorld) -> bool {
    poll::until(SETTLE, Duration::from_millis(100), || {
        !world.app_bookmarks().is_empty()
    })
    .is_some()
}

#[test]
fn bodies_hg_serve_leaves_unread_never_reach_it() {
    let world = HgWorld::start();
    let node = world.app_tip();
    for (what, carrier, refused) in CARRIERS {
        let reached_before = world.backend_requests("app").len();
        let bytes = carrier(
            "/hg",
            Some(&world.tokens.read),
            &smuggled_pushkey("evil", &node),
        );
        let raw = http::exchange(world.gate.port(), &bytes);
        let answer = String::from_utf8_lossy(&raw).into_owned();
        world.check(
            !bookmark_appears(&world),
            &format!("{what}: a read-only token moved a bookmark; vcsgate answered {answer:?}"),
        );
        let reached = world.backend_requests("app");
        world.check(
            !reached.iter().any(|line| line.contains("cmd=pushkey")),
            &format!("{what}: the hidden pushkey reached hg serve"),
        );
        if !refused {
            continue;
        }
        world.check(
            answer.starts_with("HTTP/1.1 400 "),
            &format!("{what}: expected 400, got {answer:?}"),
        );
        assert_eq!(
            reached.len(),
            reached_before,
            "{what}: the request reached hg serve: {:?}",
            &reached[reached_before..]
        );
    }

    // Positive control: hg serve itself runs the hidden request of each carrier.
    let mut expected = Vec::new();
    for (n, (what, carrier, _)) in CARRIERS.into_iter().enumerate() {
        let key = format!("direct{n}");
        let bytes = carrier("", None, &smuggled_pushkey(&key, &node));
        http::exchange(world.serve().port(), &bytes);
        expected.push(format!("{key} {node}\n"));
        let moved = poll::until(SETTLE, Duration::from_millis(100), || {
            world.app_bookmarks() == expected.concat()
        });
        world.check(
            moved.is_some(),
            &format!("{what} sent straight to hg serve creates bookmark {key}"),
        );
    }
}
