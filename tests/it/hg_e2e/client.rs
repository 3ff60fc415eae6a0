//! The real `hg` client through vcsgate: clone, pull, push, bookmark push, phase publishing,
//! and the refusals hg users see as `abort: HTTP Error 403: <reason>`. NEEDS THE PROXY.

use std::path::Path;

use super::HgWorld;
use crate::support::hg::HgClient;
use crate::support::process::Output;
use crate::support::repos;

/// Commits a new file in the clone `dir`; returns the new node.
fn commit(hg: &HgClient, dir: &Path, file: &str) -> String {
    std::fs::write(dir.join(file), format!("{file}\n")).unwrap();
    hg.run(&["add", file], Some(dir)).assert_ok();
    hg.run(&["commit", "-m", &format!("add {file}")], Some(dir))
        .assert_ok();
    local(hg, dir, "{node}")
}

/// `hg log -r tip -T TEMPLATE` in a local clone.
fn local(hg: &HgClient, dir: &Path, template: &str) -> String {
    let out = hg.run(&["log", "-r", "tip", "-T", template], Some(dir));
    out.assert_ok().stdout.trim().to_string()
}

#[test]
fn clone_pull_and_push_with_a_write_token() {
    let world = HgWorld::start();
    let url = world.url("app", &world.tokens.write);
    let reader = HgClient::new();
    let out = reader.run(&["clone", &url, "r"], None);
    world.check(out.ok(), &format!("hg clone through vcsgate:\n{out}"));
    assert_eq!(local(&reader, &reader.dir("r"), "{node}"), world.app_tip());

    let writer = HgClient::new();
    writer.run(&["clone", &url, "w"], None).assert_ok();
    let new = commit(&writer, &writer.dir("w"), "pushed.txt");
    let out = writer.run(&["push", &url], Some(&writer.dir("w")));
    world.check(out.ok(), &format!("hg push through vcsgate:\n{out}"));
    assert_eq!(
        world.app_tip(),
        new,
        "the served repository has the pushed changeset"
    );

    let out = reader.run(&["pull", &url], Some(&reader.dir("r")));
    world.check(out.ok(), &format!("hg pull through vcsgate:\n{out}"));
    assert_eq!(
        local(&reader, &reader.dir("r"), "{node}"),
        new,
        "pull brings the pushed changeset"
    );
}

#[test]
fn push_of_a_draft_changeset_publishes_it_on_the_server() {
    let world = HgWorld::start();
    let url = world.url("app", &world.tokens.write);
    let hg = HgClient::new();
    hg.run(&["clone", &url, "c"], None).assert_ok();
    let dir = hg.dir("c");
    let new = commit(&hg, &dir, "draft.txt");
    assert_eq!(
        local(&hg, &dir, "{phase}"),
        "draft",
        "a new commit is draft"
    );
    let out = hg.run(&["push", &url], Some(&dir));
    world.check(out.ok(), &format!("push of a draft changeset:\n{out}"));
    assert_eq!(world.app_tip(), new);
    assert_eq!(
        repos::hg_phase(&world.app, "tip"),
        "1: public",
        "the served (publishing) repository made the pushed changeset public"
    );
    assert_eq!(local(&hg, &dir, "{phase}"), "public", "and told the client");
}

#[test]
fn bookmark_push_moves_the_bookmark_on_the_server() {
    let world = HgWorld::start();
    let url = world.url("app", &world.tokens.write);
    let hg = HgClient::new();
    hg.run(&["clone", &url, "c"], None).assert_ok();
    let dir = hg.dir("c");
    let first = world.app_tip();

    // A bookmark on a changeset the server already has: hg exits 1 ("no changes found")
    // but exports the bookmark.
    hg.run(&["bookmark", "-r", "tip", "stable"], Some(&dir))
        .assert_ok();
    let out = hg.run(&["push", "-B", "stable", &url], Some(&dir));
    world.check(
        out.stdout.contains("exporting bookmark stable") && !out.stderr.contains("abort"),
        &format!("bookmark-only push:\n{out}"),
    );
    assert_eq!(world.app_bookmarks(), format!("stable {first}\n"));

    // A bookmark on a new changeset: both arrive.
    let new = commit(&hg, &dir, "feature.txt");
    hg.run(&["bookmark", "-r", "tip", "feature"], Some(&dir))
        .assert_ok();
    let out = hg.run(&["push", "-B", "feature", &url], Some(&dir));
    world.check(out.ok(), &format!("hg push -B feature:\n{out}"));
    assert_eq!(world.app_tip(), new);
    assert_eq!(
        world.app_bookmarks(),
        format!("feature {new}\nstable {first}\n"),
        "the served repository has the pushed bookmark"
    );
}

/// The push failed and hg showed `HTTP Error 403` with a reason naming every word of
/// `reason`.
#[track_caller]
fn assert_refused_with(world: &HgWorld, out: &Output, reason: &[&str]) {
    world.check(!out.ok(), &format!("the push must be refused:\n{out}"));
    let shown = out
        .stderr
        .lines()
        .any(|l| l.contains("HTTP Error 403") && reason.iter().all(|w| l.contains(w)));
    world.check(
        shown,
        &format!("hg shows `abort: HTTP Error 403: …` naming {reason:?}:\n{out}"),
    );
}

#[test]
fn read_only_token_cannot_push_and_hg_shows_why() {
    let world = HgWorld::start();
    let url = world.url("app", &world.tokens.read);
    let hg = HgClient::new();
    let out = hg.run(&["clone", &url, "c"], None);
    world.check(out.ok(), &format!("a read token clones:\n{out}"));
    let dir = hg.dir("c");
    let tip = world.app_tip();
    let bookmarks = world.app_bookmarks();
    let phase = repos::hg_phase(&world.app, "tip");

    commit(&hg, &dir, "denied.txt");
    let out = hg.run(&["push", &url], Some(&dir));
    assert_refused_with(&world, &out, &["write_repository", "hg/team/app"]);

    hg.run(&["bookmark", "-r", "0", "denied"], Some(&dir))
        .assert_ok();
    let out = hg.run(&["push", "-r", "0", "-B", "denied", &url], Some(&dir));
    assert_refused_with(&world, &out, &["write_repository", "hg/team/app"]);

    assert_eq!(world.app_tip(), tip, "the served tip is unchanged");
    assert_eq!(world.app_bookmarks(), bookmarks, "bookmarks are unchanged");
    assert_eq!(repos::hg_phase(&world.app, "tip"), phase);
    let writes: Vec<String> = world
        .backend_requests("app")
        .into_iter()
        .filter(|l| l.contains("cmd=unbundle") || l.contains("cmd=pushkey"))
        .collect();
    assert!(writes.is_empty(), "writes reached hg serve: {writes:?}");
}

#[test]
fn repository_without_a_grant_is_refused() {
    let world = HgWorld::start();
    let url = world.url("other", &world.tokens.write);
    let hg = HgClient::new();
    let out = hg.run(&["clone", &url, "c"], None);
    world.check(!out.ok(), &format!("no grant on hg/team/other:\n{out}"));
    assert!(
        out.stderr.contains("HTTP Error 403") && out.stderr.contains("hg/team/other"),
        "hg shows the refusal naming the repository:\n{out}"
    );
    let reached = world.backend_requests("other");
    assert!(reached.is_empty(), "requests reached hg serve: {reached:?}");
    // The same token still works where alice has a grant.
    let out = hg.run(
        &["clone", &world.url("app", &world.tokens.write), "a"],
        None,
    );
    world.check(out.ok(), &format!("clone of hg/team/app:\n{out}"));
}

/// alice may write all of `hg/team/**`; her token limited to `hg/team/app` pushes (forced,
/// so the tip would move if the push reached hg serve) to `hg/team/other`: refused, naming the
/// repository, the tip unchanged and no request for `other` in hg serve's log. The same push
/// with the unlimited write token then moves the tip: the refused push was a real one.
#[test]
fn repo_limited_write_token_cannot_push_to_another_granted_repository() {
    let world = HgWorld::start();
    world.gate.grant("alice", "hg/team/**", "write");
    let limited = world.gate.token(
        "alice",
        "app-only",
        &["--scope", "write_repository", "--repo", "hg/team/app"],
    );
    let hg = HgClient::new();
    let out = hg.run(&["clone", &world.url("app", &limited), "c"], None);
    world.check(out.ok(), &format!("the limited token clones app:\n{out}"));
    let dir = hg.dir("c");
    let new = commit(&hg, &dir, "elsewhere.txt");
    let other_tip = repos::hg_rev(&world.other, "tip");

    let out = hg.run(&["push", "-f", &world.url("other", &limited)], Some(&dir));
    assert_refused_with(&world, &out, &["hg/team/other"]);
    assert_eq!(
        repos::hg_rev(&world.other, "tip"),
        other_tip,
        "the tip of hg/team/other moved"
    );
    let reached = world.backend_requests("other");
    assert!(reached.is_empty(), "requests reached hg serve: {reached:?}");

    let out = hg.run(
        &["push", "-f", &world.url("other", &world.tokens.write)],
        Some(&dir),
    );
    world.check(out.ok(), &format!("the same push, unlimited:\n{out}"));
    assert_eq!(
        repos::hg_rev(&world.other, "tip").as_deref(),
        Some(new.as_str()),
        "the control push moves the tip"
    );
}
