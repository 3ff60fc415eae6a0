//! DESIGN.md's order: canonicalise and route → classify from the request head (400) →
//! authenticate (401, 429). A request whose repository can never be served — a character no
//! repo path allows, or a `.git` name on an hg or svn route — is refused from its head, so
//! it gets 400 whatever credentials it carries, and it never counts as a failed
//! authentication.

use std::net::Ipv4Addr;

use super::{NOWHERE, send};
use crate::support::http;
use crate::support::vcsgate::{Gate, GateConfig};
use crate::support::wire::head;

const CLIENT: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 21);
const BURST: i64 = 2;

/// Targets refused from the head alone, one per route kind.
const BAD_REPOSITORIES: &[&str] = &[
    "/git/team/a*b.git/info/refs?service=git-upload-pack",
    "/hg/team/app.git?cmd=capabilities",
    "/svn/repo.git/trunk/README",
];

fn gate() -> Gate {
    let mut throttle = toml::Table::new();
    throttle.insert("burst".into(), toml::Value::Integer(BURST));
    throttle.insert("per_minute".into(), toml::Value::Integer(1));
    let mut gate = Gate::new(
        GateConfig::new()
            .route("/git", "git", NOWHERE)
            .route("/hg", "hg", NOWHERE)
            .route("/svn", "svn", &format!("{NOWHERE}/svn"))
            .section("throttle", throttle),
    );
    gate.serve();
    gate
}

#[test]
fn a_bad_repository_gets_400_before_authentication() {
    let gate = gate();
    let unknown = vcsgate::token::generate()
        .unwrap()
        .secret
        .expose()
        .to_string();
    let mut wrong = Vec::new();
    for target in BAD_REPOSITORIES {
        for (what, headers) in [
            ("no credentials", vec![]),
            ("an unknown token", vec![http::basic("x", &unknown)]),
        ] {
            // More attempts than the throttle's burst: none of them may count.
            for _ in 0..=BURST {
                let done = send(
                    CLIENT,
                    gate.port(),
                    head("GET", target, &headers).as_bytes(),
                );
                let status = done.first().status;
                if status != 400 {
                    wrong.push(format!("{target} with {what}: {status}"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "expected 400:\n{}", wrong.join("\n"));
    // The budget of the client is untouched: an unknown token on a good path gets 401.
    let good = head(
        "GET",
        "/git/team/app.git/info/refs?service=git-upload-pack",
        &[http::basic("x", &unknown)],
    );
    let status = send(CLIENT, gate.port(), good.as_bytes()).first().status;
    assert_eq!(status, 401, "throttled by refused requests\n{}", gate.log());
}
