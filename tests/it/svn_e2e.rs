//! Subversion through a running `vcsgate serve`: these tests NEED THE PROXY and its svn
//! classifier (they fail until both work). Every test starts its own Apache (mod_dav_svn from
//! deploy/apache) with the repositories `repo` and `other`, and its own vcsgate with the route
//!
//! ```toml
//! [[route]]
//! prefix = "/svn"
//! kind = "svn"
//! backend = "http://127.0.0.1:APACHEPORT/svn"
//! [route.identity]
//! mode = "basic"
//! secret = "backend-secret"
//! ```
//!
//! and a user `alice` with a write grant on `svn/repo` only. Apache accepts any Basic user,
//! so commit authors and lock owners on disk show whom vcsgate authenticated. Writes are
//! checked in the repository with `svnlook` (youngest revision, author, log, locks), and
//! refusals also in Apache's access log.
//!
//! - [`writes`]: checkout, update, log, commit, copy, lock/unlock, revision properties;
//! - [`refused`]: the same writes with a read-only token, and a repository without a grant;
//! - [`tls`]: vcsgate on HTTPS in front of plain-HTTP Apache;
//! - [`single`]: a single-repository route (`SVNPath`, `svn_layout = "single"`).

mod refused;
mod single;
mod tls;
mod writes;

use std::path::{Path, PathBuf};

use crate::support::apache::Apache;
use crate::support::backend_log;
use crate::support::http;
use crate::support::process::Output;
use crate::support::repos::{self, Owner};
use crate::support::svn::SvnClient;
use crate::support::vcsgate::{self, Gate, GateConfig};

/// What vcsgate sends Apache as the Basic password (Apache accepts any).
pub const BACKEND_SECRET: &str = "backend-secret";
/// The svn user name the client sends; vcsgate ignores it (the password is the token).
pub const CLIENT_USER: &str = "anyone";

/// Two tokens of alice: `dev` (`write_repository`) and `ci` (`read_repository`).
pub struct Tokens {
    pub write: String,
    pub read: String,
}

/// Apache with `repo` (revision 1: `trunk/README`, `trunk/file.txt`, `branches/`; revision
/// property changes allowed) and `other`, behind a vcsgate svn route; alice granted write on
/// `svn/repo`, and her two [`Tokens`]. The server is running.
pub struct SvnWorld {
    // Declared first: stopped before Apache and the repositories go away.
    pub gate: Gate,
    pub tokens: Tokens,
    /// The repository on disk (`svn/repo`).
    pub repo: PathBuf,
    /// The repository `svn/other` on disk.
    pub other: PathBuf,
    apache: Apache,
}

impl SvnWorld {
    pub fn start() -> SvnWorld {
        Self::with_config(GateConfig::new())
    }

    /// Adds the svn route to `config` (which may set TLS).
    pub fn with_config(config: GateConfig) -> SvnWorld {
        let apache = Apache::start();
        let repo = repos::svn(&apache.svn_root(), "repo", Owner::Apache);
        repos::svn_initial_layout(&repo, Owner::Apache);
        repos::svn_allow_revprop_changes(&repo, Owner::Apache);
        let other = repos::svn(&apache.svn_root(), "other", Owner::Apache);
        repos::svn_initial_layout(&other, Owner::Apache);
        let mut options = toml::Table::new();
        options.insert("identity".into(), vcsgate::basic_identity(BACKEND_SECRET));
        let backend = format!("{}/svn", apache.url());
        let mut gate = Gate::new(config.route_with("/svn", "svn", &backend, options));
        gate.user_add("alice");
        gate.grant("alice", "svn/repo", "write");
        let write = gate.token("alice", "dev", &["--scope", "write_repository"]);
        let read = gate.token("alice", "ci", &["--scope", "read_repository"]);
        gate.serve();
        SvnWorld {
            gate,
            tokens: Tokens { write, read },
            repo,
            other,
            apache,
        }
    }

    /// The vcsgate URL of `PATH` in `repo` (`""` for the repository root, else `/trunk`…).
    /// Over HTTPS the host is `localhost`: svn (serf) matches only DNS names of the
    /// certificate's subjectAltName, not its `IP:127.0.0.1` entry.
    pub fn url(&self, path: &str) -> String {
        self.repo_url("repo", path)
    }

    /// The vcsgate URL of `PATH` in the repository `name`.
    pub fn repo_url(&self, name: &str, path: &str) -> String {
        let base = self.gate.url();
        let base = match base.strip_prefix("https://127.0.0.1:") {
            Some(port) => format!("https://localhost:{port}"),
            None => base,
        };
        format!("{base}/svn/{name}{path}")
    }

    /// Runs `svn ARGS` with `--username anyone --password TOKEN`.
    pub fn svn(
        &self,
        client: &SvnClient,
        token: &str,
        args: &[&str],
        cwd: Option<&Path>,
    ) -> Output {
        client.run(Some((CLIENT_USER, token)), args, cwd)
    }

    /// `svnlook youngest`
    pub fn youngest(&self) -> u64 {
        repos::svn_youngest(&self.repo).0
    }

    /// `svnlook author -r REV`
    pub fn author(&self, rev: u64) -> String {
        let out = repos::svnlook(&self.repo, "author", &["-r", &rev.to_string()]);
        out.trim().to_string()
    }

    /// `svnlook log -r REV`
    pub fn log(&self, rev: u64) -> String {
        let out = repos::svnlook(&self.repo, "log", &["-r", &rev.to_string()]);
        out.trim().to_string()
    }

    /// `svnlook changed -r REV`
    pub fn changed(&self, rev: u64) -> String {
        repos::svnlook(&self.repo, "changed", &["-r", &rev.to_string()])
    }

    /// `svnlook lock REPO PATH`: empty when PATH is not locked.
    pub fn lock(&self, path: &str) -> String {
        repos::svnlook(&self.repo, "lock", &[path])
    }

    /// Apache's access-log lines for `/svn/NAME` (`METHOD PATH STATUS …` after the address),
    /// read once a control request — `GET /svn/repo/trunk/README` with the read token — shows
    /// in the log ([`backend_log::settled`]); control lines left out.
    #[track_caller]
    pub fn backend_requests(&self, name: &str) -> Vec<String> {
        let control = "GET /svn/repo/trunk/README ";
        let send = || {
            let response = http::get(
                self.gate.port(),
                "/svn/repo/trunk/README",
                &[http::basic(CLIENT_USER, &self.tokens.read)],
            );
            self.check(
                response.status == 200,
                &format!("the control request GET /svn/repo/trunk/README: {response:?}"),
            );
        };
        let log = backend_log::settled("Apache", || self.apache.access_log(), control, send);
        let needle = format!("/svn/{name}");
        log.into_iter()
            .filter(|line| {
                let path = line.split(' ').nth(2).unwrap_or_default();
                path.contains(&needle) && !line.contains(control)
            })
            .collect()
    }

    /// Fails the test with the vcsgate log and Apache's logs attached when `cond` is false.
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
