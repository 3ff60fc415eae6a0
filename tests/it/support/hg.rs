//! Mercurial: `hg serve` with a web config built on `deploy/hg/hgweb.conf` behind a
//! [`Recorder`] (hg's access log has no request headers: the recorder keeps what clients
//! sent, for the secret scan), and the client with an isolated configuration.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::{self, Daemon, Output};
use super::recorder::Recorder;
use super::{poll, ports, secrets, tools};

/// The deploy file whose `[web]` section the tests use unchanged (through `%include`).
pub const WEB_CONF: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/hg/hgweb.conf");
const START_TIMEOUT: Duration = Duration::from_secs(30);
const PORT_ATTEMPTS: usize = 3;

/// An `hg` command with its own HOME and hgrc (no user or system config), plain output.
pub fn command(home: &Path) -> Command {
    let hgrc = home.join("hgrc");
    if !hgrc.exists() {
        fs::write(
            &hgrc,
            "[ui]\nusername = Test Author <author@example.invalid>\n",
        )
        .expect("write hgrc");
    }
    let mut cmd = Command::new(tools::hg());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("HGPLAIN", "1")
        .env("HGRCPATH", &hgrc);
    cmd
}

/// An hg client with its own HOME and scratch directory.
pub struct HgClient {
    home: TempDir,
}

impl Default for HgClient {
    fn default() -> Self {
        Self::new()
    }
}

impl HgClient {
    pub fn new() -> HgClient {
        let home = tempfile::Builder::new()
            .prefix("vcsgate-hg-")
            .tempdir()
            .expect("create hg HOME");
        HgClient { home }
    }

    /// A path inside this client's scratch directory.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Runs `hg ARGS` in `cwd` (the scratch directory when `None`).
    pub fn run(&self, args: &[&str], cwd: Option<&Path>) -> Output {
        let mut cmd = command(self.home.path());
        cmd.args(args).current_dir(cwd.unwrap_or(self.home.path()));
        process::run(&mut cmd)
    }
}

/// `hg serve --web-conf` on a free loopback port, stopped on drop, and a [`Recorder`] in
/// front of it.
pub struct HgServe {
    recorder: Recorder,
    daemon: Daemon,
    port: u16,
    dir: TempDir,
}

impl HgServe {
    /// Serves each `(url path, repository)` pair (`[paths]` of the web config).
    pub fn start(paths: &[(&str, &Path)]) -> HgServe {
        let dir = tempfile::Builder::new()
            .prefix("vcsgate-hgserve-")
            .tempdir()
            .expect("create hg serve dir");
        let mut conf = format!("%include {WEB_CONF}\n\n[paths]\n");
        for (url_path, repo) in paths {
            conf.push_str(&format!("{url_path} = {}\n", repo.display()));
        }
        let conf_path = dir.path().join("web.conf");
        fs::write(&conf_path, conf).expect("write web.conf");
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = ports::free_port();
            let log = |name: &str| fs::File::create(dir.path().join(name)).expect("create log");
            let mut cmd = command(dir.path());
            cmd.arg("serve")
                .arg("--web-conf")
                .arg(&conf_path)
                .args(["--address", "127.0.0.1", "--port", &port.to_string()])
                .arg("--accesslog")
                .arg(dir.path().join("access.log"))
                .arg("--errorlog")
                .arg(dir.path().join("error.log"))
                .stdout(log("stdout.log"))
                .stderr(log("stderr.log"));
            let mut daemon = Daemon::spawn("hg serve", &mut cmd);
            let stdout = dir.path().join("stdout.log");
            // Ready when this very process listens on the port (not whatever else got it).
            let ready = poll::until(START_TIMEOUT, Duration::from_millis(20), || {
                daemon.exited().is_some() || ports::listened_by(daemon.pid(), port)
            });
            if ready.is_some() && daemon.exited().is_none() {
                let recorder = Recorder::start(port, &dir.path().join("requests.log"));
                return HgServe {
                    recorder,
                    daemon,
                    port,
                    dir,
                };
            }
            daemon.stop();
            last_error = format!("{}{}", read(&stdout), read(&dir.path().join("stderr.log")));
            if !last_error.contains("in use") {
                break;
            }
        }
        panic!("hg serve did not start:\n{last_error}");
    }

    /// hg serve's own port: requests sent here bypass the recorder.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` of the recorder in front of hg serve (what vcsgate and clients
    /// are given).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.recorder.port())
    }

    /// hg serve's access log (one line per request, with the wire-protocol arguments,
    /// written as the response starts). A missing log fails the test. To show that something
    /// did NOT reach hg serve, first wait for a control request
    /// ([`super::backend_log::settled`]).
    #[track_caller]
    pub fn access_log(&self) -> String {
        let path = self.dir.path().join("access.log");
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("hg serve log {}: {e}", path.display()))
    }

    pub fn error_log(&self) -> String {
        read(&self.dir.path().join("error.log"))
    }
}

impl Drop for HgServe {
    /// The logs must not hold a secret ([`super::secrets`]).
    fn drop(&mut self) {
        let mut files: Vec<PathBuf> = ["access.log", "error.log", "stdout.log", "stderr.log"]
            .iter()
            .map(|name| self.dir.path().join(name))
            .collect();
        files.push(self.recorder.file().to_path_buf());
        let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        secrets::assert_backend_no_leak("hg serve (backend)", &files);
    }
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}
