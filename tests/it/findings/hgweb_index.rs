//! hgwebdir answers a path that is not a repository with a listing of the repositories below
//! it: `index` (top level), `DIR/index`, and any directory holding repositories (also to wire
//! requests, whose `cmd` it ignores there). A listing names repositories the token has no
//! grant for, so no such request may reach it: here `hg serve` holds `team/app` and
//! `team/other` (route `repo_depth = 2`); bob's grant `hg/*` covers `hg/index` and `hg/team`
//! as repo paths, alice's covers `hg/team/app`. Neither may learn that `team/other` exists.

use crate::hg_e2e::HgWorld;
use crate::support::http;
use crate::support::vcsgate::{Gate, GateConfig};

#[test]
fn no_request_gets_a_listing_of_repositories() {
    let world = HgWorld::start();
    world.gate.user_add("bob");
    world.gate.grant("bob", "hg/*", "read");
    let bob = world
        .gate
        .token("bob", "ci", &["--scope", "read_repository"]);
    let alice = &world.tokens.read;
    let probes: &[(&str, &str)] = &[
        (bob.as_str(), "/hg/index?cmd=capabilities"),
        (bob.as_str(), "/hg/team?cmd=capabilities"),
        (bob.as_str(), "/hg/team/?cmd=capabilities"),
        (bob.as_str(), "/hg/index"),
        (bob.as_str(), "/hg/team"),
        (alice.as_str(), "/hg/team/app/index?cmd=capabilities"),
        (alice.as_str(), "/hg/team/app/index"),
        (alice.as_str(), "/hg/team/index"),
    ];
    // The control: alice reads her repository.
    let own = http::get(
        world.gate.port(),
        "/hg/team/app?cmd=capabilities",
        &[http::basic("alice", alice)],
    );
    world.check(own.status == 200, &format!("control: {own:?}"));
    let mut listed = Vec::new();
    for (token, target) in probes {
        let response = http::get(world.gate.port(), target, &[http::basic("x", token)]);
        if response.body.contains("other") {
            listed.push(format!("{target}: {} {}", response.status, response.body));
        }
    }
    world.check(
        listed.is_empty(),
        &format!("listings reached the client:\n{}", listed.join("\n")),
    );
}

/// Without `repo_depth` the route cannot know where repositories are, so a wire request may
/// name a directory: the listing hgwebdir answers with must not reach the client.
#[test]
fn a_wire_route_withholds_directory_listings() {
    let world = HgWorld::start();
    let mut gate = Gate::new(GateConfig::new().route("/hg", "hg", &world.serve().url()));
    gate.user_add("bob");
    gate.grant("bob", "hg/*", "read");
    gate.grant("bob", "hg/team/app", "read");
    let bob = gate.token("bob", "ci", &["--scope", "read_repository"]);
    gate.serve();
    let own = http::get(
        gate.port(),
        "/hg/team/app?cmd=capabilities",
        &[http::basic("bob", &bob)],
    );
    world.check(own.status == 200, &format!("control: {own:?}"));
    let mut listed = Vec::new();
    for target in ["/hg/team?cmd=capabilities", "/hg/team/?cmd=heads"] {
        let response = http::get(gate.port(), target, &[http::basic("x", &bob)]);
        if response.body.contains("other") {
            listed.push(format!("{target}: {} {}", response.status, response.body));
        }
    }
    assert!(
        listed.is_empty(),
        "listings reached the client:\n{}\n--- vcsgate log\n{}",
        listed.join("\n"),
        gate.log()
    );
}
