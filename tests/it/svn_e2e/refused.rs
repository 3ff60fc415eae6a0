//! Writes with a read-only token are refused, svn shows why (the `<m:human-readable>` text of
//! vcsgate's DAV error), nothing changes on disk, and no write request reaches Apache; a
//! repository without a grant is refused. NEEDS THE PROXY.

use std::fs;

use super::SvnWorld;
use super::writes::checkout;
use crate::support::process::Output;
use crate::support::repos;
use crate::support::svn::SvnClient;

/// What svn must show for a write with the read-only token.
const REASON: [&str; 3] = ["lacks", "write_repository", "svn/repo"];
/// Methods a read-only session may send to the backend.
const READ_METHODS: [&str; 5] = ["GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"];

/// The command failed and its stderr contains every word of `reason`.
#[track_caller]
fn assert_refused(world: &SvnWorld, what: &str, out: &Output, reason: &[&str]) {
    world.check(!out.ok(), &format!("{what} must be refused:\n{out}"));
    world.check(
        reason.iter().all(|word| out.stderr.contains(word)),
        &format!("{what}: svn shows a reason naming {reason:?}:\n{out}"),
    );
}

/// alice's lock on `trunk/README`, made with the write token (for the unlock attempts).
fn lock_readme(world: &SvnWorld, svn: &SvnClient) -> String {
    checkout(world, svn, &world.tokens.write, "w");
    let out = world.svn(
        svn,
        &world.tokens.write,
        &["lock", "README"],
        Some(&svn.dir("w")),
    );
    world.check(out.ok(), &format!("lock with the write token:\n{out}"));
    let lock = world.lock("trunk/README");
    assert!(lock.contains("Owner: alice"), "{lock}");
    lock
}

#[test]
fn read_only_token_reads_but_every_write_is_refused() {
    let world = SvnWorld::start();
    let svn = SvnClient::new();
    let readme_lock = lock_readme(&world, &svn);
    let seen = world.backend_requests("repo").len();

    let token = world.tokens.read.clone();
    checkout(&world, &svn, &token, "r");
    let r = svn.dir("r");
    let out = world.svn(&svn, &token, &["update"], Some(&r));
    world.check(out.ok(), &format!("update with a read token:\n{out}"));
    let out = world.svn(&svn, &token, &["log", &world.url("")], None);
    world.check(
        out.ok() && out.stdout.contains("initial layout"),
        &format!("log:\n{out}"),
    );

    fs::write(r.join("file.txt"), "denied\n").unwrap();
    let out = world.svn(&svn, &token, &["commit", "-m", "denied"], Some(&r));
    assert_refused(&world, "commit", &out, &REASON);

    let (trunk, branch) = (world.url("/trunk"), world.url("/branches/denied"));
    let out = world.svn(
        &svn,
        &token,
        &["copy", &trunk, &branch, "-m", "denied"],
        None,
    );
    assert_refused(&world, "copy", &out, &REASON);

    let url = world.url("");
    let propset = [
        "propset",
        "--revprop",
        "-r",
        "1",
        "svn:log",
        "denied",
        url.as_str(),
    ];
    let out = world.svn(&svn, &token, &propset, None);
    assert_refused(&world, "propset --revprop", &out, &REASON);

    // What svn shows for these is checked in `svn_shows_why_a_lock_or_unlock_is_refused`.
    let out = world.svn(&svn, &token, &["lock", "file.txt"], Some(&r));
    world.check(!out.ok(), &format!("lock must be refused:\n{out}"));
    let readme = world.url("/trunk/README");
    let out = world.svn(&svn, &token, &["unlock", "--force", &readme], None);
    world.check(
        !out.ok(),
        &format!("unlock --force must be refused:\n{out}"),
    );

    assert_eq!(world.youngest(), 1, "no new revision");
    assert_eq!(world.log(1), "initial layout", "svn:log of r1 unchanged");
    assert_eq!(world.lock("trunk/file.txt"), "", "file.txt not locked");
    assert_eq!(
        world.lock("trunk/README"),
        readme_lock,
        "README keeps alice's lock"
    );
    let writes: Vec<String> = world.backend_requests("repo")[seen..]
        .iter()
        .filter(|line| {
            let method = line.split(' ').nth(1).unwrap_or_default();
            !READ_METHODS.contains(&method)
        })
        .cloned()
        .collect();
    assert!(
        writes.is_empty(),
        "write requests reached Apache: {writes:?}"
    );
}

/// svn reports a refused LOCK/UNLOCK through its lock callback as a warning that shows only
/// the top error: the `<m:human-readable>` text appears there only when its `errcode` is
/// the one svn gives a 403 on a lock (160039, SVN_ERR_FS_LOCK_OWNER_MISMATCH).
#[test]
fn svn_shows_why_a_lock_or_unlock_is_refused() {
    let world = SvnWorld::start();
    let svn = SvnClient::new();
    let readme_lock = lock_readme(&world, &svn);
    let token = world.tokens.read.clone();
    let file = world.url("/trunk/file.txt");
    let out = world.svn(&svn, &token, &["lock", &file], None);
    assert_refused(&world, "lock", &out, &REASON);
    let readme = world.url("/trunk/README");
    let out = world.svn(&svn, &token, &["unlock", "--force", &readme], None);
    assert_refused(&world, "unlock --force", &out, &REASON);
    assert_eq!(world.lock("trunk/file.txt"), "", "file.txt not locked");
    assert_eq!(
        world.lock("trunk/README"),
        readme_lock,
        "README keeps alice's lock"
    );
}

#[test]
fn repository_without_a_grant_is_refused() {
    let world = SvnWorld::start();
    let svn = SvnClient::new();
    let token = world.tokens.write.clone();
    let out = world.svn(
        &svn,
        &token,
        &["checkout", &world.repo_url("other", ""), "o"],
        None,
    );
    assert_refused(&world, "checkout of svn/other", &out, &["svn/other"]);
    let url = world.repo_url("other", "/trunk/new");
    let out = world.svn(&svn, &token, &["mkdir", &url, "-m", "denied"], None);
    assert_refused(&world, "mkdir in svn/other", &out, &["svn/other"]);
    let reached = world.backend_requests("other");
    assert!(reached.is_empty(), "requests reached Apache: {reached:?}");
    // The same token works where alice has a grant.
    checkout(&world, &svn, &token, "repo");
}

/// alice may write all of `svn/**`; her token limited to `svn/repo` makes a directory in
/// `svn/other`: refused, naming the repository, no new revision and no request for `other` in
/// Apache's log. The same commit with the unlimited write token then makes revision 2: the
/// refused commit was a real one.
#[test]
fn repo_limited_write_token_cannot_commit_to_another_granted_repository() {
    let world = SvnWorld::start();
    world.gate.grant("alice", "svn/**", "write");
    let limited = world.gate.token(
        "alice",
        "repo-only",
        &["--scope", "write_repository", "--repo", "svn/repo"],
    );
    let svn = SvnClient::new();
    checkout(&world, &svn, &limited, "repo");
    let other_before = repos::svn_youngest(&world.other).0;
    let url = world.repo_url("other", "/trunk/new");
    let mkdir = |token: &str| world.svn(&svn, token, &["mkdir", &url, "-m", "elsewhere"], None);

    let out = mkdir(&limited);
    assert_refused(&world, "mkdir in svn/other", &out, &["svn/other"]);
    assert_eq!(
        repos::svn_youngest(&world.other).0,
        other_before,
        "svn/other got a new revision"
    );
    let reached = world.backend_requests("other");
    assert!(reached.is_empty(), "requests reached Apache: {reached:?}");

    let out = mkdir(&world.tokens.write);
    world.check(out.ok(), &format!("the same commit, unlimited:\n{out}"));
    assert_eq!(
        repos::svn_youngest(&world.other).0,
        other_before + 1,
        "the control commit makes a revision"
    );
}
