//! The real `git` client with an isolated environment (no system or user config, no
//! prompts, a temporary HOME), and the ways a token can be presented.

use std::path::{Path, PathBuf};
use std::process::Command;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tempfile::TempDir;

use super::process::{self, Output};
use super::tools;

/// Characters kept as they are in URL userinfo.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The wire protocol version git asks for (`-c protocol.version=N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    V0,
    V2,
}

/// How the client presents a token.
#[derive(Debug, Clone)]
pub enum Cred {
    None,
    /// `http://USER:TOKEN@…`: the token as password; the user name is ignored.
    Basic {
        user: String,
        token: String,
    },
    /// `http://TOKEN:@…`: the token as user name, empty password.
    TokenAsUser(String),
    /// `http://TOKEN:x-oauth-basic@…`
    TokenXOauth(String),
    /// `-c http.extraHeader="Authorization: Bearer TOKEN"`
    Bearer(String),
}

impl Cred {
    /// Basic with an arbitrary user name and the token as password.
    pub fn basic(token: &str) -> Cred {
        Cred::Basic {
            user: "anyuser".to_string(),
            token: token.to_string(),
        }
    }
}

/// A repository URL as git is given it, with the header git must send, if any.
#[derive(Debug, Clone)]
pub struct Remote {
    pub url: String,
    pub extra_header: Option<String>,
}

impl Remote {
    /// `base` is `http(s)://127.0.0.1:PORT`, `path` starts with `/`.
    pub fn new(base: &str, path: &str, cred: &Cred) -> Remote {
        let (scheme, host) = base.split_once("://").expect("base URL with a scheme");
        let enc = |s: &str| utf8_percent_encode(s, USERINFO).to_string();
        let userinfo = match cred {
            Cred::None | Cred::Bearer(_) => String::new(),
            Cred::Basic { user, token } => format!("{}:{}@", enc(user), enc(token)),
            Cred::TokenAsUser(token) => format!("{}:@", enc(token)),
            Cred::TokenXOauth(token) => format!("{}:x-oauth-basic@", enc(token)),
        };
        let extra_header = match cred {
            Cred::Bearer(token) => Some(format!("Authorization: Bearer {token}")),
            _ => None,
        };
        Remote {
            url: format!("{scheme}://{userinfo}{host}{path}"),
            extra_header,
        }
    }
}

/// A `git` command with no system/global config, no terminal prompt and HOME at `home`.
pub fn command(home: &Path) -> Command {
    let mut cmd = Command::new(tools::git());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .args(["-c", "credential.helper=", "-c", "init.defaultBranch=main"]);
    cmd
}

/// A git client with its own HOME and working area.
pub struct GitClient {
    home: TempDir,
    proto: Proto,
    ca_file: Option<PathBuf>,
}

impl Default for GitClient {
    fn default() -> Self {
        Self::new()
    }
}

impl GitClient {
    pub fn new() -> GitClient {
        let home = tempfile::Builder::new()
            .prefix("vcsgate-git-")
            .tempdir()
            .expect("create git HOME");
        GitClient {
            home,
            proto: Proto::V2,
            ca_file: None,
        }
    }

    pub fn with_proto(mut self, proto: Proto) -> GitClient {
        self.proto = proto;
        self
    }

    /// Trust only this CA for HTTPS (`-c http.sslCAInfo=FILE`).
    pub fn with_ca(mut self, ca_file: &Path) -> GitClient {
        self.ca_file = Some(ca_file.to_path_buf());
        self
    }

    /// A path inside this client's scratch directory (for clones).
    pub fn dir(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// Runs `git [-c …] ARGS` in `cwd` (the scratch directory when `None`).
    pub fn run(&self, remote: Option<&Remote>, args: &[&str], cwd: Option<&Path>) -> Output {
        let mut cmd = command(self.home.path());
        let version = match self.proto {
            Proto::V0 => "protocol.version=0",
            Proto::V2 => "protocol.version=2",
        };
        cmd.args(["-c", version]);
        if let Some(ca) = &self.ca_file {
            cmd.arg("-c")
                .arg(format!("http.sslCAInfo={}", ca.display()));
        }
        if let Some(header) = remote.and_then(|r| r.extra_header.as_ref()) {
            cmd.arg("-c").arg(format!("http.extraHeader={header}"));
        }
        cmd.args(args).current_dir(cwd.unwrap_or(self.home.path()));
        process::run(&mut cmd)
    }

    /// `git clone URL DEST`; DEST is inside the scratch directory.
    pub fn clone(&self, remote: &Remote, dest: &str) -> Output {
        self.run(Some(remote), &["clone", &remote.url, dest], None)
    }

    pub fn ls_remote(&self, remote: &Remote) -> Output {
        self.run(Some(remote), &["ls-remote", &remote.url], None)
    }

    /// `git fetch URL main` inside the clone `dest`.
    pub fn fetch(&self, remote: &Remote, dest: &str) -> Output {
        let dir = self.dir(dest);
        self.run(Some(remote), &["fetch", &remote.url, "main"], Some(&dir))
    }

    /// `git push URL HEAD:refs/heads/BRANCH` from the clone `dest`.
    pub fn push(&self, remote: &Remote, dest: &str, branch: &str) -> Output {
        let dir = self.dir(dest);
        let refspec = format!("HEAD:refs/heads/{branch}");
        self.run(Some(remote), &["push", &remote.url, &refspec], Some(&dir))
    }

    /// Commits a new file in the clone `dest`; returns the new commit id.
    pub fn commit(&self, dest: &str, file: &str, content: &str) -> String {
        let dir = self.dir(dest);
        std::fs::write(dir.join(file), content).expect("write file to commit");
        self.run(None, &["add", file], Some(&dir)).assert_ok();
        let message = format!("add {file}");
        self.run(None, &["commit", "-q", "-m", &message], Some(&dir))
            .assert_ok();
        self.rev(dest, "HEAD")
    }

    /// `git rev-parse REV` inside the clone `dest`.
    pub fn rev(&self, dest: &str, rev: &str) -> String {
        let dir = self.dir(dest);
        let out = self.run(None, &["rev-parse", rev], Some(&dir)).assert_ok();
        out.stdout.trim().to_string()
    }
}
