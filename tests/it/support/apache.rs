//! One Apache per test, started from `deploy/apache/backends.conf` (the deploy file itself)
//! with git-http-backend under `/git/` and mod_dav_svn under `/svn`, in a scratch
//! directory of its own. Starting takes well under a second.
//!
//! Tests may add directives after the deploy file (`apache2 -c`), e.g. a log of chosen
//! request headers ([`Apache::start_logging_headers`]); `deploy/` stays unchanged. On drop,
//! the logs are scanned for secrets ([`super::secrets`]).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::Daemon;
use super::{poll, ports, secrets, tools};

/// The deploy file the tests use unchanged.
pub const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/apache/backends.conf");
const START_TIMEOUT: Duration = Duration::from_secs(20);
const PORT_ATTEMPTS: usize = 3;

pub struct Apache {
    // Declared first: stopped before the scratch directory is removed.
    daemon: Daemon,
    port: u16,
    scratch: TempDir,
    /// The logs in `logs/` this configuration writes (scanned for secrets on drop).
    logs: Vec<&'static str>,
}

impl Apache {
    /// Starts Apache on a free loopback port; fails the test (with the error log) otherwise.
    pub fn start() -> Apache {
        Self::start_with(&[])
    }

    /// Like [`Apache::start`], logging the request headers `names` as the backend received
    /// them to `logs/headers.log` (see [`Apache::logged_headers`]).
    pub fn start_logging_headers(names: &[&str]) -> Apache {
        let fields: Vec<String> = names.iter().map(|n| format!("\\t{n}=%{{{n}}}i")).collect();
        let format = format!("LogFormat \"%m %U%q{}\" vcsgate_headers", fields.concat());
        let log = "CustomLog \"{root}/logs/headers.log\" vcsgate_headers";
        Self::start_with(&[&format, log])
    }

    /// Like [`Apache::start`], also serving HTTPS (mod_ssl) on 127.0.0.1:`tls_port` and
    /// 127.0.0.2:`tls_port` with the certificate `cert` and its key `key`; both listeners log
    /// to the same access log.
    pub fn start_https(cert: &Path, key: &Path, tls_port: u16) -> Apache {
        let ssl = tools::apache_module("mod_ssl.so", "apache2");
        let directives = [
            format!("LoadModule ssl_module {}", ssl.display()),
            format!("Listen 127.0.0.1:{tls_port}"),
            format!("Listen 127.0.0.2:{tls_port}"),
            format!("<VirtualHost 127.0.0.1:{tls_port} 127.0.0.2:{tls_port}>"),
            "SSLEngine on".to_string(),
            format!("SSLCertificateFile \"{}\"", cert.display()),
            format!("SSLCertificateKeyFile \"{}\"", key.display()),
            "</VirtualHost>".to_string(),
        ];
        let directives: Vec<&str> = directives.iter().map(String::as_str).collect();
        Self::start_with(&directives)
    }

    /// Like [`Apache::start`], with more `directives` read after the deploy file (written
    /// to `extra.conf` in the scratch directory, included with `-c`); `{root}` in them
    /// stands for the scratch directory.
    pub fn start_with(directives: &[&str]) -> Apache {
        let apache2 = tools::apache2();
        for module in ["mod_dav_svn.so", "mod_authn_anon.so", "mod_cgid.so"] {
            let package = if module == "mod_dav_svn.so" {
                "libapache2-mod-svn"
            } else {
                "apache2"
            };
            tools::apache_module(module, package);
        }
        let scratch = scratch_dir();
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = ports::free_port();
            let root = scratch.path();
            let _ = fs::remove_file(root.join("run/apache.pid"));
            let mut cmd = Command::new(&apache2);
            cmd.arg("-f").arg(CONFIG).arg("-DFOREGROUND");
            if !directives.is_empty() {
                // `-c` takes short lines only: the directives go to a file it includes.
                let extra = root.join("extra.conf");
                let text = directives
                    .join("\n")
                    .replace("{root}", &root.display().to_string());
                fs::write(&extra, text + "\n").expect("write extra Apache directives");
                cmd.arg("-c")
                    .arg(format!("Include \"{}\"", extra.display()));
            }
            cmd.env("VCSGATE_BACKEND_PORT", port.to_string())
                .env("VCSGATE_BACKEND_ROOT", root)
                .env("VCSGATE_GIT_EXEC_PATH", tools::git_exec_path())
                .env("APACHE_RUN_DIR", root.join("run"))
                .env("APACHE_LOCK_DIR", root.join("run"))
                .env("APACHE_LOG_DIR", root.join("logs"))
                .stdout(log_file(root, "logs/stdout.log"))
                .stderr(log_file(root, "logs/stderr.log"));
            let mut daemon = Daemon::spawn("apache2", &mut cmd);
            let pid_file = root.join("run/apache.pid");
            let ready = poll::until(START_TIMEOUT, Duration::from_millis(10), || {
                daemon.exited().is_some()
                    || (read(&pid_file).trim() == daemon.pid().to_string()
                        && ports::listened_by(daemon.pid(), port))
            });
            if ready.is_some() && daemon.exited().is_none() {
                let mut logs = vec!["access.log", "error.log"];
                if directives.iter().any(|d| d.contains("logs/headers.log")) {
                    logs.push("headers.log");
                }
                return Apache {
                    daemon,
                    port,
                    scratch,
                    logs,
                };
            }
            daemon.stop();
            last_error = format!(
                "{}{}{}",
                read(&root.join("logs/stderr.log")),
                read(&root.join("logs/stdout.log")),
                read(&root.join("logs/error.log"))
            );
            if !last_error.contains("in use") {
                break;
            }
        }
        panic!("Apache ({CONFIG}) did not start:\n{last_error}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The directory served as `/git/` (`GIT_PROJECT_ROOT`).
    pub fn git_root(&self) -> PathBuf {
        self.scratch.path().join("git")
    }

    /// The directory served as `/svn/` (`SVNParentPath`).
    pub fn svn_root(&self) -> PathBuf {
        self.scratch.path().join("svn")
    }

    /// The access log: `%h %m %U%q %>s %b %{Authorization}i`, one request per line, written
    /// when a request is done (after its response). A missing log fails the test. To show
    /// that something did NOT reach Apache, first wait for a control request
    /// ([`super::backend_log::settled`]).
    #[track_caller]
    pub fn access_log(&self) -> String {
        read_log(&self.scratch.path().join("logs/access.log"))
    }

    /// Access-log lines whose request path contains `needle`.
    #[track_caller]
    pub fn requests_matching(&self, needle: &str) -> Vec<String> {
        self.access_log()
            .lines()
            .filter(|line| line.split(' ').nth(2).is_some_and(|p| p.contains(needle)))
            .map(str::to_string)
            .collect()
    }

    pub fn error_log(&self) -> String {
        read(&self.scratch.path().join("logs/error.log"))
    }

    /// The scratch directory (`git/`, `svn/`, `logs/`, `run/`).
    pub fn root(&self) -> &Path {
        self.scratch.path()
    }

    /// With [`Apache::start_logging_headers`]: per request, `METHOD PATH?QUERY` and the
    /// logged headers as `(name, value)` (`-` when the header was absent).
    #[track_caller]
    pub fn logged_headers(&self) -> Vec<(String, Vec<(String, String)>)> {
        read_log(&self.scratch.path().join("logs/headers.log"))
            .lines()
            .map(|line| {
                let mut fields = line.split('\t');
                let request = fields.next().unwrap_or_default().to_string();
                let headers = fields
                    .filter_map(|f| f.split_once('='))
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect();
                (request, headers)
            })
            .collect()
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        let logs = self.scratch.path().join("logs");
        let files: Vec<PathBuf> = self.logs.iter().map(|name| logs.join(name)).collect();
        let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        secrets::assert_backend_no_leak("Apache (backend)", &files);
    }
}

/// A scratch directory Apache's children (www-data) can enter, with `run/`, `logs/`, and
/// `git/` and `svn/` owned by www-data.
fn scratch_dir() -> TempDir {
    use std::os::unix::fs::PermissionsExt;
    let scratch = tempfile::Builder::new()
        .prefix("vcsgate-apache-")
        .tempdir()
        .expect("create Apache scratch dir");
    fs::set_permissions(scratch.path(), fs::Permissions::from_mode(0o755))
        .expect("chmod Apache scratch dir");
    for dir in ["run", "logs", "git", "svn"] {
        fs::create_dir(scratch.path().join(dir)).expect("create Apache scratch subdir");
    }
    tools::give_to_apache(&scratch.path().join("git"));
    tools::give_to_apache(&scratch.path().join("svn"));
    scratch
}

fn log_file(root: &Path, name: &str) -> fs::File {
    fs::File::create(root.join(name)).expect("create Apache log file")
}

/// A file that may not exist yet (startup diagnostics).
fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// A log the tests rely on: missing or unreadable fails the test.
#[track_caller]
fn read_log(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("Apache log {}: {e}", path.display()))
}
