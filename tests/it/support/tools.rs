//! Finding the external programs the tests drive. A missing program is a test failure whose
//! message names the Debian package to install (`scripts/test.sh` installs them all).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Directories searched after `PATH` (root's PATH has them, a user's often does not).
const EXTRA_DIRS: &[&str] = &["/usr/local/sbin", "/usr/sbin", "/sbin"];
/// Where Debian puts the PostgreSQL server programs.
const POSTGRES_LIB: &str = "/usr/lib/postgresql";
/// Where Debian puts Apache modules.
pub const APACHE_MODULES: &str = "/usr/lib/apache2/modules";

/// The path of `program`, or a failure naming the Debian `package` that provides it.
#[track_caller]
pub fn require(program: &str, package: &str) -> PathBuf {
    find(program).unwrap_or_else(|| {
        panic!(
            "`{program}` not found on PATH or in {EXTRA_DIRS:?}: install the Debian package \
             {package} (apt-get install -y {package}, or run scripts/test.sh as root)"
        )
    })
}

fn find(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

pub fn git() -> PathBuf {
    require("git", "git")
}

pub fn hg() -> PathBuf {
    require("hg", "mercurial")
}

pub fn svn() -> PathBuf {
    require("svn", "subversion")
}

pub fn svnadmin() -> PathBuf {
    require("svnadmin", "subversion")
}

pub fn apache2() -> PathBuf {
    require("apache2", "apache2")
}

/// `kill` as a program (not the shell builtin), to signal processes and process groups;
/// a failure naming procps when missing. [`super::process`] asks for it before it starts
/// anything, so a machine without procps fails at once instead of leaving processes that
/// can never be stopped (a hung test run).
#[track_caller]
pub fn kill() -> PathBuf {
    static KILL: OnceLock<PathBuf> = OnceLock::new();
    KILL.get_or_init(|| require("kill", "procps")).clone()
}

/// curl: the plain HTTP client an integration (a feed reader, a download script) uses.
pub fn curl() -> PathBuf {
    require("curl", "curl")
}

pub fn tar() -> PathBuf {
    require("tar", "tar")
}

pub fn openssl() -> PathBuf {
    require("openssl", "openssl")
}

/// `git --exec-path` of the `git` on PATH: its `git-http-backend` matches that client.
pub fn git_exec_path() -> PathBuf {
    static EXEC_PATH: OnceLock<PathBuf> = OnceLock::new();
    EXEC_PATH
        .get_or_init(|| {
            let out = Command::new(git()).arg("--exec-path").output();
            let out = out.unwrap_or_else(|e| panic!("cannot run `git --exec-path`: {e}"));
            let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            assert!(
                is_executable(&dir.join("git-http-backend")),
                "{}/git-http-backend missing: install the Debian package git",
                dir.display()
            );
            dir
        })
        .clone()
}

/// An Apache module file, or a failure naming its package.
#[track_caller]
pub fn apache_module(file: &str, package: &str) -> PathBuf {
    let path = Path::new(APACHE_MODULES).join(file);
    assert!(
        path.is_file(),
        "{} missing: install the Debian package {package} (apt-get install -y {package})",
        path.display()
    );
    path
}

/// A PostgreSQL server program (`initdb`, `pg_ctl`, `postgres`) from the newest installed
/// version under /usr/lib/postgresql, or from PATH.
pub fn postgres_bin(program: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir(POSTGRES_LIB)
        .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort_by_key(|p| {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        name.and_then(|n| n.parse::<u32>().ok()).unwrap_or(0)
    });
    versions
        .iter()
        .rev()
        .map(|v| v.join("bin").join(program))
        .find(|p| is_executable(p))
        .unwrap_or_else(|| require(program, "postgresql"))
}

/// Whether the tests run as root (then backends drop to www-data and files are chowned).
pub fn running_as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let out = Command::new("id").arg("-u").output();
        let out = out.unwrap_or_else(|e| panic!("cannot run `id -u`: {e}"));
        String::from_utf8_lossy(&out.stdout).trim() == "0"
    })
}

/// The user Apache's children run as (deploy/apache/backends.conf: `User www-data`).
pub const APACHE_USER: &str = "www-data";

/// Makes `path` (recursively) owned by Apache's user when running as root; a no-op
/// otherwise (Apache started by a normal user keeps that user).
pub fn give_to_apache(path: &Path) {
    if !running_as_root() {
        return;
    }
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{APACHE_USER}:{APACHE_USER}"))
        .arg(path)
        .status()
        .unwrap_or_else(|e| panic!("cannot run chown: {e}"));
    assert!(
        status.success(),
        "chown -R {APACHE_USER}: {} failed",
        path.display()
    );
}

/// `git-lfs` (git finds it on PATH as `git lfs`).
pub fn git_lfs() -> PathBuf {
    require("git-lfs", "git-lfs")
}
