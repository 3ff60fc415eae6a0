//! The real `svn` client with its own configuration directory, never prompting and never
//! caching credentials.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use super::process::{self, Output};
use super::tools;

pub struct SvnClient {
    home: TempDir,
}

impl Default for SvnClient {
    fn default() -> Self {
        Self::new()
    }
}

impl SvnClient {
    pub fn new() -> SvnClient {
        let home = tempfile::Builder::new()
            .prefix("vcsgate-svn-")
            .tempdir()
            .expect("create svn HOME");
        SvnClient { home }
    }

    /// A path inside this client's scratch directory (for working copies).
    pub fn dir(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Trusts the CA certificate `ca_pem` for HTTPS (`ssl-authority-files` in the `servers`
    /// file of this client's configuration directory); nothing else is trusted.
    pub fn trust_ca(&self, ca_pem: &Path) {
        let dir = self.home.path().join(".subversion");
        std::fs::create_dir_all(&dir).expect("create svn config dir");
        let servers = format!("[global]\nssl-authority-files = {}\n", ca_pem.display());
        std::fs::write(dir.join("servers"), servers).expect("write svn servers file");
    }

    /// Runs `svn ARGS` with `--username USER --password SECRET` when `cred` is given.
    pub fn run(&self, cred: Option<(&str, &str)>, args: &[&str], cwd: Option<&Path>) -> Output {
        let mut cmd = Command::new(tools::svn());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("LANG", "C")
            .env("LC_ALL", "C")
            .arg("--config-dir")
            .arg(self.home.path().join(".subversion"))
            .args(["--non-interactive", "--no-auth-cache"]);
        if let Some((user, secret)) = cred {
            cmd.args(["--username", user, "--password", secret]);
        }
        cmd.args(args).current_dir(cwd.unwrap_or(self.home.path()));
        process::run(&mut cmd)
    }
}
