//! The real `svn` client with a write token: checkout, update, log, commit, copy (branch),
//! lock/unlock and a revision property change, each checked in the repository on disk, with
//! the vcsgate user (`alice`) as author and lock owner. NEEDS THE PROXY.

use std::fs;

use super::SvnWorld;
use crate::support::svn::SvnClient;

/// Checks out `/trunk` into `dest` with `token`; fails the test with the logs if it fails.
pub fn checkout(world: &SvnWorld, svn: &SvnClient, token: &str, dest: &str) {
    let out = world.svn(svn, token, &["checkout", &world.url("/trunk"), dest], None);
    world.check(out.ok(), &format!("svn checkout through vcsgate:\n{out}"));
    let file = fs::read_to_string(svn.dir(dest).join("file.txt")).unwrap();
    assert_eq!(file, "one\n", "the checkout has trunk/file.txt");
}

#[test]
fn checkout_update_log_and_commit_with_a_write_token() {
    let world = SvnWorld::start();
    let token = world.tokens.write.clone();
    let svn = SvnClient::new();
    checkout(&world, &svn, &token, "a");
    checkout(&world, &svn, &token, "b");

    let a = svn.dir("a");
    fs::write(a.join("file.txt"), "two\n").unwrap();
    fs::write(a.join("new.txt"), "new\n").unwrap();
    world
        .svn(&svn, &token, &["add", "new.txt"], Some(&a))
        .assert_ok();
    let out = world.svn(&svn, &token, &["commit", "-m", "second"], Some(&a));
    world.check(out.ok(), &format!("svn commit through vcsgate:\n{out}"));
    assert_eq!(world.youngest(), 2, "the commit made revision 2");
    assert_eq!(world.author(2), "alice", "the author is the vcsgate user");
    assert_eq!(world.log(2), "second");
    let changed = world.changed(2);
    assert!(
        changed.contains("U   trunk/file.txt") && changed.contains("A   trunk/new.txt"),
        "svnlook changed -r 2:\n{changed}"
    );

    let b = svn.dir("b");
    let out = world.svn(&svn, &token, &["update"], Some(&b));
    world.check(out.ok(), &format!("svn update through vcsgate:\n{out}"));
    assert_eq!(fs::read_to_string(b.join("file.txt")).unwrap(), "two\n");
    assert_eq!(fs::read_to_string(b.join("new.txt")).unwrap(), "new\n");

    let out = world.svn(&svn, &token, &["log", &world.url("")], None);
    world.check(out.ok(), &format!("svn log through vcsgate:\n{out}"));
    for expected in ["r2 | alice", "second", "r1 | setup", "initial layout"] {
        assert!(
            out.stdout.contains(expected),
            "svn log shows {expected:?}:\n{out}"
        );
    }
}

#[test]
fn copy_makes_a_branch() {
    let world = SvnWorld::start();
    let token = world.tokens.write.clone();
    let svn = SvnClient::new();
    let (trunk, branch) = (world.url("/trunk"), world.url("/branches/b"));
    let out = world.svn(
        &svn,
        &token,
        &["copy", &trunk, &branch, "-m", "branch b"],
        None,
    );
    world.check(
        out.ok(),
        &format!("svn copy URL URL through vcsgate:\n{out}"),
    );
    assert_eq!(world.youngest(), 2);
    assert_eq!(world.author(2), "alice");
    let changed = world.changed(2);
    assert!(
        changed.contains("A   branches/b/"),
        "svnlook changed -r 2:\n{changed}"
    );
    let listed = world
        .svn(&svn, &token, &["list", &branch], None)
        .assert_ok();
    assert_eq!(listed.stdout, "README\nfile.txt\n");
}

#[test]
fn lock_and_unlock_record_the_vcsgate_user() {
    let world = SvnWorld::start();
    let token = world.tokens.write.clone();
    let svn = SvnClient::new();
    checkout(&world, &svn, &token, "wc");
    let wc = svn.dir("wc");

    let out = world.svn(
        &svn,
        &token,
        &["lock", "-m", "editing", "file.txt"],
        Some(&wc),
    );
    world.check(out.ok(), &format!("svn lock through vcsgate:\n{out}"));
    let lock = world.lock("trunk/file.txt");
    assert!(
        lock.contains("Owner: alice"),
        "the lock owner is the vcsgate user:\n{lock}"
    );

    // Committing a locked file sends the lock token and releases the lock.
    fs::write(wc.join("file.txt"), "locked edit\n").unwrap();
    let out = world.svn(&svn, &token, &["commit", "-m", "locked edit"], Some(&wc));
    world.check(out.ok(), &format!("commit of a locked file:\n{out}"));
    assert_eq!(
        (world.youngest(), world.author(2)),
        (2, "alice".to_string())
    );
    assert_eq!(
        world.lock("trunk/file.txt"),
        "",
        "the commit released the lock"
    );

    world
        .svn(&svn, &token, &["lock", "file.txt"], Some(&wc))
        .assert_ok();
    assert!(world.lock("trunk/file.txt").contains("Owner: alice"));
    let out = world.svn(&svn, &token, &["unlock", "file.txt"], Some(&wc));
    world.check(out.ok(), &format!("svn unlock through vcsgate:\n{out}"));
    assert_eq!(world.lock("trunk/file.txt"), "", "unlocked on disk");
}

#[test]
fn revision_property_change() {
    let world = SvnWorld::start();
    let token = world.tokens.write.clone();
    let svn = SvnClient::new();
    assert_eq!(world.log(1), "initial layout");
    let args = ["propset", "--revprop", "-r", "1", "svn:log", "new log"];
    let url = world.url("");
    let out = world.svn(&svn, &token, &[&args[..], &[url.as_str()]].concat(), None);
    world.check(
        out.ok(),
        &format!("svn propset --revprop through vcsgate:\n{out}"),
    );
    assert_eq!(world.log(1), "new log", "svn:log of r1 changed on disk");
    assert_eq!(
        world.youngest(),
        1,
        "a revision property change makes no revision"
    );
}
