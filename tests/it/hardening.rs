//! Hardening: the §0 rules of PROTOCOLS.md and the §5 bypasses, throttling, slow clients,
//! failure behaviour and secret hygiene, all through the real `vcsgate` binary in front of
//! a real Apache (git-http-backend) driven by raw HTTP bytes and the real `git` client.
//! NEEDS THE PROXY.
//!
//! A refused request must never reach the backend: every test that sends one ends by
//! sending a known-good control request, waiting for it in Apache's access log, and
//! checking that the log holds nothing else ([`Site::assert_backend_saw_only`]). Where a
//! write is attempted, the backend ref is compared as well.

mod backend_failures;
mod headers;
mod http2;
mod limits;
mod paths;
mod queries;
mod scope;
mod secret_hygiene;
mod shutdown;
mod slow_clients;
mod smuggling;
mod store_outage;
mod target_rules;
mod throttle;

use std::path::PathBuf;
use std::time::Duration;

use crate::support::apache::Apache;
use crate::support::backend_log;
use crate::support::http;
use crate::support::repos::{self, Owner};
use crate::support::vcsgate::{Gate, GateConfig};
use crate::support::wire::{self, Exchange, LOCALHOST};

/// Request headers Apache logs for every request (`logs/headers.log`): the ones a client
/// must not be able to pass to the backend, and the identity header of `scope`/`headers`.
pub const LOGGED_HEADERS: &[&str] = &[
    "X-HTTP-Method-Override",
    "X-HTTP-Method",
    "X-Method-Override",
    "Remote-User",
    "X-Remote-User",
    "X_Remote_User",
    "X-Forwarded-User",
    "X-Forwarded-For",
    "Forwarded",
    "Cookie",
    "Proxy-Authorization",
    "Authorization",
    "X-Vcsgate-User",
];

/// The known-good request every test ends with.
pub const CONTROL: &str = "/git/team/app.git/info/refs?service=git-upload-pack";

/// Apache (logging [`LOGGED_HEADERS`]) serving `team/app.git` and `team/other.git` under
/// `/git`, a vcsgate route `/git` to it, and user `alice` with a write grant on
/// `git/team/app` only. Not serving yet: call `site.gate.serve()`.
pub struct Site {
    pub gate: Gate,
    pub apache: Apache,
    pub app: PathBuf,
    pub other: PathBuf,
}

impl Site {
    pub fn new(config: GateConfig) -> Site {
        Self::with_route(config, toml::Table::new())
    }

    /// Like [`Site::new`], with more keys in the `/git` route (e.g. `identity`).
    pub fn with_route(config: GateConfig, route_options: toml::Table) -> Site {
        let apache = Apache::start_logging_headers(LOGGED_HEADERS);
        let root = apache.git_root();
        let app = repos::git_bare(&root, "team/app.git", Owner::Apache);
        let other = repos::git_bare(&root, "team/other.git", Owner::Apache);
        let backend = format!("{}/git", apache.url());
        let gate = Gate::new(config.route_with("/git", "git", &backend, route_options));
        gate.user_add("alice");
        gate.grant("alice", "git/team/app", "write");
        Site {
            gate,
            apache,
            app,
            other,
        }
    }

    /// A token of alice with one scope (`read_repository` or `write_repository`).
    pub fn token(&self, name: &str, scope: &str) -> String {
        self.gate.token("alice", name, &["--scope", scope])
    }

    /// `refs/heads/main` of a backend repository.
    pub fn main_of(&self, repo: &std::path::Path) -> String {
        repos::git_rev(repo, "refs/heads/main").expect("backend repository has main")
    }

    /// Sends `bytes` from 127.0.0.1 to vcsgate; reads until it closes (at most 10 s).
    pub fn send(&self, bytes: &[u8]) -> Exchange {
        wire::exchange(LOCALHOST, self.gate.port(), bytes, Duration::from_secs(10))
    }

    /// Sends the control request with `token`, expects 200, waits for it in Apache's access
    /// log, and fails the test (listing them) if the log holds any other request: nothing
    /// refused earlier reached the backend. `allowed` lists more access-log fragments
    /// (`METHOD PATH?QUERY STATUS`) the test itself expects there.
    #[track_caller]
    pub fn assert_backend_saw_only(&self, token: &str, allowed: &[&str]) {
        let send = || {
            let control = http::get(self.gate.port(), CONTROL, &[http::basic("x", token)]);
            assert_eq!(
                control.status,
                200,
                "the control request must pass: {control:?}\n--- vcsgate log\n{}",
                self.gate.log()
            );
        };
        let log = backend_log::settled("Apache", || self.apache.access_log(), CONTROL, send);
        let unexpected: Vec<String> = log
            .into_iter()
            .filter(|line| {
                let control = line.contains(&format!("GET {CONTROL} 200"));
                !control && !allowed.iter().any(|a| line.contains(a))
            })
            .collect();
        assert!(
            unexpected.is_empty(),
            "refused requests reached the backend (Apache access log):\n{}\n--- vcsgate log\n{}",
            unexpected.join("\n"),
            self.gate.log()
        );
    }
}

/// One raw request and what it must get.
pub struct Probe {
    pub what: String,
    pub bytes: Vec<u8>,
    /// Acceptable status codes of the first response.
    pub expect: Vec<u16>,
}

impl Probe {
    pub fn new(what: &str, bytes: impl Into<Vec<u8>>, expect: &[u16]) -> Probe {
        Probe {
            what: what.to_string(),
            bytes: bytes.into(),
            expect: expect.to_vec(),
        }
    }
}

/// Sends every probe and fails the test listing each one that did not get an expected
/// status (all are sent, so one run shows every gap).
#[track_caller]
pub fn run_probes(site: &Site, probes: &[Probe]) {
    let mut failures = Vec::new();
    for probe in probes {
        let done = site.send(&probe.bytes);
        let status = done.responses().first().map(|r| r.status);
        if !status.is_some_and(|s| probe.expect.contains(&s)) {
            failures.push(format!(
                "{}: expected {:?}, got {} ({:?})",
                probe.what,
                probe.expect,
                status.map_or("no response".to_string(), |s| s.to_string()),
                String::from_utf8_lossy(&done.raw)
                    .lines()
                    .next()
                    .unwrap_or("")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} probes got the wrong answer:\n{}\n--- vcsgate log\n{}",
        failures.len(),
        probes.len(),
        failures.join("\n"),
        site.gate.log()
    );
}

/// `Authorization: Basic base64(x:TOKEN)` as a header pair.
pub fn basic(token: &str) -> (String, String) {
    http::basic("x", token)
}
