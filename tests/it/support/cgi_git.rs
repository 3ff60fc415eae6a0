//! What reached vcsgate's built-in Git backend: a `git` wrapper, configured as the route's
//! `git_binary`, that appends `METHOD PATH_INFO?QUERY_STRING` of every CGI request to
//! `requests.log` and the child's whole environment to `env.log`, then runs the real `git`.
//! The line is written before git runs, so it is there before the response is. On drop both
//! logs are scanned for secrets like any backend's.

use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::{secrets, tools};

pub struct LoggingGit {
    dir: TempDir,
}

impl Default for LoggingGit {
    fn default() -> Self {
        Self::new()
    }
}

impl LoggingGit {
    pub fn new() -> LoggingGit {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("vcsgate-cgi-git-")
            .tempdir()
            .expect("create the git wrapper's directory");
        let d = dir.path();
        for log in ["requests.log", "env.log"] {
            fs::File::create(d.join(log)).expect("create the git wrapper's log");
        }
        let script = format!(
            "#!/bin/sh\n\
             printf '%s %s?%s\\n' \"$REQUEST_METHOD\" \"$PATH_INFO\" \"$QUERY_STRING\" >> '{requests}'\n\
             env >> '{env}'\n\
             exec '{git}' \"$@\"\n",
            requests = d.join("requests.log").display(),
            env = d.join("env.log").display(),
            git = tools::git().display(),
        );
        let program = d.join("git");
        fs::write(&program, script).expect("write the git wrapper");
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755))
            .expect("chmod the git wrapper");
        LoggingGit { dir }
    }

    /// The wrapper, for the route's `git_binary`.
    pub fn program(&self) -> PathBuf {
        self.dir.path().join("git")
    }

    /// One `METHOD PATH_INFO?QUERY_STRING` line per CGI request; a missing log fails the test.
    #[track_caller]
    pub fn requests(&self) -> String {
        let path = self.dir.path().join("requests.log");
        fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("built-in backend log {}: {e}", path.display()))
    }

    fn logs(&self) -> Vec<PathBuf> {
        ["requests.log", "env.log"]
            .iter()
            .map(|name| self.dir.path().join(name))
            .collect()
    }
}

impl Drop for LoggingGit {
    fn drop(&mut self) {
        let files = self.logs();
        let files: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        secrets::assert_backend_no_leak("git http-backend (built-in backend)", &files);
    }
}
