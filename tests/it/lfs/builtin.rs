//! LFS served by the built-in backend.

use super::{LfsWorld, binary, commit_binary, git_lfs, sha256_hex, stored_object};
use crate::git_e2e::Via;
use crate::support::git::GitClient;
use crate::support::http;

#[test]
fn track_push_and_clone_a_binary() {
    let lw = LfsWorld::new(Via::Builtin);
    let bytes = binary(3 * 1024 * 1024 + 17, 1);
    let (git, dir, oid) = commit_binary(&lw, &lw.writer, "big.bin", &bytes);
    let remote = lw.remote(&lw.writer);
    let out = git_lfs(
        &git,
        &remote,
        &["push", &remote.url, "HEAD:refs/heads/main"],
        Some(&dir),
    );
    lw.world
        .check(out.ok(), &format!("push with an LFS object:\n{out}"));
    let stored = stored_object(&lw.world.app, &oid);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        bytes,
        "the object is stored whole"
    );
    let tmp = lw.world.app.join("lfs/tmp");
    let leftovers = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(leftovers, 0, "no temporary files remain in {tmp:?}");

    // A fresh clone (with the read-only token) smudges the pointer into the file.
    let reader = GitClient::new();
    let remote = lw.remote(&lw.reader);
    let out = git_lfs(&reader, &remote, &["clone", &remote.url, "r"], None);
    lw.world.check(out.ok(), &format!("clone with LFS:\n{out}"));
    let cloned = std::fs::read(reader.dir("r").join("big.bin")).unwrap();
    assert_eq!(
        sha256_hex(&cloned),
        oid,
        "the clone has the binary, not a pointer"
    );
}

#[test]
fn a_read_only_token_cannot_upload() {
    let lw = LfsWorld::new(Via::Builtin);
    let bytes = binary(64 * 1024, 2);
    let (git, dir, oid) = commit_binary(&lw, &lw.reader, "ro.bin", &bytes);
    let remote = lw.remote(&lw.reader);
    let out = git_lfs(
        &git,
        &remote,
        &["lfs", "push", "--all", &remote.url],
        Some(&dir),
    );
    assert!(
        !out.ok(),
        "git lfs push with a read-only token must fail:\n{out}"
    );
    let stored = stored_object(&lw.world.app, &oid);
    assert!(!stored.exists(), "no object stored");
    // Straight to the object URL: refused before anything is written.
    let target = format!("{}/info/lfs/objects/{oid}", lw.world.url_path("app"));
    let response = http::request_with_body(
        lw.world.gate.port(),
        "PUT",
        &target,
        &[http::basic("bob", &lw.reader)],
        &bytes,
    );
    assert_eq!(response.status, 403, "{response:?}");
    assert!(!stored.exists(), "no object stored");
    // With the write token, the same PUT stores it; a wrong body does not.
    let writer = [http::basic("alice", &lw.writer)];
    let port = lw.world.gate.port();
    let wrong = http::request_with_body(port, "PUT", &target, &writer, b"not the object");
    assert_eq!(wrong.status, 422, "{wrong:?}");
    assert!(!stored.exists(), "a mismatching upload stores nothing");
    let right = http::request_with_body(port, "PUT", &target, &writer, &bytes);
    assert_eq!(right.status, 200, "{right:?}");
    assert_eq!(std::fs::read(&stored).unwrap(), bytes);
}

#[test]
fn locks_show_their_owner_and_only_force_unlocks_another() {
    let lw = LfsWorld::new(Via::Builtin);
    let (git, dir, _) = commit_binary(&lw, &lw.writer, "doc.bin", b"locked\n");
    let remote = lw.remote(&lw.writer);
    git_lfs(
        &git,
        &remote,
        &["push", &remote.url, "HEAD:refs/heads/main"],
        Some(&dir),
    )
    .assert_ok();
    let out = git_lfs(&git, &remote, &["lfs", "lock", "doc.bin"], Some(&dir));
    lw.world.check(out.ok(), &format!("git lfs lock:\n{out}"));
    let out = git_lfs(&git, &remote, &["lfs", "locks"], Some(&dir)).assert_ok();
    assert!(
        out.stdout.contains("doc.bin") && out.stdout.contains("alice"),
        "locks list the path and the owner:\n{out}"
    );
    let again = git_lfs(&git, &remote, &["lfs", "lock", "doc.bin"], Some(&dir));
    assert!(!again.ok(), "a second lock of one path fails:\n{again}");

    // bob, with a write token of his own, may only force the unlock.
    let bob = lw
        .world
        .gate
        .token("bob", "rw", &["--scope", "write_repository"]);
    let bob_remote = lw.remote(&bob);
    let bob_git = GitClient::new();
    git_lfs(
        &bob_git,
        &bob_remote,
        &["clone", &bob_remote.url, "b"],
        None,
    )
    .assert_ok();
    let bob_dir = bob_git.dir("b");
    let out = git_lfs(
        &bob_git,
        &bob_remote,
        &["lfs", "unlock", "doc.bin"],
        Some(&bob_dir),
    );
    assert!(!out.ok(), "bob cannot unlock alice's lock:\n{out}");
    let out = git_lfs(
        &bob_git,
        &bob_remote,
        &["lfs", "unlock", "--force", "doc.bin"],
        Some(&bob_dir),
    );
    lw.world.check(out.ok(), &format!("forced unlock:\n{out}"));
    let out = git_lfs(&git, &remote, &["lfs", "locks"], Some(&dir)).assert_ok();
    assert!(!out.stdout.contains("doc.bin"), "the lock is gone:\n{out}");
}
