//! ACCESS.md "Anonymous read", "URL tokens" and "Feed tokens" through a running `vcsgate
//! serve` with the real clients (`git`, `hg`, `svn`, and `curl` for downloads) and real
//! backends (Apache with git-http-backend and mod_dav_svn, `hg serve`).
//!
//! - [`anonymous`]: public repositories cloned and checked out without credentials; writes
//!   without credentials challenged, then refused with a read-only token, the backend
//!   unchanged;
//! - [`url_tokens`]: `?auth_token=` on hgweb archive and raw-file downloads and an svn file
//!   download (content checked), refused on other paths, methods, as a VCS credential, with
//!   the wrong scope, and never reaching a backend or a log;
//! - [`feeds`]: hgweb feeds with a `read_feed` token by URL, Basic and Bearer, refused
//!   elsewhere;
//! - [`oidc`]: CI jobs' JWTs (minted here with the test keys of `tests/fixtures/oidc`) clone
//!   and push as their claims allow, and every refusal leaves the backend unchanged.
//!
//! Every log (vcsgate's, Apache's, hg serve's and the recorder's in front of it) is scanned
//! for every token on drop ([`crate::support::secrets`]), URL tokens included.

mod anonymous;
mod feeds;
mod oidc;
mod url_tokens;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use crate::support::apache::Apache;
use crate::support::hg::HgServe;
use crate::support::process::{self, Output};
use crate::support::repos::{self, Owner};
use crate::support::vcsgate::{self, Gate, GateConfig};
use crate::support::{backend_log, http, poll, tools};

/// The patterns the hg and svn worlds accept `?auth_token=` on.
const HG_URL_TOKEN_PATHS: [&str; 2] = ["archive/*", "raw-file/**"];
const SVN_URL_TOKEN_PATHS: [&str; 1] = ["trunk/**"];

/// alice's tokens, all on the same grants: one per scope.
pub struct Tokens {
    pub web: String,
    pub feed: String,
    pub read: String,
    pub write: String,
}

fn tokens(gate: &Gate) -> Tokens {
    let make = |name: &str, scope: &str| gate.token("alice", name, &["--scope", scope]);
    Tokens {
        web: make("web", "read_web"),
        feed: make("feed", "read_feed"),
        read: make("ci", "read_repository"),
        write: make("dev", "write_repository"),
    }
}

fn patterns(list: &[&str]) -> toml::Value {
    toml::Value::Array(list.iter().map(|p| toml::Value::from(*p)).collect())
}

/// `hg serve` with `team/app` (archives allowed) and `team/other` behind the route
/// `/hg` (`repo_depth = 2`, `url_token_paths = ["archive/*", "raw-file/**"]`, the default
/// feed paths); alice granted write on `hg/team/app` only, with her [`Tokens`]. Serving.
pub struct HgAccess {
    pub gate: Gate,
    pub tokens: Tokens,
    pub app: PathBuf,
    serve: HgServe,
    _repos: TempDir,
}

impl HgAccess {
    pub fn start() -> HgAccess {
        let root = tempfile::Builder::new()
            .prefix("vcsgate-hgrepos-")
            .tempdir()
            .unwrap();
        let app = repos::hg(root.path(), "team/app");
        let other = repos::hg(root.path(), "team/other");
        std::fs::write(app.join(".hg/hgrc"), "[web]\nallow-archive = gz zip\n").unwrap();
        let serve = HgServe::start(&[("team/app", &app), ("team/other", &other)]);
        let mut options = toml::Table::new();
        options.insert("repo_depth".into(), toml::Value::Integer(2));
        options.insert("url_token_paths".into(), patterns(&HG_URL_TOKEN_PATHS));
        let config = GateConfig::new().route_with("/hg", "hg", &serve.url(), options);
        let mut gate = Gate::new(config);
        gate.user_add("alice");
        gate.grant("alice", "hg/team/app", "write");
        let tokens = tokens(&gate);
        gate.serve();
        HgAccess {
            gate,
            tokens,
            app,
            serve,
            _repos: root,
        }
    }

    pub fn port(&self) -> u16 {
        self.gate.port()
    }

    /// `http://127.0.0.1:PORT/hg/team/NAME` (no credentials).
    pub fn url(&self, name: &str) -> String {
        format!("{}/hg/team/{name}", self.gate.url())
    }

    pub fn app_tip(&self) -> String {
        repos::hg_rev(&self.app, "tip").expect("the served repository has a tip")
    }

    /// hg serve's access-log lines after a control request (`?cmd=capabilities` with the
    /// read token) showed up in it; control lines left out.
    #[track_caller]
    pub fn backend_requests(&self) -> Vec<String> {
        let control = "/team/app?cmd=capabilities";
        let send = || {
            let target = format!("/hg{control}");
            let headers = [http::basic("alice", &self.tokens.read)];
            let response = http::get(self.port(), &target, &headers);
            self.check(response.status == 200, &format!("control: {response:?}"));
        };
        let log = backend_log::settled("hg serve", || self.serve.access_log(), control, send);
        log.into_iter().filter(|l| !l.contains(control)).collect()
    }

    #[track_caller]
    pub fn check(&self, cond: bool, what: &str) {
        assert!(
            cond,
            "{what}\n--- vcsgate log\n{}\n--- hg serve access log\n{}\n--- hg serve error log\n{}",
            self.gate.log(),
            self.serve.access_log(),
            self.serve.error_log()
        );
    }
}

/// Apache (mod_dav_svn) with `repo` (`trunk/README` = "readme\n", `trunk/file.txt`,
/// `branches/`) behind the route `/svn` with `url_token_paths = ["trunk/**"]`; alice granted
/// write on `svn/repo`, with her [`Tokens`]. Serving.
pub struct SvnAccess {
    pub gate: Gate,
    pub tokens: Tokens,
    apache: Apache,
}

impl SvnAccess {
    pub fn start() -> SvnAccess {
        let apache = Apache::start();
        let repo = repos::svn(&apache.svn_root(), "repo", Owner::Apache);
        repos::svn_initial_layout(&repo, Owner::Apache);
        let mut options = toml::Table::new();
        options.insert(
            "identity".into(),
            vcsgate::basic_identity(crate::svn_e2e::BACKEND_SECRET),
        );
        options.insert("url_token_paths".into(), patterns(&SVN_URL_TOKEN_PATHS));
        let backend = format!("{}/svn", apache.url());
        let mut gate = Gate::new(GateConfig::new().route_with("/svn", "svn", &backend, options));
        gate.user_add("alice");
        gate.grant("alice", "svn/repo", "write");
        let tokens = tokens(&gate);
        gate.serve();
        SvnAccess {
            gate,
            tokens,
            apache,
        }
    }

    pub fn port(&self) -> u16 {
        self.gate.port()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/svn/repo{path}", self.gate.url())
    }

    /// Apache's access-log lines after a control request (`GET /svn/repo/trunk/file.txt`
    /// with the read token) showed up in it; control lines left out.
    #[track_caller]
    pub fn backend_requests(&self) -> Vec<String> {
        let control = "GET /svn/repo/trunk/file.txt ";
        let send = || {
            let headers = [http::basic("anyone", &self.tokens.read)];
            let response = http::get(self.port(), "/svn/repo/trunk/file.txt", &headers);
            self.check(response.status == 200, &format!("control: {response:?}"));
        };
        let log = backend_log::settled("Apache", || self.apache.access_log(), control, send);
        log.into_iter().filter(|l| !l.contains(control)).collect()
    }

    #[track_caller]
    pub fn check(&self, cond: bool, what: &str) {
        assert!(
            cond,
            "{what}\n--- vcsgate log\n{}\n--- Apache access log\n{}\n--- Apache error log\n{}",
            self.gate.log(),
            self.apache.access_log(),
            self.apache.error_log()
        );
    }
}

/// `vcsgate grant add anonymous PATTERN read`, then waits until a request without
/// credentials to `probe` (a read of a repository the pattern covers) is allowed: running
/// servers follow the change feed within a second.
#[track_caller]
pub fn make_public(gate: &Gate, pattern: &str, probe: &str) {
    gate.grant("anonymous", pattern, "read");
    let allowed = poll::until(Duration::from_secs(5), Duration::from_millis(50), || {
        http::get(gate.port(), probe, &[]).status == 200
    });
    assert!(
        allowed.is_some(),
        "GET {probe} without credentials still refused after `grant add anonymous {pattern} read`:\n{}",
        gate.log()
    );
}

/// `curl -sS -o OUT -w %{http_code} [-X METHOD] [-H HEADER] URL`: the status, and the body
/// saved in `out`.
pub fn curl(url: &str, out: &Path, extra: &[&str]) -> u16 {
    let mut cmd = Command::new(tools::curl());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["-sS", "--max-time", "60", "-o"])
        .arg(out)
        .args(["-w", "%{http_code}"])
        .args(extra)
        .arg(url);
    let output: Output = process::run(&mut cmd);
    assert!(output.ok(), "curl {url} failed: {output}");
    output
        .stdout
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("curl printed no status: {output}"))
}

/// The access-log lines of vcsgate whose path is `path` (exactly).
pub fn access_lines(gate: &Gate, path: &str) -> Vec<String> {
    let needle = format!(" path={path} ");
    gate.log()
        .lines()
        .filter(|l| l.contains(" request ") && l.contains(&needle))
        .map(str::to_string)
        .collect()
}

/// Whether an access-log line for `path` holding every one of `fields` shows up within a
/// few seconds (workers write their lines when they run out of work, so a line may follow
/// the response it describes).
pub fn logged(gate: &Gate, path: &str, fields: &[&str]) -> bool {
    let found = || {
        access_lines(gate, path)
            .iter()
            .any(|line| fields.iter().all(|field| line.contains(field)))
    };
    poll::until(Duration::from_secs(10), Duration::from_millis(20), found).is_some()
}
