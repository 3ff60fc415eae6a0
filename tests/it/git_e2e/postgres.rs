//! The PostgreSQL store: the CLI and the server share one database. NEEDS THE PROXY (and
//! `support::postgres`, which starts PostgreSQL).

use super::lifecycle::revocation_takes_effect_within_a_second;
use super::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::postgres;
use crate::support::vcsgate::GateConfig;

fn postgres_world() -> World {
    let url = postgres::fresh_database_url();
    World::with_config(Via::Apache, GateConfig::new().store_url(&url))
}

#[test]
fn postgres_revocation_takes_effect_within_a_second() {
    let mut world = postgres_world();
    revocation_takes_effect_within_a_second(&mut world);
}

#[test]
fn postgres_read_only_token_clones_but_cannot_push() {
    let mut world = postgres_world();
    world.gate.grant("alice", "git/team/app", "write");
    let token = world
        .gate
        .token("alice", "ci", &["--scope", "read_repository"]);
    world.gate.serve();
    let remote = world.remote("app", &Cred::basic(&token));
    let git = GitClient::new();
    let out = git.clone(&remote, "c");
    world.check(
        out.ok(),
        &format!("clone with the PostgreSQL store:\n{out}"),
    );
    let before = world.app_main();
    git.commit("c", "denied.txt", "denied\n");
    let out = git.push(&remote, "c", "main");
    world.check(!out.ok(), &format!("push must be refused:\n{out}"));
    assert_eq!(world.app_main(), before);
}
