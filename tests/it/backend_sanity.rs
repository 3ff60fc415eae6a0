//! The harness alone, without vcsgate: the deploy files start real backends that the real
//! clients can read from and write to. If these fail, the e2e tests cannot be trusted.

use crate::support::apache::Apache;
use crate::support::git::{Cred, GitClient, Proto, Remote};
use crate::support::hg::{HgClient, HgServe};
use crate::support::repos::{self, Owner};
use crate::support::svn::SvnClient;
use crate::support::tls::TestPki;
use crate::support::{backend_log, http, process, tools};

#[test]
fn git_clone_fetch_push_directly_to_apache() {
    let apache = Apache::start();
    let bare = repos::git_bare(&apache.git_root(), "team/app.git", Owner::Apache);
    let main = repos::git_rev(&bare, "refs/heads/main").expect("main exists");
    let remote = Remote::new(&apache.url(), "/git/team/app.git", &Cred::None);

    for proto in [Proto::V0, Proto::V2] {
        let git = GitClient::new().with_proto(proto);
        git.clone(&remote, "c").assert_ok();
        assert_eq!(
            git.rev("c", "HEAD"),
            main,
            "{proto:?} clone checks out main"
        );
        let listed = git.ls_remote(&remote).assert_ok().stdout;
        assert!(
            listed.contains(&format!("{main}\trefs/heads/main")),
            "{listed}"
        );
    }

    let git = GitClient::new();
    git.clone(&remote, "c").assert_ok();
    let new = git.commit("c", "pushed.txt", "pushed\n");
    git.push(&remote, "c", "main").assert_ok();
    assert_eq!(repos::git_rev(&bare, "refs/heads/main"), Some(new.clone()));

    let other = GitClient::new();
    other.clone(&remote, "o").assert_ok();
    assert_eq!(other.rev("o", "HEAD"), new);
    let log = settled_apache(&apache, "/git/team/app.git/HEAD");
    let receive: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("git-receive-pack"))
        .collect();
    assert_eq!(receive.len(), 2, "info/refs + POST in:\n{}", log.join("\n"));
}

#[test]
fn apache_passes_the_basic_user_to_git_http_backend() {
    let apache = Apache::start();
    let bare = repos::git_bare(&apache.git_root(), "team/locked.git", Owner::Apache);
    let mut cmd = crate::support::git::command(&apache.git_root());
    cmd.args(["-c", "safe.directory=*", "--git-dir"])
        .arg(&bare)
        .args(["config", "--unset", "http.receivepack"]);
    process::run(&mut cmd).assert_ok();

    let anonymous = Remote::new(&apache.url(), "/git/team/locked.git", &Cred::None);
    let git = GitClient::new();
    git.clone(&anonymous, "c").assert_ok();
    git.commit("c", "x.txt", "x\n");
    let refused = git.push(&anonymous, "c", "main").assert_failed();
    assert!(refused.stderr.contains("403"), "{refused}");

    // With a Basic user (as vcsgate sends it), git-http-backend sees REMOTE_USER.
    let (_, value) = http::basic("alice", "unused");
    let with_user = Remote {
        url: anonymous.url.clone(),
        extra_header: Some(format!("Authorization: {value}")),
    };
    let new = git.rev("c", "HEAD");
    git.push(&with_user, "c", "main").assert_ok();
    assert_eq!(repos::git_rev(&bare, "refs/heads/main"), Some(new));
    let log = settled_apache(&apache, "/git/team/locked.git/HEAD");
    assert!(
        log.iter()
            .any(|l| l.contains("/git/team/locked.git/git-receive-pack") && l.ends_with(&value)),
        "the access log shows the Authorization header:\n{}",
        log.join("\n")
    );
}

#[test]
fn svn_checkout_and_commit_directly_to_apache_record_the_basic_user() {
    let apache = Apache::start();
    let repo = repos::svn(&apache.svn_root(), "proj", Owner::Apache);
    let url = format!("{}/svn/proj", apache.url());

    let anonymous = http::request(apache.port(), "OPTIONS", "/svn/proj", &[]);
    assert_eq!(anonymous.status, 401, "svn requires a Basic user");

    let svn = SvnClient::new();
    let cred = Some(("bob", "anything"));
    svn.run(cred, &["checkout", &url, "wc"], None).assert_ok();
    let wc = svn.dir("wc");
    std::fs::write(wc.join("file.txt"), "hello\n").unwrap();
    svn.run(cred, &["add", "file.txt"], Some(&wc)).assert_ok();
    svn.run(cred, &["commit", "-m", "add file"], Some(&wc))
        .assert_ok();
    assert_eq!(repos::svn_youngest(&repo), (1, "bob".to_string()));
    let listed = svn.run(cred, &["list", &url], None).assert_ok().stdout;
    assert_eq!(listed.trim(), "file.txt");
}

#[test]
fn hg_clone_and_push_directly_to_hg_serve() {
    let root = tempfile::tempdir().unwrap();
    let repo = repos::hg(root.path(), "app");
    let serve = HgServe::start(&[("team/app", &repo)]);
    let url = format!("{}/team/app", serve.url());

    let hg = HgClient::new();
    hg.run(&["clone", &url, "c"], None).assert_ok();
    let clone = hg.dir("c");
    std::fs::write(clone.join("more.txt"), "more\n").unwrap();
    hg.run(&["add", "more.txt"], Some(&clone)).assert_ok();
    hg.run(&["commit", "-m", "more"], Some(&clone)).assert_ok();
    hg.run(&["push", &url], Some(&clone)).assert_ok();

    let local = hg.run(&["log", "-r", "tip", "-T", "{node}"], Some(&clone));
    assert_eq!(repos::hg_rev(&repo, "tip"), Some(local.stdout));
    let control = "/team/app?cmd=capabilities";
    let log = backend_log::settled(
        "hg serve",
        || serve.access_log(),
        control,
        || {
            assert_eq!(http::get(serve.port(), control, &[]).status, 200);
        },
    );
    assert!(
        log.iter().any(|l| l.contains("cmd=unbundle")),
        "{}",
        log.join("\n")
    );
}

/// git-http-backend has no LFS server and answers LFS requests without reading their body;
/// under mod_cgid that drops the connection now and then. The deploy file answers them with
/// a plain 404 before the CGI runs: every request gets it, and Apache logs no error.
#[test]
fn apache_answers_lfs_requests_with_404_without_running_the_cgi() {
    let apache = Apache::start();
    repos::git_bare(&apache.git_root(), "team/app.git", Owner::Apache);
    let batch = format!(
        r#"{{"operation":"download","objects":[{{"oid":"{}","size":3}}]}}"#,
        "4".repeat(64)
    );
    let headers = [
        http::basic("bob", "unused"),
        (
            "Content-Type".to_owned(),
            "application/vnd.git-lfs+json".to_owned(),
        ),
    ];
    for _ in 0..40 {
        let target = "/git/team/app.git/info/lfs/objects/batch";
        let answer =
            http::request_with_body(apache.port(), "POST", target, &headers, batch.as_bytes());
        assert_eq!(answer.status, 404, "POST {target}: {answer:?}");
    }
    let locks = http::get(
        apache.port(),
        "/git/team/app.git/info/lfs/locks?path=a",
        &headers,
    );
    assert_eq!(locks.status, 404, "{locks:?}");
    // Git itself is still served.
    let refs = http::get(
        apache.port(),
        "/git/team/app.git/info/refs?service=git-upload-pack",
        &[],
    );
    assert_eq!(refs.status, 200, "{refs:?}");
    settled_apache(&apache, "/git/team/app.git/HEAD");
    let errors = apache.error_log();
    assert!(
        !errors.contains("AH02651")
            && !errors.contains("AH00574")
            && !errors.contains("git-http-backend"),
        "Apache ran the CGI for LFS requests:\n{errors}"
    );
}

/// Apache's access log once `GET control` (sent directly) shows in it.
#[track_caller]
fn settled_apache(apache: &Apache, control: &str) -> Vec<String> {
    backend_log::settled(
        "Apache",
        || apache.access_log(),
        control,
        || {
            let response = http::get(apache.port(), control, &[]);
            assert_eq!(response.status, 200, "GET {control}: {response:?}");
        },
    )
}

#[test]
fn test_pki_makes_a_server_certificate_signed_by_its_ca() {
    let pki = TestPki::generate();
    let mut cmd = std::process::Command::new(tools::openssl());
    cmd.args(["verify", "-CAfile"])
        .arg(pki.ca_pem())
        .arg("-verify_ip")
        .arg("127.0.0.1")
        .arg(pki.server_cert());
    let out = process::run(&mut cmd).assert_ok();
    assert!(out.stdout.contains("OK"), "{out}");
}
