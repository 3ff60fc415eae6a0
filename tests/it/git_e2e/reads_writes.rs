//! Clone (protocol v0 and v2), ls-remote, fetch and push with a write token. NEEDS THE PROXY.
//! The scenario functions take a [`Via`] so `builtin.rs` runs them against the built-in
//! backend too.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Via, World};
use crate::support::git::{Cred, GitClient, Proto};

/// alice with a write grant on `PREFIX/team/**` and a `write_repository` token; serving.
pub fn writer(via: Via) -> (World, String) {
    let mut world = World::new(via);
    let pattern = format!("{}/team/**", world.prefix());
    world.gate.grant("alice", &pattern, "write");
    let token = world
        .gate
        .token("alice", "dev", &["--scope", "write_repository"]);
    world.gate.serve();
    (world, token)
}

pub fn clone_and_ls_remote(via: Via, proto: Proto) {
    let (world, token) = writer(via);
    let remote = world.remote("app", &Cred::basic(&token));
    let git = GitClient::new().with_proto(proto);
    let out = git.clone(&remote, "c");
    world.check(
        out.ok(),
        &format!("{proto:?} clone through vcsgate:\n{out}"),
    );
    assert_eq!(git.rev("c", "HEAD"), world.app_main());
    let listed = git.ls_remote(&remote).assert_ok().stdout;
    let expected = format!("{}\trefs/heads/main", world.app_main());
    assert!(
        listed.contains(&expected),
        "ls-remote lists main:\n{listed}"
    );
}

pub fn push_then_fetch(via: Via) {
    let (world, token) = writer(via);
    let remote = world.remote("app", &Cred::basic(&token));
    let reader = GitClient::new();
    reader.clone(&remote, "r").assert_ok();

    let writer = GitClient::new();
    writer.clone(&remote, "w").assert_ok();
    let new = writer.commit("w", "feature.txt", "feature\n");
    let out = writer.push(&remote, "w", "main");
    world.check(out.ok(), &format!("push through vcsgate:\n{out}"));
    assert_eq!(world.app_main(), new, "the backend's main moved");

    let out = writer.push(&remote, "w", "topic");
    world.check(out.ok(), &format!("push of a new branch:\n{out}"));

    reader.fetch(&remote, "r").assert_ok();
    assert_eq!(
        reader.rev("r", "FETCH_HEAD"),
        new,
        "fetch brings the pushed commit"
    );
}

#[test]
fn clone_and_ls_remote_protocol_v0() {
    clone_and_ls_remote(Via::Apache, Proto::V0);
}

#[test]
fn clone_and_ls_remote_protocol_v2() {
    clone_and_ls_remote(Via::Apache, Proto::V2);
}

#[test]
fn push_then_fetch_with_a_write_token() {
    push_then_fetch(Via::Apache);
}

#[test]
fn the_backend_never_sees_the_token() {
    let (world, token) = writer(Via::Apache);
    let remote = world.remote("app", &Cred::basic(&token));
    let git = GitClient::new();
    git.clone(&remote, "c").assert_ok();
    git.commit("c", "f.txt", "f\n");
    git.push(&remote, "c", "main").assert_ok();
    let log = world.backend_requests().join("\n");
    assert!(
        log.contains("git-upload-pack") && log.contains("git-receive-pack"),
        "{log}"
    );
    // The access log ends each line with the Authorization header Apache received.
    for line in log.lines() {
        assert!(
            !line.contains(&token),
            "the token reached the backend: {line}"
        );
        if let Some((_, encoded)) = line.split_once(" Basic ") {
            let decoded = STANDARD.decode(encoded.trim()).unwrap_or_default();
            let decoded = String::from_utf8_lossy(&decoded);
            assert!(
                !decoded.contains(&token),
                "the token reached the backend: {decoded}"
            );
        }
    }
}
