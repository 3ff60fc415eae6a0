//! Mercurial through a running `vcsgate serve`: these tests NEED THE PROXY and its hg
//! classifier (they fail until both work). Every test starts its own `hg serve` (the web
//! config from deploy/hg) serving `team/app` and `team/other`, its own vcsgate with the route
//!
//! ```toml
//! [[route]]
//! prefix = "/hg"
//! kind = "hg"
//! backend = "http://127.0.0.1:HGPORT"
//! repo_depth = 2
//! ```
//!
//! and a user `alice` with a write grant on `hg/team/app` only. Writes are checked on disk in
//! the served repositories (tip, bookmarks, phases), and refusals also in hg serve's access
//! log (a refused request never reaches the backend).
//!
//! - [`client`]: the real `hg` client: clone, pull, push, bookmarks, phases, refusals;
//! - [`wire`]: hand-made wire requests that try to hide a `pushkey` from the proxy;
//! - [`smuggle`]: a `pushkey` hidden in a body hg serve leaves unread (request smuggling).

mod client;
mod smuggle;
mod wire;

use std::path::PathBuf;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tempfile::TempDir;

use crate::support::backend_log;
use crate::support::hg::HgServe;
use crate::support::http;
use crate::support::repos;
use crate::support::vcsgate::{Gate, GateConfig};

/// Characters kept as they are in URL userinfo.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Two tokens of alice: `dev` (`write_repository`) and `ci` (`read_repository`).
pub struct Tokens {
    pub write: String,
    pub read: String,
}

/// `hg serve` with `team/app` and `team/other` behind a vcsgate hg route, alice granted write
/// on `hg/team/app`, and her two [`Tokens`]. The server is running.
pub struct HgWorld {
    // Declared first: stopped before the backend and the repositories go away.
    pub gate: Gate,
    pub tokens: Tokens,
    /// The served repository `team/app` (repo path `hg/team/app`).
    pub app: PathBuf,
    /// The served repository `team/other` (repo path `hg/team/other`).
    pub other: PathBuf,
    serve: HgServe,
    _repos: TempDir,
}

impl HgWorld {
    pub fn start() -> HgWorld {
        let root = tempfile::Builder::new()
            .prefix("vcsgate-hgrepos-")
            .tempdir()
            .unwrap();
        let app = repos::hg(root.path(), "team/app");
        let other = repos::hg(root.path(), "team/other");
        let serve = HgServe::start(&[("team/app", &app), ("team/other", &other)]);
        let mut options = toml::Table::new();
        options.insert("repo_depth".into(), toml::Value::Integer(2));
        let config = GateConfig::new().route_with("/hg", "hg", &serve.url(), options);
        let mut gate = Gate::new(config);
        gate.user_add("alice");
        gate.grant("alice", "hg/team/app", "write");
        let write = gate.token("alice", "dev", &["--scope", "write_repository"]);
        let read = gate.token("alice", "ci", &["--scope", "read_repository"]);
        gate.serve();
        HgWorld {
            gate,
            tokens: Tokens { write, read },
            app,
            other,
            serve,
            _repos: root,
        }
    }

    /// `http://alice:TOKEN@127.0.0.1:PORT/hg/team/NAME` (hg sends the userinfo as Basic
    /// credentials after vcsgate's 401 challenge).
    pub fn url(&self, name: &str, token: &str) -> String {
        let token = utf8_percent_encode(token, USERINFO);
        format!(
            "http://alice:{token}@127.0.0.1:{}/hg/team/{name}",
            self.gate.port()
        )
    }

    /// The node of `tip` in the served `team/app`.
    pub fn app_tip(&self) -> String {
        repos::hg_rev(&self.app, "tip").expect("the served repository has a tip")
    }

    /// The served `team/app`'s bookmarks, one `NAME NODE` line each.
    pub fn app_bookmarks(&self) -> String {
        repos::hg_bookmarks(&self.app)
    }

    /// hg serve's access-log lines for requests to `/team/NAME` (on the backend, without the
    /// route prefix), read once a control request — `GET /hg/team/app?cmd=capabilities` with
    /// the read token — shows in the log ([`backend_log::settled`]); control lines left out.
    #[track_caller]
    pub fn backend_requests(&self, name: &str) -> Vec<String> {
        let control = "/team/app?cmd=capabilities";
        let send = || {
            let target = format!("/hg{control}");
            let response = http::get(
                self.gate.port(),
                &target,
                &[http::basic("alice", &self.tokens.read)],
            );
            self.check(
                response.status == 200,
                &format!("the control request GET {target}: {response:?}"),
            );
        };
        let log = backend_log::settled("hg serve", || self.serve.access_log(), control, send);
        let needle = format!("/team/{name}");
        log.into_iter()
            .filter(|line| line.contains(&needle) && !line.contains(control))
            .collect()
    }

    pub fn serve(&self) -> &HgServe {
        &self.serve
    }

    /// Fails the test with the vcsgate and hg serve logs attached when `cond` is false.
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
