//! Authorization: scopes, grants and token repo limits. NEEDS THE PROXY.

use super::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::process::Output;

/// The push failed, git showed a `remote:` line containing every word of `reason`, and the
/// backend's main did not move (and, on Apache, no receive-pack request reached it).
#[track_caller]
fn assert_push_refused(world: &World, out: &Output, main_before: &str, reason: &[&str]) {
    world.check(!out.ok(), &format!("the push must be refused:\n{out}"));
    let remote_lines: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("remote:"))
        .collect();
    let explained = remote_lines
        .iter()
        .any(|l| reason.iter().all(|word| l.contains(word)));
    assert!(
        explained,
        "git shows a `remote:` line naming {reason:?}:\n{out}"
    );
    assert_eq!(
        world.app_main(),
        main_before,
        "the backend ref is unchanged"
    );
    let reached = world.backend_receive_pack_requests();
    assert!(
        reached.is_empty(),
        "receive-pack reached the backend: {reached:?}"
    );
}

/// alice with `access` on `app` and a token with `scope` clones `app`, commits, and tries to
/// push; returns the world, the push's output and `main` as it was before.
fn clone_then_push(via: Via, access: &str, scope: &str) -> (World, Output, String) {
    let mut world = World::new(via);
    world.gate.grant("alice", &world.repo_path("app"), access);
    let token = world.gate.token("alice", "t", &["--scope", scope]);
    world.gate.serve();
    let remote = world.remote("app", &Cred::basic(&token));
    let git = GitClient::new();
    let out = git.clone(&remote, "c");
    world.check(out.ok(), &format!("{access} grant, {scope}: clone:\n{out}"));
    let before = world.app_main();
    git.commit("c", "denied.txt", "denied\n");
    let out = git.push(&remote, "c", "main");
    (world, out, before)
}

pub fn read_only_token_cannot_push(via: Via) {
    let (world, out, before) = clone_then_push(via, "write", "read_repository");
    let repo = world.repo_path("app");
    assert_push_refused(&world, &out, &before, &["write_repository", &repo]);
}

pub fn read_grant_cannot_push(via: Via) {
    let (world, out, before) = clone_then_push(via, "read", "write_repository");
    let repo = world.repo_path("app");
    assert_push_refused(&world, &out, &before, &[&repo]);
    assert!(
        out.stderr.contains("grant") || out.stderr.contains("write"),
        "the reason names the missing write grant:\n{out}"
    );
}

#[test]
fn read_only_token_cannot_push_and_says_why() {
    read_only_token_cannot_push(Via::Apache);
}

#[test]
fn read_grant_cannot_push_and_says_why() {
    read_grant_cannot_push(Via::Apache);
}

#[test]
fn write_grant_can_push() {
    let mut world = World::new(Via::Apache);
    world.gate.grant("alice", "git/team/app", "write");
    let token = world
        .gate
        .token("alice", "dev", &["--scope", "write_repository"]);
    world.gate.serve();
    let remote = world.remote("app", &Cred::basic(&token));
    let git = GitClient::new();
    git.clone(&remote, "c").assert_ok();
    let new = git.commit("c", "ok.txt", "ok\n");
    let out = git.push(&remote, "c", "main");
    world.check(out.ok(), &format!("a write grant pushes:\n{out}"));
    assert_eq!(world.app_main(), new);
}

#[test]
fn token_repo_limit_allows_only_matching_repositories() {
    let mut world = World::new(Via::Apache);
    world.gate.grant("alice", "git/team/**", "write");
    let limited = world.gate.token(
        "alice",
        "app-only",
        &["--scope", "write_repository", "--repo", "git/team/app"],
    );
    world.gate.serve();
    let git = GitClient::new();
    let out = git.clone(&world.remote("app", &Cred::basic(&limited)), "app");
    world.check(out.ok(), &format!("the limited token clones app:\n{out}"));
    let out = git.clone(&world.remote("other", &Cred::basic(&limited)), "other");
    world.check(
        !out.ok(),
        &format!("the limited token must not clone other:\n{out}"),
    );
    assert_eq!(world.upload_pack_status("other", &limited), 403);
    assert_eq!(world.upload_pack_status("app", &limited), 200);
}

#[test]
fn repository_without_a_grant_is_refused() {
    let mut world = World::new(Via::Apache);
    world.gate.grant("alice", "git/team/app", "write");
    let token = world
        .gate
        .token("alice", "dev", &["--scope", "write_repository"]);
    world.gate.serve();
    assert_eq!(world.upload_pack_status("other", &token), 403);
    let git = GitClient::new();
    let out = git.clone(&world.remote("other", &Cred::basic(&token)), "other");
    world.check(!out.ok(), &format!("no grant on team/other:\n{out}"));
    assert!(
        out.stderr.contains("git/team/other"),
        "the refusal names the repo:\n{out}"
    );
    let apache = world.apache().expect("Apache world");
    assert!(
        apache.requests_matching("/team/other").is_empty(),
        "{}",
        apache.access_log()
    );
}
