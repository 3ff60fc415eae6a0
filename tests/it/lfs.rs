//! Git LFS with the real `git` and `git lfs` (Debian git-lfs) through vcsgate: the built-in
//! backend serves LFS itself (batch, objects, locks); on a URL backend LFS requests are
//! classified and forwarded. NEEDS THE PROXY.

mod builtin;
mod url_backend;

use std::path::{Path, PathBuf};

use crate::git_e2e::{Via, World};
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::process::Output;
use crate::support::tools;

/// The filter settings `git lfs install` would write globally (the test HOME has no global
/// config), so a clone smudges LFS pointers into files.
pub const LFS_FILTER: &[&str] = &[
    "-c",
    "filter.lfs.clean=git-lfs clean -- %f",
    "-c",
    "filter.lfs.smudge=git-lfs smudge -- %f",
    "-c",
    "filter.lfs.process=git-lfs filter-process",
    "-c",
    "filter.lfs.required=true",
];

/// A world with alice (write grant on `PREFIX/team/**`) and bob (read grant), their tokens,
/// serving.
pub struct LfsWorld {
    pub world: World,
    pub writer: String,
    pub reader: String,
}

impl LfsWorld {
    pub fn new(via: Via) -> LfsWorld {
        tools::git_lfs();
        let mut world = World::new(via);
        let pattern = format!("{}/team/**", world.prefix());
        world.gate.grant("alice", &pattern, "write");
        world.gate.user_add("bob");
        world.gate.grant("bob", &pattern, "write");
        let writer = world
            .gate
            .token("alice", "dev", &["--scope", "write_repository"]);
        let reader = world
            .gate
            .token("bob", "ro", &["--scope", "read_repository"]);
        world.gate.serve();
        LfsWorld {
            world,
            writer,
            reader,
        }
    }

    pub fn remote(&self, token: &str) -> Remote {
        self.world.remote("app", &Cred::basic(token))
    }
}

/// `git ARGS` with the LFS filters configured, in `cwd`.
pub fn git_lfs(git: &GitClient, remote: &Remote, args: &[&str], cwd: Option<&Path>) -> Output {
    let mut all: Vec<&str> = LFS_FILTER.to_vec();
    all.extend_from_slice(args);
    git.run(Some(remote), &all, cwd)
}

/// Clones with `token`, installs LFS in the clone, tracks `*.bin`, commits `name` with
/// `bytes`; returns the client, the clone's directory and the object id.
pub fn commit_binary(
    lw: &LfsWorld,
    token: &str,
    name: &str,
    bytes: &[u8],
) -> (GitClient, PathBuf, String) {
    let remote = lw.remote(token);
    let git = GitClient::new();
    git_lfs(&git, &remote, &["clone", &remote.url, "w"], None).assert_ok();
    let dir = git.dir("w");
    git_lfs(&git, &remote, &["lfs", "install", "--local"], Some(&dir)).assert_ok();
    git_lfs(&git, &remote, &["lfs", "track", "*.bin"], Some(&dir)).assert_ok();
    std::fs::write(dir.join(name), bytes).unwrap();
    git_lfs(&git, &remote, &["add", ".gitattributes", name], Some(&dir)).assert_ok();
    git_lfs(&git, &remote, &["commit", "-q", "-m", "binary"], Some(&dir)).assert_ok();
    let oid = sha256_hex(bytes);
    (git, dir, oid)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the built-in backend keeps an object.
pub fn stored_object(repo: &Path, oid: &str) -> PathBuf {
    repo.join("lfs/objects")
        .join(&oid[..2])
        .join(&oid[2..4])
        .join(oid)
}

/// Bytes no compressor shrinks much, and which differ per `seed`.
pub fn binary(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u8
        })
        .collect()
}
