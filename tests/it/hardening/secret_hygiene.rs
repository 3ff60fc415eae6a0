//! Secret hygiene. The harness checks every test's logs for every token it handed out
//! (`support::secrets`, run when a `Gate`, `Apache` or `HgServe` is dropped; vcsgate runs at
//! debug level in every test); these tests prove that check catches a leak — in vcsgate's,
//! Apache's and hg serve's logs, backend identity secrets in vcsgate's — and fails when a
//! log cannot be read, drive a session full of credentials through it, and check that a
//! database password from `password_file` stays out of the output when the database cannot
//! be reached.

use std::panic::{AssertUnwindSafe, catch_unwind};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{CONTROL, Site, basic};
use crate::support::apache::Apache;
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::hg::HgServe;
use crate::support::http;
use crate::support::ports;
use crate::support::secrets::{self, leaks_in};
use crate::support::vcsgate::{self as vcsgate_support, Gate, GateConfig};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn the_leak_check_finds_tokens_in_every_form() {
    let token = vcsgate::token::generate()
        .unwrap()
        .secret
        .expose()
        .to_string();
    let other = vcsgate::token::generate()
        .unwrap()
        .secret
        .expose()
        .to_string();
    let secrets = vec![token.clone()];
    let forms = [
        format!("token={token}"),
        format!(
            "Authorization: Basic {}",
            STANDARD.encode(format!("anyuser:{token}"))
        ),
        format!(
            "Authorization: Basic {}",
            STANDARD.encode(format!("ab:{token}"))
        ),
        format!(
            "Authorization: Basic {}",
            STANDARD.encode(format!("{token}:"))
        ),
        format!(
            "Basic {}",
            STANDARD.encode(format!("{token}:x-oauth-basic"))
        ),
        format!("Authorization: Bearer {token}"),
    ];
    for form in &forms {
        let text = format!("2026-01-01 INFO request\n{form}\nmore");
        assert_eq!(
            leaks_in("log", &text, &secrets).len(),
            1,
            "not found: {form}"
        );
    }
    let clean = format!(
        "Basic {} {other} {}",
        STANDARD.encode(format!("u:{other}")),
        &token[..12]
    );
    assert!(
        leaks_in("log", &clean, &secrets).is_empty(),
        "false alarm: {clean}"
    );
    let password = "pw-Secret:@/with spaces";
    let encoded = "postgres://u:pw%2DSecret%3A%40%2Fwith%20spaces@h/db";
    assert_eq!(leaks_in("log", encoded, &[password.to_string()]).len(), 1);
}

#[test]
fn a_token_in_a_vcsgate_or_apache_log_fails_the_test() {
    let repos = tempfile::tempdir().unwrap();
    let gate = Gate::new(GateConfig::new().git_repos("/local", repos.path()));
    gate.user_add("alice");
    let token = gate.token("alice", "leaky", &["--scope", "read_repository"]);
    let log = gate.log_files().pop().unwrap();
    let basic = STANDARD.encode(format!("whoever:{token}"));
    std::fs::write(&log, format!("DEBUG header authorization=Basic {basic}\n")).unwrap();
    let caught = catch_unwind(AssertUnwindSafe(move || drop(gate)));
    let message = panic_message(caught.expect_err("dropping the Gate must fail the test"));
    assert!(message.contains("SECRET LEAK"), "{message}");
    assert!(message.contains("serve.stderr.log"), "{message}");

    let apache = Apache::start();
    let error_log = apache.root().join("logs/error.log");
    let mut text = std::fs::read_to_string(&error_log).unwrap_or_default();
    text.push_str(&format!("[cgid:error] token {token}\n"));
    std::fs::write(&error_log, text).unwrap();
    let caught = catch_unwind(AssertUnwindSafe(move || drop(apache)));
    let message = panic_message(caught.expect_err("dropping Apache must fail the test"));
    assert!(
        message.contains("SECRET LEAK") && message.contains("error.log"),
        "{message}"
    );
}

#[test]
fn a_token_sent_to_hg_serve_fails_the_test() {
    let repos = tempfile::tempdir().unwrap();
    let repo = crate::support::repos::hg(repos.path(), "team/app");
    let gate = Gate::new(GateConfig::new());
    gate.user_add("alice");
    let token = gate.token("alice", "forwarded", &["--scope", "read_repository"]);
    let serve = HgServe::start(&[("team/app", &repo)]);
    // What a proxy that forwarded the client's credentials would send: hg serve's own log
    // never shows it, the recorder in front of it does.
    let port: u16 = serve.url().rsplit(':').next().unwrap().parse().unwrap();
    let response = http::get(port, "/team/app?cmd=capabilities", &[basic(&token)]);
    assert_eq!(response.status, 200, "{response:?}");
    let caught = catch_unwind(AssertUnwindSafe(move || drop(serve)));
    let message = panic_message(caught.expect_err("dropping hg serve must fail the test"));
    assert!(
        message.contains("SECRET LEAK") && message.contains("requests.log"),
        "{message}"
    );
}

#[test]
fn a_backend_identity_secret_may_reach_the_backend_but_not_vcsgate_logs() {
    let secret = format!(
        "identity-{}",
        &vcsgate::token::generate().unwrap().secret.expose()[5..29]
    );
    let mut options = toml::Table::new();
    options.insert("identity".into(), vcsgate_support::basic_identity(&secret));
    let site = Site::with_route(GateConfig::new(), options);
    let line = format!(
        "127.0.0.1 GET / 200 0 Basic {}\n",
        STANDARD.encode(format!("alice:{secret}"))
    );
    let access_log = site.apache.root().join("logs/access.log");
    let mut text = std::fs::read_to_string(&access_log).unwrap();
    text.push_str(&line);
    std::fs::write(&access_log, text).unwrap();
    let Site { gate, apache, .. } = site;
    drop(apache); // the backend's credential in the backend's log: fine

    let log = gate.log_files().pop().unwrap();
    std::fs::write(&log, format!("DEBUG backend authorization {line}")).unwrap();
    let caught = catch_unwind(AssertUnwindSafe(move || drop(gate)));
    let message = panic_message(caught.expect_err("dropping the Gate must fail the test"));
    assert!(
        message.contains("SECRET LEAK") && message.contains("serve.stderr.log"),
        "{message}"
    );
}

#[test]
fn a_log_that_cannot_be_read_fails_the_test() {
    let repos = tempfile::tempdir().unwrap();
    let mut gate = Gate::new(GateConfig::new().git_repos("/local", repos.path()));
    gate.user_add("alice");
    gate.token("alice", "t", &["--scope", "read_repository"]);
    gate.serve();
    gate.signal("KILL");
    let log = gate.log_files().pop().unwrap();
    std::fs::rename(&log, log.with_extension("renamed")).unwrap();
    let caught = catch_unwind(AssertUnwindSafe(move || drop(gate)));
    let message = panic_message(caught.expect_err("dropping the Gate must fail the test"));
    assert!(
        message.contains("SECRET SCAN IMPOSSIBLE") && message.contains("serve.stderr.log"),
        "{message}"
    );

    let apache = Apache::start();
    std::fs::remove_file(apache.root().join("logs/error.log")).unwrap();
    let caught = catch_unwind(AssertUnwindSafe(move || drop(apache)));
    let message = panic_message(caught.expect_err("dropping Apache must fail the test"));
    assert!(
        message.contains("SECRET SCAN IMPOSSIBLE") && message.contains("error.log"),
        "{message}"
    );
}

#[test]
fn no_token_reaches_any_log_in_a_session_full_of_credentials() {
    let mut site = Site::new(GateConfig::new());
    site.gate.env("VCSGATE_LOG", "debug");
    let reader = site.token("reader", "read_repository");
    let writer = site.token("writer", "write_repository");
    let revoked = site.token("revoked", "read_repository");
    site.gate.cli_ok(&["token", "revoke", "alice", "revoked"]);
    site.gate.serve();
    let git = GitClient::new();
    let remote = |cred: Cred| Remote::new(&site.gate.url(), "/git/team/app.git", &cred);
    for (dest, cred) in [
        ("basic", Cred::basic(&reader)),
        ("user", Cred::TokenAsUser(reader.clone())),
        ("oauth", Cred::TokenXOauth(reader.clone())),
        ("bearer", Cred::Bearer(reader.clone())),
    ] {
        let out = git.clone(&remote(cred), dest);
        assert!(out.ok(), "clone ({dest}):\n{out}");
    }
    git.commit("basic", "f.txt", "f\n");
    let refused = git.push(&remote(Cred::basic(&reader)), "basic", "main");
    assert!(!refused.ok(), "a read token must not push:\n{refused}");
    let pushed = git.push(&remote(Cred::basic(&writer)), "basic", "main");
    assert!(pushed.ok(), "a write token pushes:\n{pushed}");
    let out = git.clone(&remote(Cred::basic(&revoked)), "revoked");
    assert!(!out.ok(), "a revoked token must not clone:\n{out}");
    // Tokens where they do not belong: in the query, a mistyped one, to another repository.
    let port = site.gate.port();
    let in_query = format!("{CONTROL}&access_token={reader}");
    assert_eq!(http::get(port, &in_query, &[basic(&reader)]).status, 400);
    let (head, last) = reader.split_at(reader.len() - 1);
    let typo = format!("{head}{}", if last == "X" { "Y" } else { "X" });
    assert_eq!(http::get(port, CONTROL, &[basic(&typo)]).status, 401);
    let other = "/git/team/other.git/info/refs?service=git-upload-pack";
    assert_eq!(http::get(port, other, &[http::bearer(&writer)]).status, 403);
    // Stopping checks vcsgate's log now (and dropping the site checks Apache's).
    site.gate.stop();
    assert!(
        site.gate.log().contains("git/team/app"),
        "the server logged the session:\n{}",
        site.gate.log()
    );
}

#[test]
fn database_password_from_a_file_stays_out_of_errors_when_the_database_is_down() {
    let password = format!(
        "pw-{}:@/ x",
        &vcsgate::token::generate().unwrap().secret.expose()[5..29]
    );
    secrets::remember(&password);
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("pg-password");
    std::fs::write(&file, format!("{password}\n")).unwrap();
    let closed = ports::free_port();
    let config = GateConfig::new()
        .store_url(&format!("postgres://vcsgate@127.0.0.1:{closed}/vcsgate"))
        .store_option("password_file", file.display().to_string());
    let mut gate = Gate::new(config);
    gate.env("VCSGATE_LOG", "debug");
    let needles = [password.clone()];
    for args in [
        &["check-config"][..],
        &["serve"][..],
        &["user", "list"][..],
        &["user", "add", "bob"][..],
        &["token", "list"][..],
        &["token", "rotate", "alice", "ci"][..],
        &["audit", "list"][..],
    ] {
        let out = gate.cli(args);
        assert!(!out.timed_out, "{out}");
        let text = format!("{}\n{}", out.stdout, out.stderr);
        let leaks = leaks_in(&format!("vcsgate {}", args.join(" ")), &text, &needles);
        assert!(
            leaks.is_empty(),
            "the database password leaked: {leaks:?}\n{out}"
        );
        if args[0] != "check-config" {
            assert!(!out.ok(), "must fail without a database:\n{out}");
            assert!(!out.stderr.trim().is_empty(), "says why:\n{out}");
        }
    }
}
