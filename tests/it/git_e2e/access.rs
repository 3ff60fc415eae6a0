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
    let reached: Vec<String> = world
        .backend_requests()
        .into_iter()
        .filter(|l| l.contains("/team/other"))
        .collect();
    assert!(
        reached.is_empty(),
        "requests reached team/other: {reached:?}"
    );
}

/// alice may write all of `team/**`; her token limited to `team/app` pushes (forced, so the
/// ref would move if the push reached the backend) to `team/other`: refused, naming the
/// repository, `other` unchanged and no request for it in the backend's log. The same push
/// with an unlimited write token then moves `other`: the refused push was a real one.
fn repo_limited_token_cannot_push_elsewhere(via: Via) {
    let mut world = World::new(via);
    world
        .gate
        .grant("alice", &format!("{}/team/**", world.prefix()), "write");
    let app = world.repo_path("app");
    let limited = world.gate.token(
        "alice",
        "app-only",
        &["--scope", "write_repository", "--repo", &app],
    );
    let unlimited = world
        .gate
        .token("alice", "dev", &["--scope", "write_repository"]);
    world.gate.serve();
    let git = GitClient::new();
    let out = git.clone(&world.remote("app", &Cred::basic(&limited)), "c");
    world.check(out.ok(), &format!("the limited token clones app:\n{out}"));
    let new = git.commit("c", "elsewhere.txt", "elsewhere\n");
    let other_before = world.main_of("other");
    let force_push = |token: &str| {
        let remote = world.remote("other", &Cred::basic(token));
        let args = ["push", "--force", &remote.url, "HEAD:refs/heads/main"];
        git.run(Some(&remote), &args, Some(&git.dir("c")))
    };

    let out = force_push(&limited);
    world.check(
        !out.ok(),
        &format!("the push to other must be refused:\n{out}"),
    );
    let other = world.repo_path("other");
    assert!(
        out.stderr
            .lines()
            .any(|l| l.starts_with("remote:") && l.contains(&other)),
        "git shows a `remote:` line naming {other}:\n{out}"
    );
    assert_eq!(world.main_of("other"), other_before, "other's main moved");
    let reached: Vec<String> = world
        .backend_requests()
        .into_iter()
        .filter(|l| l.contains("/team/other"))
        .collect();
    assert!(
        reached.is_empty(),
        "requests reached team/other: {reached:?}"
    );

    let out = force_push(&unlimited);
    world.check(out.ok(), &format!("the same push, unlimited:\n{out}"));
    assert_eq!(world.main_of("other"), new, "the control push moves other");
}

#[test]
fn repo_limited_write_token_cannot_push_to_another_granted_repository() {
    repo_limited_token_cannot_push_elsewhere(Via::Apache);
}

#[test]
fn builtin_repo_limited_write_token_cannot_push_to_another_granted_repository() {
    repo_limited_token_cannot_push_elsewhere(Via::Builtin);
}
