//! The real `vcsgate` binary: a `proxy.toml` in a temporary directory, CLI commands, and
//! `serve` on a free loopback port, stopped on drop.
//!
//! Only the contract of DESIGN.md and docs/CONFIG.md is used: the CLI, the config keys, the
//! built-in Git backend route form `[[route]] prefix kind="git" repos=DIR`, and per-route
//! options (`repo_depth`, `svn_layout`, `[route.identity]`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::{self, Daemon, Output};
use super::{poll, ports};

/// The binary cargo built for this test run.
pub const BINARY: &str = env!("CARGO_BIN_EXE_vcsgate");
/// Set to run the tests against another build (e.g. `target/release/vcsgate`).
pub const BINARY_OVERRIDE: &str = "VCSGATE_TEST_BIN";
const START_TIMEOUT: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 3;

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

    pub fn store_url(mut self, url: &str) -> GateConfig {
        self.store_url = Some(url.to_string());
        self
    }

    pub fn tls(mut self, cert: &Path, key: &Path) -> GateConfig {
        self.tls = Some((cert.to_path_buf(), key.to_path_buf()));
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
        toml::to_string(&root).expect("serialize proxy.toml")
    }
}

/// `[route.identity] mode = "basic", secret = SECRET`: the backend receives
/// `Authorization: Basic base64(VCSGATE_USER:SECRET)`. Insert it as the `identity` option.
pub fn basic_identity(secret: &str) -> toml::Value {
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
        let gate = Gate {
            server: None,
            config,
            port: ports::free_port(),
            dir,
        };
        gate.write_config();
        gate
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
        cmd
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
        secret
    }

    /// Starts `vcsgate serve` and waits until it accepts connections.
    pub fn serve(&mut self) {
        assert!(self.server.is_none(), "vcsgate is already serving");
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let log = |name: &str| fs::File::create(self.dir.path().join(name)).expect("log");
            let mut cmd = self.command();
            cmd.arg("serve")
                .stdout(log("serve.stdout.log"))
                .stderr(log("serve.stderr.log"));
            let mut daemon = Daemon::spawn("vcsgate serve", &mut cmd);
            let port = self.port;
            let ready = poll::until(START_TIMEOUT, Duration::from_millis(20), || {
                daemon.exited().is_some() || poll::accepts(port)
            });
            // A server that lost its port to another process exits right after start.
            std::thread::sleep(Duration::from_millis(50));
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

    /// Stops the server (if running).
    pub fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            server.stop();
        }
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
