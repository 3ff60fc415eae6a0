//! Public repositories: `grant add anonymous PATTERN read`, then clones and checkouts without
//! credentials; every write without credentials gets the 401 challenge, the client retries
//! with its read-only token and is refused (403), and the backend never sees the write.

use super::{HgAccess, logged, make_public};
use crate::git_e2e::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::hg::HgClient;
use crate::support::http;
use crate::support::svn::SvnClient;
use crate::svn_e2e::SvnWorld;

#[test]
fn git_clones_a_public_repository_without_credentials_and_a_push_is_challenged_then_refused() {
    let mut world = World::new(Via::Apache);
    world.gate.grant("alice", "git/team/**", "write");
    world.gate.grant("anonymous", "git/team/app", "read");
    let read = world
        .gate
        .token("alice", "ci", &["--scope", "read_repository"]);
    world.gate.serve();
    let git = GitClient::new();

    let out = git.clone(&world.remote("app", &Cred::None), "app");
    world.check(
        out.ok(),
        &format!("anonymous clone of a public repo: {out}"),
    );
    let before = world.app_main();
    assert_eq!(git.rev("app", "HEAD"), before);
    let app_refs_path = "/git/team/app.git/info/refs";
    world.check(
        logged(
            &world.gate,
            app_refs_path,
            &["user=anonymous", "credential=anonymous"],
        ),
        "the access log names the anonymous user and credential form",
    );

    // a repository anonymous has no grant for: 401 with the challenge, so git prompts
    let out = git.clone(&world.remote("other", &Cred::None), "other");
    world.check(!out.ok(), &format!("clone of a private repo: {out}"));
    let refs = "/git/team/other.git/info/refs?service=git-upload-pack";
    let response = http::get(world.gate.port(), refs, &[]);
    assert_eq!(response.status, 401, "{response:?}");
    assert!(
        response.header("www-authenticate").is_some(),
        "{response:?}"
    );

    // present but invalid credentials are never anonymous, even on a public repository
    let app_refs = "/git/team/app.git/info/refs?service=git-upload-pack";
    let bogus = http::basic("x", "not-a-token-at-all");
    let response = http::get(world.gate.port(), app_refs, &[bogus]);
    assert_eq!(response.status, 401, "{response:?}");
    assert_eq!(http::get(world.gate.port(), app_refs, &[]).status, 200);

    // a push without credentials: challenged, git has nothing to answer with
    git.commit("app", "new.txt", "new\n");
    let out = git.push(&world.remote("app", &Cred::None), "app", "main");
    world.check(!out.ok(), &format!("anonymous push: {out}"));
    let receive = "/git/team/app.git/info/refs?service=git-receive-pack";
    let response = http::get(world.gate.port(), receive, &[]);
    assert_eq!(response.status, 401, "{response:?}");
    assert_eq!(
        response.body.trim(),
        "authentication required to write git/team/app: use an access token as the password"
    );
    assert_eq!(
        response.header("www-authenticate"),
        Some("Basic realm=\"vcsgate\"")
    );
    // git retries with the read-only token after the challenge and is refused
    let out = git.push(&world.remote("app", &Cred::basic(&read)), "app", "main");
    world.check(!out.ok(), &format!("push with a read token: {out}"));
    world.check(
        out.stderr.contains("lacks write_repository"),
        &format!("git shows why: {out}"),
    );
    world.check(
        logged(
            &world.gate,
            app_refs_path,
            &["status=403", "credential=basic", "user=alice token=ci"],
        ),
        "the retry with the token is logged as basic",
    );
    assert_eq!(world.app_main(), before, "the backend is unchanged");
    assert!(world.backend_receive_pack_requests().is_empty());
}

#[test]
fn anonymous_is_reserved_in_the_cli() {
    let world = World::new(Via::Builtin);
    let out = world
        .gate
        .cli(&["grant", "add", "anonymous", "local/**", "write"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("anonymous"), "{out}");
    let out = world.gate.cli(&[
        "token",
        "create",
        "anonymous",
        "--name",
        "x",
        "--scope",
        "read_repository",
    ]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("cannot hold tokens"), "{out}");
    let out = world.gate.cli(&["user", "add", "anonymous"]);
    assert_eq!(out.code, Some(1), "it exists in every store: {out}");
    world
        .gate
        .cli_ok(&["grant", "add", "anonymous", "local/**", "read"]);
    let out = world.gate.cli_ok(&["grant", "list", "anonymous", "--json"]);
    assert!(out.stdout.contains("\"read\""), "{out}");
    let out = world.gate.cli_ok(&["user", "list"]);
    assert!(
        !out.stdout.contains("anonymous"),
        "not offered as a user: {out}"
    );
}

#[test]
fn hg_clones_a_public_repository_without_credentials_and_a_push_is_challenged_then_refused() {
    let world = HgAccess::start();
    let probe = "/hg/team/app?cmd=capabilities";
    // anonymous's standing is looked up (and remembered) before the grant: the change feed
    // must evict it
    let response = http::get(world.port(), probe, &[]);
    assert_eq!(response.status, 401, "{response:?}");
    make_public(&world.gate, "hg/team/app", probe);
    let hg = HgClient::new();
    let out = hg.run(&["clone", &world.url("app"), "app"], None);
    world.check(out.ok(), &format!("anonymous hg clone: {out}"));
    let out = hg.run(&["clone", &world.url("other"), "other"], None);
    world.check(!out.ok(), &format!("clone of a private repo: {out}"));
    world.check(
        out.stderr.contains("authorization required"),
        &format!("hg was challenged: {out}"),
    );

    let before = world.app_tip();
    let dir = hg.dir("app");
    std::fs::write(dir.join("new.txt"), "new\n").unwrap();
    hg.run(&["add", "new.txt"], Some(&dir)).assert_ok();
    hg.run(&["commit", "-m", "anonymous change"], Some(&dir))
        .assert_ok();
    let out = hg.run(&["push", &world.url("app")], Some(&dir));
    world.check(!out.ok(), &format!("anonymous push: {out}"));
    world.check(
        out.stderr.contains("authorization required"),
        &format!("hg was challenged: {out}"),
    );
    let with_read = world
        .url("app")
        .replace("http://", &format!("http://alice:{}@", world.tokens.read));
    let out = hg.run(&["push", &with_read], Some(&dir));
    world.check(!out.ok(), &format!("push with a read token: {out}"));
    world.check(
        out.stderr.contains("lacks write_repository"),
        &format!("hg shows why: {out}"),
    );
    assert_eq!(world.app_tip(), before, "the backend is unchanged");
    let writes: Vec<String> = world
        .backend_requests()
        .into_iter()
        .filter(|l| l.contains("unbundle"))
        .collect();
    assert!(writes.is_empty(), "unbundle reached hg serve: {writes:?}");

    // removing the grant (or disabling anonymous) ends public access within a second
    world
        .gate
        .cli_ok(&["grant", "remove", "anonymous", "hg/team/app"]);
    let closed = crate::support::poll::until(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(50),
        || http::get(world.port(), probe, &[]).status == 401,
    );
    world.check(closed.is_some(), "public access ended after grant remove");
    make_public(&world.gate, "hg/team/app", probe);
    world.gate.cli_ok(&["user", "disable", "anonymous"]);
    let closed = crate::support::poll::until(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(50),
        || http::get(world.port(), probe, &[]).status == 401,
    );
    world.check(
        closed.is_some(),
        "public access ended after user disable anonymous",
    );
}

#[test]
fn svn_checks_out_a_public_repository_without_credentials_and_a_commit_is_challenged_then_refused()
{
    let world = SvnWorld::start();
    make_public(&world.gate, "svn/repo", "/svn/repo/trunk/README");
    let svn = SvnClient::new();
    let wc = svn.dir("wc");
    let wc_text = wc.display().to_string();
    let out = svn.run(None, &["checkout", &world.url("/trunk"), &wc_text], None);
    world.check(out.ok(), &format!("anonymous checkout: {out}"));
    assert_eq!(
        std::fs::read_to_string(wc.join("README")).unwrap(),
        "readme\n"
    );
    let out = svn.run(
        None,
        &["checkout", &world.repo_url("other", ""), "other"],
        None,
    );
    world.check(!out.ok(), &format!("checkout of a private repo: {out}"));

    let before = world.youngest();
    std::fs::write(wc.join("README"), "changed\n").unwrap();
    let out = svn.run(None, &["commit", "-m", "anonymous"], Some(&wc));
    world.check(!out.ok(), &format!("anonymous commit: {out}"));
    let out = world.svn(
        &svn,
        &world.tokens.read,
        &["commit", "-m", "read"],
        Some(&wc),
    );
    world.check(!out.ok(), &format!("commit with a read token: {out}"));
    world.check(
        out.stderr.contains("lacks write_repository"),
        &format!("svn shows why: {out}"),
    );
    assert_eq!(world.youngest(), before, "the backend is unchanged");
    let writes: Vec<String> = world
        .backend_requests("repo")
        .into_iter()
        .filter(|l| {
            let method = l.split(' ').nth(1).unwrap_or_default();
            !matches!(method, "GET" | "HEAD" | "OPTIONS" | "PROPFIND" | "REPORT")
        })
        .collect();
    assert!(writes.is_empty(), "a write reached Apache: {writes:?}");
}
