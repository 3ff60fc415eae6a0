//! Git through a running `vcsgate serve`: these tests NEED THE PROXY (they fail until it
//! works). Every test starts its own Apache (git-http-backend from deploy/apache) or uses the
//! built-in backend route (`repos = DIR`), its own vcsgate with a fresh database, and drives
//! the real `git` client.

mod access;
mod access_log;
mod builtin;
mod credentials;
mod https_backend;
mod lifecycle;
mod postgres;
mod reads_writes;
mod tls;

use std::cell::OnceCell;
use std::path::PathBuf;

use crate::support::apache::Apache;
use crate::support::backend_log;
use crate::support::cgi_git::LoggingGit;
use crate::support::git::{Cred, Remote};
use crate::support::http;
use crate::support::repos::{self, Owner};
use crate::support::vcsgate::{Gate, GateConfig};

/// Which Git backend the route points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `[[route]] prefix="/git" backend="http://127.0.0.1:PORT/git"` (Apache).
    Apache,
    /// `[[route]] prefix="/local" repos=DIR` (vcsgate's built-in backend).
    Builtin,
}

/// Two bare repositories, `team/app.git` and `team/other.git`, behind a vcsgate route, and a
/// user `alice` (no grants yet). The server is not started: call `gate.serve()`.
pub struct World {
    pub gate: Gate,
    pub via: Via,
    pub app: PathBuf,
    // Kept alive for the test's duration.
    apache: Option<Apache>,
    builtin: Option<(LoggingGit, tempfile::TempDir)>,
    /// A read token for the control request of [`World::backend_requests`].
    control_token: OnceCell<String>,
}

impl World {
    pub fn new(via: Via) -> World {
        Self::with_config(via, GateConfig::new())
    }

    /// Adds the route for `via` to `config` (which may already set the store or TLS).
    pub fn with_config(via: Via, config: GateConfig) -> World {
        let (config, app, apache, builtin) = match via {
            Via::Apache => {
                let apache = Apache::start();
                let root = apache.git_root();
                let app = repos::git_bare(&root, "team/app.git", Owner::Apache);
                repos::git_bare(&root, "team/other.git", Owner::Apache);
                let backend = format!("{}/git", apache.url());
                let config = config.route("/git", "git", &backend);
                (config, app, Some(apache), None)
            }
            Via::Builtin => {
                let root = tempfile::Builder::new()
                    .prefix("vcsgate-repos-")
                    .tempdir()
                    .unwrap();
                let app = repos::git_bare(root.path(), "team/app.git", Owner::Me);
                repos::git_bare(root.path(), "team/other.git", Owner::Me);
                let git = LoggingGit::new();
                let mut options = toml::Table::new();
                options.insert(
                    "git_binary".into(),
                    git.program().display().to_string().into(),
                );
                let config = config.git_repos_with("/local", root.path(), options);
                (config, app, None, Some((git, root)))
            }
        };
        let gate = Gate::new(config);
        gate.user_add("alice");
        World {
            gate,
            via,
            app,
            apache,
            builtin,
            control_token: OnceCell::new(),
        }
    }

    /// The route prefix without its `/`: `git` or `local`.
    pub fn prefix(&self) -> &'static str {
        match self.via {
            Via::Apache => "git",
            Via::Builtin => "local",
        }
    }

    /// The repo path of `team/NAME` as grants see it: `git/team/app`.
    pub fn repo_path(&self, name: &str) -> String {
        format!("{}/team/{name}", self.prefix())
    }

    /// The URL path of `team/NAME.git`: `/git/team/app.git`.
    pub fn url_path(&self, name: &str) -> String {
        format!("/{}/team/{name}.git", self.prefix())
    }

    /// The vcsgate URL of `team/NAME.git` with `cred`.
    pub fn remote(&self, name: &str, cred: &Cred) -> Remote {
        Remote::new(&self.gate.url(), &self.url_path(name), cred)
    }

    /// `refs/heads/main` of `team/app.git` as the backend has it.
    pub fn app_main(&self) -> String {
        self.main_of("app")
    }

    /// `refs/heads/main` of `team/NAME.git` as the backend has it.
    pub fn main_of(&self, name: &str) -> String {
        let repo = self.app.with_file_name(format!("{name}.git"));
        repos::git_rev(&repo, "refs/heads/main").expect("backend has main")
    }

    /// Every request the backend logged (Apache's access log, or the built-in backend's
    /// `METHOD PATH_INFO?QUERY` lines), read once a control request — `GET` of
    /// `team/app.git/HEAD` with a read token of its own user — has reached the backend and
    /// shows in the log ([`backend_log::settled`]). The control lines are left out.
    #[track_caller]
    pub fn backend_requests(&self) -> Vec<String> {
        let control = "/team/app.git/HEAD";
        let send = || {
            let token = self.control_token.get_or_init(|| {
                self.gate.user_add("control");
                self.gate.grant("control", &self.repo_path("app"), "read");
                self.gate
                    .token("control", "control", &["--scope", "read_repository"])
            });
            let target = format!("{}/HEAD", self.url_path("app"));
            let response = http::get(self.gate.port(), &target, &[http::basic("x", token)]);
            self.check(
                response.status == 200,
                &format!("the control request GET {target}: {response:?}"),
            );
        };
        let lines = match (&self.apache, &self.builtin) {
            (Some(apache), _) => {
                backend_log::settled("Apache", || apache.access_log(), control, send)
            }
            (None, Some((git, _))) => {
                backend_log::settled("the built-in backend", || git.requests(), control, send)
            }
            (None, None) => unreachable!("a World has a backend"),
        };
        lines.into_iter().filter(|l| !l.contains(control)).collect()
    }

    /// [`World::backend_requests`] for receive-pack.
    #[track_caller]
    pub fn backend_receive_pack_requests(&self) -> Vec<String> {
        let mut lines = self.backend_requests();
        lines.retain(|l| l.contains("git-receive-pack"));
        lines
    }

    /// The status of `GET …/info/refs?service=git-upload-pack` for `team/NAME` with `token`
    /// as Basic password.
    pub fn upload_pack_status(&self, name: &str, token: &str) -> u16 {
        let target = format!("{}/info/refs?service=git-upload-pack", self.url_path(name));
        http::get(self.gate.port(), &target, &[http::basic("anyuser", token)]).status
    }

    /// Fails the test with the server log attached when `cond` is false.
    #[track_caller]
    pub fn check(&self, cond: bool, what: &str) {
        assert!(cond, "{what}\n--- vcsgate log\n{}", self.gate.log());
    }
}
