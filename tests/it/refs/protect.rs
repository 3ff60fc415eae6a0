//! Protected refs: deletes refused everywhere, rewinds refused on the built-in backend
//! (a pre-receive hook), `--allow-delete` and `--allow-force` honoured, and the CLI.

use super::{assert_refused, backend_ref, push, world};
use crate::git_e2e::Via;

#[test]
fn protect_cli_adds_lists_and_removes() {
    let (world, _, _) = world(Via::Builtin, &[], &[]);
    world.gate.cli_ok(&[
        "protect",
        "add",
        "local/**",
        "refs/heads/main",
        "--allow-delete",
    ]);
    world.gate.cli_ok(&[
        "protect",
        "add",
        "local/**",
        "refs/heads/main",
        "--allow-force",
    ]);
    let out = world.gate.cli_ok(&["protect", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        listed,
        serde_json::json!([{"repo_pattern": "local/**", "ref_pattern": "refs/heads/main",
                            "allow_delete": false, "allow_force": true}]),
        "add updates the flags of an existing protection"
    );
    let bad = world
        .gate
        .cli(&["protect", "add", "local/**", "heads/main"]);
    assert_eq!(
        bad.code,
        Some(2),
        "a bad ref pattern is a usage error:\n{bad}"
    );
    world
        .gate
        .cli_ok(&["protect", "remove", "local/**", "refs/heads/main"]);
    let again = world
        .gate
        .cli(&["protect", "remove", "local/**", "refs/heads/main"]);
    assert_eq!(
        again.code,
        Some(1),
        "removing an unknown protection:\n{again}"
    );
    let out = world.gate.cli_ok(&["protect", "list", "--json"]);
    assert_eq!(out.stdout.trim(), "[]");
}

#[test]
fn deleting_a_protected_branch_is_refused_on_both_backends() {
    for via in [Via::Builtin, Via::Apache] {
        let (world, remote, git) = world(via, &[], &[]);
        let pattern = format!("{}/team/*", world.prefix());
        world
            .gate
            .cli_ok(&["protect", "add", &pattern, "refs/heads/main"]);
        if via == Via::Apache {
            let out = world.gate.cli_ok(&["check-config"]);
            assert!(
                out.stdout
                    .contains("note: route /git: rewinds (force pushes) of protected refs"),
                "check-config names the URL route:\n{out}"
            );
        }
        let before = world.app_main();
        let out = push(&git, &remote, &[":refs/heads/main"]);
        let rule = format!("protect {pattern} refs/heads/main");
        assert_refused(
            &world,
            &out,
            &["refs/heads/main", "may not be deleted", &rule],
        );
        assert_eq!(world.app_main(), before, "{via:?}: main still there");
        // An unprotected branch may still be deleted.
        git.commit("w", "x.txt", "x\n");
        push(&git, &remote, &["HEAD:refs/heads/tmp"]).assert_ok();
        let out = push(&git, &remote, &[":refs/heads/tmp"]);
        world.check(out.ok(), &format!("{via:?}: delete unprotected:\n{out}"));
        assert!(backend_ref(&world, "refs/heads/tmp").is_none());
    }
}

#[test]
fn force_pushing_a_protected_branch_is_refused_on_the_builtin_backend() {
    let (world, remote, git) = world(Via::Builtin, &[], &[]);
    world
        .gate
        .cli_ok(&["protect", "add", "local/**", "refs/heads/main"]);
    // A fast-forward is fine.
    let ff = git.commit("w", "ff.txt", "ff\n");
    push(&git, &remote, &["HEAD:refs/heads/main"]).assert_ok();
    assert_eq!(world.app_main(), ff);
    // A rewind to the parent, and a rewritten commit, are not.
    let dir = git.dir("w");
    git.run(None, &["reset", "-q", "--hard", "HEAD~1"], Some(&dir))
        .assert_ok();
    let out = push(&git, &remote, &["--force", "HEAD:refs/heads/main"]);
    assert_refused(
        &world,
        &out,
        &[
            "refs/heads/main",
            "may not be rewound",
            "protect local/** refs/heads/main",
        ],
    );
    assert_eq!(world.app_main(), ff, "main not rewound");
    git.commit("w", "other.txt", "diverged\n");
    let out = push(&git, &remote, &["--force", "HEAD:refs/heads/main"]);
    assert_refused(&world, &out, &["refs/heads/main", "may not be rewound"]);
    assert_eq!(world.app_main(), ff, "main not rewritten");
}

#[test]
fn allow_force_and_allow_delete_are_honoured() {
    let (world, remote, git) = world(Via::Builtin, &[], &[]);
    world.gate.cli_ok(&[
        "protect",
        "add",
        "local/**",
        "refs/heads/release",
        "--allow-force",
        "--allow-delete",
    ]);
    let tip = git.commit("w", "r.txt", "r\n");
    push(&git, &remote, &["HEAD:refs/heads/release"]).assert_ok();
    assert_eq!(
        backend_ref(&world, "refs/heads/release").as_deref(),
        Some(&*tip)
    );
    let dir = git.dir("w");
    git.run(None, &["reset", "-q", "--hard", "HEAD~1"], Some(&dir))
        .assert_ok();
    let parent = git.rev("w", "HEAD");
    let out = push(&git, &remote, &["--force", "HEAD:refs/heads/release"]);
    world.check(out.ok(), &format!("--allow-force:\n{out}"));
    assert_eq!(
        backend_ref(&world, "refs/heads/release").as_deref(),
        Some(&*parent)
    );
    let out = push(&git, &remote, &[":refs/heads/release"]);
    world.check(out.ok(), &format!("--allow-delete:\n{out}"));
    assert!(backend_ref(&world, "refs/heads/release").is_none());
}
