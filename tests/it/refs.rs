//! Ref rules on pushes (ACCESS.md "Ref rules") with the real `git` through vcsgate: ref
//! patterns on grants and tokens, protected refs, and refusals that reach `git push` output
//! naming the ref and the rule. NEEDS THE PROXY.

mod patterns;
mod protect;

use crate::git_e2e::{Via, World};
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::process::Output;

/// A world whose user alice has a write grant on `PREFIX/team/**` with `grant_refs`, and a
/// write token with `token_refs`; serving. Returns the world, a remote for `team/app` and a
/// clone of it in `w`.
pub fn world(via: Via, grant_refs: &[&str], token_refs: &[&str]) -> (World, Remote, GitClient) {
    let mut world = World::new(via);
    let pattern = format!("{}/team/**", world.prefix());
    let mut args = vec!["grant", "add", "alice", &pattern, "write"];
    for r in grant_refs {
        args.extend(["--refs", r]);
    }
    world.gate.cli_ok(&args);
    let mut extra = vec!["--scope", "write_repository"];
    for r in token_refs {
        extra.extend(["--refs", r]);
    }
    let token = world.gate.token("alice", "dev", &extra);
    world.gate.serve();
    let remote = world.remote("app", &Cred::basic(&token));
    let git = GitClient::new();
    git.clone(&remote, "w").assert_ok();
    (world, remote, git)
}

/// `git push URL ARGS…` from the clone `w`.
pub fn push(git: &GitClient, remote: &Remote, args: &[&str]) -> Output {
    let dir = git.dir("w");
    let mut all = vec!["push", "--porcelain", remote.url.as_str()];
    all.extend_from_slice(args);
    git.run(Some(remote), &all, Some(&dir))
}

/// `refs/NAME` of `team/app.git` as the backend has it.
pub fn backend_ref(world: &World, name: &str) -> Option<String> {
    crate::support::repos::git_rev(&world.app, name)
}

/// Asserts a refused push: git failed, and its output names `needle`s.
#[track_caller]
pub fn assert_refused(world: &World, out: &Output, needles: &[&str]) {
    world.check(!out.ok(), &format!("the push should be refused:\n{out}"));
    let text = format!("{}{}", out.stdout, out.stderr);
    for needle in needles {
        world.check(
            text.contains(needle),
            &format!("git push output names {needle:?}:\n{out}"),
        );
    }
}
