//! Running it in production (OPERATIONS.md): the admin listener with Prometheus metrics and
//! health checks, JSON logs, reload on SIGHUP, several instances on one PostgreSQL,
//! `store copy`, and the deploy files. NEEDS THE PROXY.

mod deploy;
mod health;
mod instances;
mod logs;
mod metrics;
mod notices;
mod reload;
mod store_copy;

use std::path::Path;

use crate::support::http;
use crate::support::ports;
use crate::support::repos::{self, Owner};
use crate::support::vcsgate::{Gate, GateConfig};

/// `[admin] listen = "127.0.0.1:PORT"` on a free port; returns the config and the port.
pub fn with_admin(config: GateConfig) -> (GateConfig, u16) {
    let port = ports::free_port();
    let mut admin = toml::Table::new();
    admin.insert("listen".into(), format!("127.0.0.1:{port}").into());
    (config.section("admin", admin), port)
}

/// `GET PATH` on the admin listener.
pub fn admin_get(port: u16, path: &str) -> http::Response {
    http::get(port, path, &[])
}

/// A directory of bare repositories holding `team/app.git` (served by the built-in
/// backend), kept alive with the site.
pub struct Repos {
    pub dir: tempfile::TempDir,
}

impl Repos {
    pub fn new() -> Repos {
        let dir = tempfile::Builder::new()
            .prefix("vcsgate-ops-repos-")
            .tempdir()
            .unwrap();
        repos::git_bare(dir.path(), "team/app.git", Owner::Me);
        Repos { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A vcsgate with the built-in Git route `/local` over `repos`, the admin listener, user
/// `alice` with write on `local/**`; not serving yet.
pub struct Site {
    pub gate: Gate,
    pub admin: u16,
    /// Kept alive with the site.
    _repos: Repos,
}

impl Site {
    pub fn new(config: GateConfig) -> Site {
        let repos = Repos::new();
        let (config, admin) = with_admin(config.git_repos("/local", repos.path()));
        let gate = Gate::new(config);
        gate.user_add("alice");
        gate.grant("alice", "local/**", "write");
        Site {
            gate,
            admin,
            _repos: repos,
        }
    }

    /// A token of alice with `scope`.
    pub fn token(&self, name: &str, scope: &str) -> String {
        self.gate.token("alice", name, &["--scope", scope])
    }
}
