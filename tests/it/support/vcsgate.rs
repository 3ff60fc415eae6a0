//! The real `vcsgate` binary: a `proxy.toml` in a temporary directory, CLI commands, and
//! `serve` on a free loopback port, stopped on drop.
//!
//! Only the contract of DESIGN.md and docs/CONFIG.md is used: the CLI, the config keys, the
//! built-in Git backend route form `[[route]] prefix kind="git" repos=DIR`, and per-route
//! options (`repo_depth`, `svn_layout`, `[route.identity]`).
//!
//! Secret hygiene is enforced for every test: each token made by [`Gate::token`] is
//! remembered ([`super::secrets`]), and when the server stops or the [`Gate`] is dropped its
//! log is scanned for every remembered secret; a leak fails the test.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::{self, Daemon, Output};
use super::{poll, ports, secrets};

/// The binary cargo built for this test run.
pub const BINARY: &str = env!("CARGO_BIN_EXE_vcsgate");
/// Set to run the tests against another build (e.g. `target/release/vcsgate`).
pub const BINARY_OVERRIDE: &str = "VCSGATE_TEST_BIN";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 3;
/// Where `serve` writes (stdout, stderr), in the Gate's directory.
const SERVE_LOGS: [&str; 2] = ["serve.stdout.log", "serve.stderr.log"];
/// The log level `serve` runs at unless a test sets `VCSGATE_LOG`: debug, so the secret scan
/// of every test covers everything vcsgate can print.
const SERVE_LOG_LEVEL: &str = "debug";

/// Where a route sends its requests.
#[derive(Debug, Clone)]
pub enum Target {
    /// `backend = "URL"`
    Url(String),
    /// The built-in Git backend: `repos = "DIR"` (bare repositories served by
    /// `git http-backend`).
    GitRepos(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Route {
    pub prefix: String,
    pub kind: String,
    pub target: Target,
    /// More keys of the `[[route]]` table (`repo_depth`, `svn_layout`, `identity`…).
    pub options: toml::Table,
}

/// What goes into `proxy.toml` (the listen address is chosen by [`Gate`]).
#[derive(Debug, Clone, Default)]
pub struct GateConfig {
    routes: Vec<Route>,
    /// `None`: `sqlite://vcsgate.db` next to the config file.
    store_url: Option<String>,
    /// `[server.tls] cert, key`
    tls: Option<(PathBuf, PathBuf)>,
    /// More keys of `[store]` (`outage_grace_secs`, `password_file`…).
    store_options: toml::Table,
    /// More top-level tables (`limits`, `throttle`…).
    sections: toml::Table,
}

impl GateConfig {
    pub fn new() -> GateConfig {
        GateConfig::default()
    }

    /// A route to an HTTP(S) backend URL.
    pub fn route(mut self, prefix: &str, kind: &str, backend: &str) -> GateConfig {
        self.routes.push(Route {
            prefix: prefix.to_string(),
            kind: kind.to_string(),
            target: Target::Url(backend.to_string()),
            options: toml::Table::new(),
        });
        self
    }

    /// A route to an HTTP(S) backend URL with more route keys, e.g. `repo_depth = 2` or an
    /// `identity` table (see [`basic_identity`]).
    pub fn route_with(
        mut self,
        prefix: &str,
        kind: &str,
        backend: &str,
        options: toml::Table,
    ) -> GateConfig {
        self.routes.push(Route {
            prefix: prefix.to_string(),
            kind: kind.to_string(),
            target: Target::Url(backend.to_string()),
            options,
        });
        self
    }

    /// A Git route served by the built-in backend from a directory of bare repositories.
    pub fn git_repos(mut self, prefix: &str, dir: &Path) -> GateConfig {
        self.routes.push(Route {
            prefix: prefix.to_string(),
            kind: "git".to_string(),
            target: Target::GitRepos(dir.to_path_buf()),
            options: toml::Table::new(),
        });
        self
    }

    /// Like [`GateConfig::git_repos`], with more route keys (e.g. `git_binary`).
    pub fn git_repos_with(mut self, prefix: &str, dir: &Path, options: toml::Table) -> GateConfig {
        self.routes.push(Route {
            prefix: prefix.to_string(),
            kind: "git".to_string(),
            target: Target::GitRepos(dir.to_path_buf()),
            options,
        });
        self
    }

    pub fn store_url(mut self, url: &str) -> GateConfig {
        self.store_url = Some(url.to_string());
        self
    }

    pub fn tls(mut self, cert: &Path, key: &Path) -> GateConfig {
        self.tls = Some((cert.to_path_buf(), key.to_path_buf()));
        self
    }

    /// Sets `[store] KEY = VALUE` (e.g. `outage_grace_secs`, `password_file`).
    pub fn store_option(mut self, key: &str, value: impl Into<toml::Value>) -> GateConfig {
        self.store_options.insert(key.to_string(), value.into());
        self
    }

    /// Sets the top-level table `[NAME]` (e.g. `limits`, `throttle`) to `table`.
    pub fn section(mut self, name: &str, table: toml::Table) -> GateConfig {
        self.sections
            .insert(name.to_string(), toml::Value::Table(table));
        self
    }

    /// Sets the top-level key `NAME` to `value` (e.g. an array of tables such as `[[oidc]]`).
    pub fn top_level(mut self, name: &str, value: toml::Value) -> GateConfig {
        self.sections.insert(name.to_string(), value);
        self
    }

    fn to_toml(&self, port: u16) -> String {
        use toml::{Table, Value};
        let mut server = Table::new();
        server.insert("listen".into(), format!("127.0.0.1:{port}").into());
        if let Some((cert, key)) = &self.tls {
            let mut tls = Table::new();
            tls.insert("cert".into(), cert.display().to_string().into());
            tls.insert("key".into(), key.display().to_string().into());
            server.insert("tls".into(), Value::Table(tls));
        }
        let mut store = Table::new();
        let url = self.store_url.as_deref().unwrap_or("sqlite://vcsgate.db");
        store.insert("url".into(), url.into());
        store.extend(self.store_options.clone());
        let routes = self.routes.iter().map(|r| {
            let mut t = Table::new();
            t.insert("prefix".into(), r.prefix.clone().into());
            t.insert("kind".into(), r.kind.clone().into());
            match &r.target {
                Target::Url(url) => t.insert("backend".into(), url.clone().into()),
                Target::GitRepos(dir) => t.insert("repos".into(), dir.display().to_string().into()),
            };
            t.extend(r.options.clone());
            Value::Table(t)
        });
        let mut root = Table::new();
        root.insert("version".into(), Value::Integer(1));
        root.insert("server".into(), Value::Table(server));
        root.insert("store".into(), Value::Table(store));
        root.insert("route".into(), Value::Array(routes.collect()));
        root.extend(self.sections.clone());
        toml::to_string(&root).expect("serialize proxy.toml")
    }
}

/// `[route.identity] mode = "basic", secret = SECRET`: the backend receives
/// `Authorization: Basic base64(VCSGATE_USER:SECRET)`. Insert it as the `identity` option.
/// The secret is remembered as a backend credential: vcsgate's logs must never show it.
pub fn basic_identity(secret: &str) -> toml::Value {
    secrets::remember_backend_credential(secret);
    let mut identity = toml::Table::new();
    identity.insert("mode".into(), "basic".into());
    identity.insert("secret".into(), secret.into());
    toml::Value::Table(identity)
}

/// A vcsgate installation: config, database, and (after [`Gate::serve`]) a running server.
pub struct Gate {
    // Declared first: stopped before the directory is removed.
    server: Option<Daemon>,
    config: GateConfig,
    port: u16,
    dir: TempDir,
    /// Environment variables for every `vcsgate` process (e.g. `VCSGATE_LOG`).
    env: Vec<(String, String)>,
}

impl Gate {
    /// Writes `proxy.toml` into a new temporary directory; nothing runs yet.
    pub fn new(config: GateConfig) -> Gate {
        let dir = tempfile::Builder::new()
            .prefix("vcsgate-gate-")
            .tempdir()
            .expect("create vcsgate dir");
        // The CLI and the server run from elsewhere: relative paths in the config must
        // resolve against the config file's directory, not the current one.
        fs::create_dir(dir.path().join("cwd")).expect("create cwd");
        // The server's logs exist from the start: a missing one fails the secret scan.
        for name in SERVE_LOGS {
            fs::File::create(dir.path().join(name)).expect("create a server log");
        }
        let gate = Gate {
            server: None,
            config,
            port: ports::free_port(),
            dir,
            env: Vec::new(),
        };
        gate.write_config();
        gate
    }

    /// Rewrites `proxy.toml` from `config` (same port); a running server reads it on HUP.
    pub fn reconfigure(&mut self, config: GateConfig) {
        self.config = config;
        self.write_config();
    }

    fn write_config(&self) {
        fs::write(self.config_path(), self.config.to_toml(self.port)).expect("write proxy.toml");
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("proxy.toml")
    }

    fn command(&self) -> Command {
        let binary = std::env::var_os(BINARY_OVERRIDE).unwrap_or_else(|| BINARY.into());
        let mut cmd = Command::new(binary);
        cmd.env_remove("VCSGATE_CONFIG")
            .arg("--config")
            .arg(self.config_path())
            .current_dir(self.dir.path().join("cwd"));
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Sets an environment variable for every later `vcsgate` process (CLI and serve).
    pub fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Runs `vcsgate --config FILE ARGS…` and returns how it ended.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut cmd = self.command();
        cmd.args(args);
        process::run(&mut cmd)
    }

    /// Like [`Gate::cli`], failing the test unless the command succeeds.
    #[track_caller]
    pub fn cli_ok(&self, args: &[&str]) -> Output {
        self.cli(args).assert_ok()
    }

    #[track_caller]
    pub fn user_add(&self, name: &str) {
        self.cli_ok(&["user", "add", name]);
    }

    /// `grant add USER PATTERN read|write`
    #[track_caller]
    pub fn grant(&self, user: &str, pattern: &str, access: &str) {
        self.cli_ok(&["grant", "add", user, pattern, access]);
    }

    /// `token create USER --name NAME EXTRA…`; returns the secret (the last stdout line).
    #[track_caller]
    pub fn token(&self, user: &str, name: &str, extra: &[&str]) -> String {
        let mut args = vec!["token", "create", user, "--name", name];
        args.extend_from_slice(extra);
        let out = self.cli_ok(&args);
        let secret = out.stdout.lines().rev().find(|l| !l.trim().is_empty());
        let secret = secret.map(str::trim).unwrap_or_default().to_string();
        assert!(
            !secret.is_empty() && !secret.contains(char::is_whitespace),
            "token create printed no secret on its last stdout line:\n{out}"
        );
        secrets::remember(&secret);
        let leaks = secrets::leaks_in(
            "token create (stderr)",
            &out.stderr,
            std::slice::from_ref(&secret),
        );
        assert!(
            leaks.is_empty(),
            "token create printed the secret on stderr: {leaks:?}"
        );
        secret
    }

    /// Starts `vcsgate serve` and waits until the process listens on its port.
    pub fn serve(&mut self) {
        assert!(self.server.is_none(), "vcsgate is already serving");
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let log = |name: &str| fs::File::create(self.dir.path().join(name)).expect("log");
            let mut cmd = self.command();
            if !self.env.iter().any(|(k, _)| k == "VCSGATE_LOG") {
                cmd.env("VCSGATE_LOG", SERVE_LOG_LEVEL);
            }
            cmd.arg("serve")
                .stdout(log(SERVE_LOGS[0]))
                .stderr(log(SERVE_LOGS[1]));
            let mut daemon = Daemon::spawn("vcsgate serve", &mut cmd);
            let port = self.port;
            // Ready when this very process listens on the port (not whatever else got it).
            let ready = poll::until(START_TIMEOUT, Duration::from_millis(20), || {
                daemon.exited().is_some() || ports::listened_by(daemon.pid(), port)
            });
            if ready.is_some() && daemon.exited().is_none() {
                self.server = Some(daemon);
                return;
            }
            let status = daemon.exited();
            daemon.stop();
            last_error = format!("exit status {status:?}\n{}", self.log());
            if !last_error.contains("in use") {
                break;
            }
            self.port = ports::free_port();
            self.write_config();
        }
        panic!(
            "vcsgate serve did not accept connections on 127.0.0.1:{} within {START_TIMEOUT:?}:\n{last_error}",
            self.port
        );
    }

    /// Stops the server (if running), then fails the test if its log holds a secret.
    #[track_caller]
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
        self.assert_no_leak();
    }

    /// Fails the test if the server's log holds a token or registered password.
    #[track_caller]
    pub fn assert_no_leak(&self) {
        let files = self.log_files();
        let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        secrets::assert_no_leak("vcsgate serve", &files);
    }

    /// The files the server writes its log to (stdout, stderr).
    pub fn log_files(&self) -> Vec<PathBuf> {
        SERVE_LOGS
            .iter()
            .map(|name| self.dir.path().join(name))
            .collect()
    }

    /// The process id of the running server.
    pub fn pid(&self) -> u32 {
        self.server.as_ref().expect("vcsgate is not serving").pid()
    }

    /// Sends `signal` (e.g. `TERM`) to the running server only (not its children).
    pub fn signal(&self, signal: &str) {
        process::signal(self.pid(), signal);
    }

    /// Waits up to `timeout` for the running server to exit by itself; returns its status.
    /// The server then counts as stopped.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let server = self.server.as_mut().expect("vcsgate is not serving");
        let mut status = None;
        poll::until(timeout, Duration::from_millis(10), || {
            status = server.exited();
            status.is_some()
        });
        if status.is_some() {
            self.stop();
        }
        status
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`, or `https://` when TLS is configured.
    pub fn url(&self) -> String {
        let scheme = if self.config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// What the server printed so far (stdout then stderr).
    pub fn log(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!("{}{}", read("serve.stdout.log"), read("serve.stderr.log"))
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
        self.assert_no_leak();
    }
}
