//! Refusals name what was wrong, never the client's value: a token pasted into a query
//! value, a query name, an hg command or argument (query, `X-HgArg-N` header or body) must
//! appear neither in the response (status line, headers, body) nor in vcsgate's output.

use std::net::Ipv4Addr;
use std::time::Duration;

use super::{NOWHERE, send};
use crate::support::http;
use crate::support::poll;
use crate::support::secrets;
use crate::support::vcsgate::{Gate, GateConfig};
use crate::support::wire::{head, header, with_body};

const CLIENT: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 22);

#[test]
fn refusals_do_not_repeat_client_values() {
    let mut gate = Gate::new(
        GateConfig::new()
            .route("/git", "git", NOWHERE)
            .route("/hg", "hg", NOWHERE),
    );
    gate.user_add("alice");
    gate.grant("alice", "hg/team/app", "write");
    let valid = gate.token("alice", "dev", &["--scope", "write_repository"]);
    gate.serve();
    // A well-formed token (as a user would paste one), never issued by this server.
    let pasted = vcsgate::token::generate()
        .unwrap()
        .secret
        .expose()
        .to_string();
    secrets::remember(&pasted);
    let auth = vec![http::basic("x", &valid)];
    let refs = "/git/team/app.git/info/refs";
    let hg = "/hg/team/app";
    let post_args = |args: &str| {
        let mut headers = auth.clone();
        headers.push(header("X-HgArgs-Post", &args.len().to_string()));
        headers.push(header("Content-Type", "application/mercurial-0.1"));
        with_body(
            "POST",
            &format!("{hg}?cmd=batch"),
            &headers,
            args.as_bytes(),
        )
    };
    let requests: Vec<(&str, Vec<u8>)> = vec![
        (
            "git service value",
            head("GET", &format!("{refs}?service={pasted}"), &[]).into_bytes(),
        ),
        (
            "git query name",
            head("GET", &format!("{refs}?{pasted}"), &[]).into_bytes(),
        ),
        (
            "duplicate query name",
            head("GET", &format!("{refs}?{pasted}=1&{pasted}=2"), &[]).into_bytes(),
        ),
        (
            "hg command",
            head("GET", &format!("{hg}?cmd={pasted}"), &[]).into_bytes(),
        ),
        (
            "hg query name",
            head("GET", &format!("{hg}?cmd=heads&{pasted}=1"), &[]).into_bytes(),
        ),
        (
            "hg header argument name",
            head(
                "GET",
                &format!("{hg}?cmd=heads"),
                &[header("X-HgArg-1", &format!("{pasted}=1"))],
            )
            .into_bytes(),
        ),
        (
            "hg batched command in a header",
            head(
                "GET",
                &format!("{hg}?cmd=batch"),
                &[header("X-HgArg-1", &format!("cmds={pasted}+"))],
            )
            .into_bytes(),
        ),
        (
            "hg batched command in the body",
            post_args(&format!("cmds={pasted}+")),
        ),
        (
            "hg body argument given twice",
            post_args(&format!("{pasted}=1&{pasted}=2")),
        ),
    ];
    let mut leaked = Vec::new();
    for (what, bytes) in &requests {
        let done = send(CLIENT, gate.port(), bytes);
        let status = done.first().status;
        let raw = String::from_utf8_lossy(&done.raw);
        assert_eq!(status, 400, "{what}: {raw}");
        if raw.contains(&pasted) {
            leaked.push(format!("{what}: {raw}"));
        }
    }
    assert!(leaked.is_empty(), "echoed:\n{}", leaked.join("\n"));
    // One access-log line per request, none quoting the value.
    let logged = poll::until(Duration::from_secs(5), Duration::from_millis(20), || {
        gate.log().matches(" status=400 ").count() >= requests.len()
    });
    let log = gate.log();
    assert!(logged.is_some(), "missing access-log lines:\n{log}");
    assert!(!log.contains(&pasted), "logged:\n{log}");
}
