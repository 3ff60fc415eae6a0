//! `--refs` on grants and tokens: allowed refs land, others are refused with the rule named,
//! and one refused ref refuses the whole push — on the built-in backend and on a URL
//! backend (Apache), where the refused push never reaches the backend.

use super::{assert_refused, backend_ref, push, world};
use crate::git_e2e::Via;

#[test]
fn grant_refs_let_allowed_branches_land_and_refuse_others() {
    let (world, remote, git) = world(Via::Builtin, &["refs/heads/feature/*"], &[]);
    let new = git.commit("w", "f.txt", "f\n");
    let out = push(&git, &remote, &["HEAD:refs/heads/feature/one"]);
    world.check(out.ok(), &format!("allowed branch:\n{out}"));
    assert_eq!(
        backend_ref(&world, "refs/heads/feature/one").as_deref(),
        Some(&*new)
    );

    let before = world.app_main();
    let out = push(&git, &remote, &["HEAD:refs/heads/main"]);
    assert_refused(
        &world,
        &out,
        &[
            "refs/heads/main",
            "alice's write grants for local/team/app allow only refs refs/heads/feature/*",
        ],
    );
    assert_eq!(world.app_main(), before, "main unchanged");
}

#[test]
fn token_refs_narrow_pushes_on_a_url_backend() {
    let (world, remote, git) = world(Via::Apache, &[], &["refs/heads/ci/**"]);
    let new = git.commit("w", "f.txt", "f\n");
    let out = push(&git, &remote, &["HEAD:refs/heads/ci/a/b"]);
    world.check(out.ok(), &format!("allowed branch:\n{out}"));
    assert_eq!(
        backend_ref(&world, "refs/heads/ci/a/b").as_deref(),
        Some(&*new)
    );
    let posts = || {
        let lines = world.backend_receive_pack_requests();
        lines.iter().filter(|l| l.contains("POST")).count()
    };
    let before = posts();
    assert!(before >= 1, "the allowed push reached Apache");

    let out = push(&git, &remote, &["HEAD:refs/tags/v1"]);
    assert_refused(
        &world,
        &out,
        &[
            "refs/tags/v1",
            "token \"dev\" of alice is limited to refs refs/heads/ci/**",
        ],
    );
    assert!(
        backend_ref(&world, "refs/tags/v1").is_none(),
        "no tag created"
    );
    assert_eq!(posts(), before, "the refused push never reached Apache");
}

#[test]
fn one_disallowed_ref_refuses_the_whole_push() {
    let (world, remote, git) = world(Via::Builtin, &["refs/heads/feature/*"], &[]);
    git.commit("w", "f.txt", "f\n");
    let out = push(
        &git,
        &remote,
        &["HEAD:refs/heads/feature/ok", "HEAD:refs/heads/other"],
    );
    assert_refused(
        &world,
        &out,
        &["refs/heads/other", "push refused as a whole"],
    );
    assert!(
        backend_ref(&world, "refs/heads/feature/ok").is_none(),
        "nothing landed"
    );
    assert!(backend_ref(&world, "refs/heads/other").is_none());
}

/// An atomic push with push options, and tags, pass the command-list parser when allowed.
#[test]
fn atomic_pushes_with_options_and_tags_land_when_allowed() {
    let (world, remote, git) = world(Via::Builtin, &["refs/heads/**", "refs/tags/v*"], &[]);
    let home = tempfile::tempdir().unwrap();
    let mut config = crate::support::git::command(home.path());
    config.args(["--git-dir"]).arg(&world.app).args([
        "config",
        "receive.advertisePushOptions",
        "true",
    ]);
    crate::support::process::run(&mut config).assert_ok();
    let new = git.commit("w", "f.txt", "f\n");
    git.run(None, &["tag", "v1.0"], Some(&git.dir("w")))
        .assert_ok();
    let out = push(
        &git,
        &remote,
        &[
            "--atomic",
            "-o",
            "ci.skip",
            "-o",
            "note=second option",
            "HEAD:refs/heads/a/b",
            "refs/tags/v1.0",
        ],
    );
    world.check(out.ok(), &format!("atomic push with options:\n{out}"));
    assert_eq!(
        backend_ref(&world, "refs/heads/a/b").as_deref(),
        Some(&*new)
    );
    assert!(backend_ref(&world, "refs/tags/v1.0").is_some());
    let out = push(&git, &remote, &["HEAD:refs/tags/release"]);
    assert_refused(&world, &out, &["refs/tags/release"]);
}

/// A push from a shallow clone starts with `shallow` lines.
#[test]
fn pushes_from_a_shallow_clone_are_decided() {
    let (world, remote, git) = world(Via::Builtin, &["refs/heads/feature/*"], &[]);
    let url = remote.url.clone();
    git.run(Some(&remote), &["clone", "--depth", "1", &url, "s"], None)
        .assert_ok();
    std::fs::write(git.dir("s").join("s.txt"), "s\n").unwrap();
    git.run(None, &["add", "s.txt"], Some(&git.dir("s")))
        .assert_ok();
    git.run(None, &["commit", "-q", "-m", "s"], Some(&git.dir("s")))
        .assert_ok();
    let dir = git.dir("s");
    let out = git.run(
        Some(&remote),
        &["push", &url, "HEAD:refs/heads/feature/shallow"],
        Some(&dir),
    );
    world.check(out.ok(), &format!("push from a shallow clone:\n{out}"));
    assert!(backend_ref(&world, "refs/heads/feature/shallow").is_some());
    let out = git.run(
        Some(&remote),
        &["push", &url, "HEAD:refs/heads/main"],
        Some(&dir),
    );
    assert_refused(&world, &out, &["refs/heads/main"]);
}
