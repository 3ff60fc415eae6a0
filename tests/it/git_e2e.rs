//! Git through a running `vcsgate serve`: these tests NEED THE PROXY (they fail until it
//! works). Every test starts its own Apache (git-http-backend from deploy/apache) or uses the
//! built-in backend route (`repos = DIR`), its own vcsgate with a fresh database, and drives
//! the real `git` client.

mod access;
mod builtin;
mod credentials;
mod lifecycle;
mod postgres;
mod reads_writes;
mod tls;

use std::path::PathBuf;

use crate::support::apache::Apache;
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
    _builtin_root: Option<tempfile::TempDir>,
}

impl World {
    pub fn new(via: Via) -> World {
        Self::with_config(via, GateConfig::new())
    }

    /// Adds the route for `via` to `config` (which may already set the store or TLS).
    pub fn with_config(via: Via, config: GateConfig) -> World {
        let (config, app, apache, builtin_root) = match via {
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
                let config = config.git_repos("/local", root.path());
                (config, app, None, Some(root))
            }
        };
        let gate = Gate::new(config);
        gate.user_add("alice");
        World {
            gate,
            via,
            app,
            apache,
            _builtin_root: builtin_root,
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
        repos::git_rev(&self.app, "refs/heads/main").expect("backend has main")
    }

    /// Access-log lines for receive-pack (Apache only; empty for the built-in backend).
    pub fn backend_receive_pack_requests(&self) -> Vec<String> {
        match &self.apache {
            Some(apache) => apache.requests_matching("git-receive-pack"),
            None => Vec::new(),
        }
    }

    pub fn apache(&self) -> Option<&Apache> {
        self.apache.as_ref()
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
