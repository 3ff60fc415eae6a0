//! The real `git` client with tokens the API made: created → clones; revoked → refused
//! within a second; an admin's impersonation token acts as its owner; a rotated token's old
//! secret stops and the new one works.

use std::time::{Duration, Instant};

use serde_json::json;

use super::client::call;
use crate::git_e2e::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::poll;

/// How long a change through the API may take to reach the running server.
const PROPAGATION: Duration = Duration::from_secs(1);

fn secret(answer: &super::client::Answer) -> String {
    answer.json["token"]
        .as_str()
        .expect("the secret")
        .to_owned()
}

#[test]
fn api_tokens_clone_stop_when_revoked_act_as_their_owner_and_rotate() {
    let mut w = World::new(Via::Builtin);
    w.gate.cli_ok(&["user", "add", "root", "--admin"]);
    w.gate.grant("root", &w.repo_path("**"), "write");
    w.gate.grant("alice", &w.repo_path("app"), "write");
    let root_api = w.gate.token("root", "api", &["--scope", "api"]);
    let alice_api = w.gate.token("alice", "api", &["--scope", "api"]);
    w.gate.serve();
    let port = w.gate.port();
    let git = GitClient::new();

    // Created through the API: it clones.
    let body = json!({"name": "laptop", "scopes": ["read_repository", "write_repository"]});
    let created = call(port, Some(&alice_api), "POST", "/tokens", Some(&body));
    assert_eq!(created.status, 201, "{:?}", created.raw);
    let laptop = secret(&created);
    git.clone(&w.remote("app", &Cred::basic(&laptop)), "first")
        .assert_ok();

    // Revoked through the API: refused within a second.
    let id = created.json["id"].as_str().unwrap().to_owned();
    let revoked_at = Instant::now();
    let revoke = call(
        port,
        Some(&alice_api),
        "DELETE",
        &format!("/tokens/{id}"),
        None,
    );
    assert_eq!(revoke.status, 204, "{:?}", revoke.raw);
    let refused = poll::until(PROPAGATION, Duration::from_millis(10), || {
        w.upload_pack_status("app", &laptop) == 401
    });
    w.check(
        refused.is_some(),
        "a token revoked through the API still works after 1 s",
    );
    eprintln!(
        "revocation through the API enforced after {:?}",
        revoked_at.elapsed()
    );
    let out = git.clone(&w.remote("app", &Cred::basic(&laptop)), "second");
    w.check(!out.ok(), &format!("git clone with a revoked token: {out}"));

    // Impersonation: root mints a token for alice; it has alice's grants, not root's.
    let body = json!({"user": "alice", "name": "support", "scopes": ["read_repository"]});
    let minted = call(port, Some(&root_api), "POST", "/tokens", Some(&body));
    assert_eq!(minted.status, 201, "{:?}", minted.raw);
    let support = secret(&minted);
    git.clone(&w.remote("app", &Cred::basic(&support)), "as-alice")
        .assert_ok();
    assert_eq!(
        w.upload_pack_status("other", &support),
        403,
        "alice has no grant on other"
    );
    assert_eq!(
        w.upload_pack_status("other", &root_api),
        403,
        "api grants nothing on repos"
    );
    let root_read = w
        .gate
        .token("root", "read", &["--scope", "read_repository"]);
    assert_eq!(w.upload_pack_status("other", &root_read), 200);

    // Rotation: the old secret stops at once, the new one works.
    let id = minted.json["id"].as_str().unwrap();
    let rotated = call(
        port,
        Some(&root_api),
        "POST",
        &format!("/tokens/{id}/rotate"),
        None,
    );
    assert_eq!(rotated.status, 201, "{:?}", rotated.raw);
    let fresh = secret(&rotated);
    let stopped = poll::until(PROPAGATION, Duration::from_millis(10), || {
        w.upload_pack_status("app", &support) == 401
    });
    w.check(
        stopped.is_some(),
        "the rotated-away secret still works after 1 s",
    );
    git.clone(&w.remote("app", &Cred::basic(&fresh)), "rotated")
        .assert_ok();
    w.gate.stop();
}
