//! SIGHUP: a reload adds a route while a clone is running (the clone completes on the
//! config it started with), and a broken file is refused with `check-config`'s message
//! while the running config stays.

use std::path::Path;
use std::thread;
use std::time::Duration;

use super::{Repos, with_admin};
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::http;
use crate::support::poll;
use crate::support::relay::Relay;
use crate::support::repos::{self, Owner};
use crate::support::vcsgate::{Gate, GateConfig};

const BLOB_BYTES: usize = 12 * 1024 * 1024;
/// Slow enough that the clone takes a few seconds.
const RATE: u64 = 3 * 1024 * 1024;

/// Adds a commit with `BLOB_BYTES` of incompressible data to the bare repository `bare`.
fn add_big_blob(bare: &Path) {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path();
    let work = home.join("work");
    let git_ok = |args: &[&str], cwd: &Path| {
        let mut cmd = repos::git_any_owner(home);
        cmd.args(args).current_dir(cwd);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git_ok(&["clone", "-q", bare.to_str().unwrap(), "work"], home);
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut data = Vec::with_capacity(BLOB_BYTES);
    while data.len() < BLOB_BYTES {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        data.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    std::fs::write(work.join("big.bin"), &data).unwrap();
    git_ok(&["add", "big.bin"], &work);
    git_ok(&["commit", "-q", "-m", "add a big blob"], &work);
    git_ok(&["push", "-q", "origin", "HEAD:main"], &work);
}

const EXTRA_REFS: &str = "/extra/team/app.git/info/refs?service=git-upload-pack";

#[test]
fn hup_adds_a_route_while_a_clone_runs_and_a_broken_file_keeps_the_old_config() {
    let big = Repos::new();
    let big_repo = repos::git_bare(big.path(), "team/big.git", Owner::Me);
    add_big_blob(&big_repo);
    let extra = Repos::new();
    let (base, _admin) = with_admin(GateConfig::new().git_repos("/local", big.path()));
    let mut gate = Gate::new(base.clone());
    gate.user_add("alice");
    gate.grant("alice", "local/**", "read");
    gate.grant("alice", "extra/**", "read");
    let token = gate.token("alice", "reader", &["--scope", "read_repository"]);
    gate.serve();
    let auth = [http::basic("x", &token)];
    assert_eq!(http::get(gate.port(), EXTRA_REFS, &auth).status, 404);

    let relay = Relay::start(gate.port(), RATE);
    let remote = Remote::new(
        &format!("http://127.0.0.1:{}", relay.port()),
        "/local/team/big.git",
        &Cred::basic(&token),
    );
    let git = GitClient::new();
    let dest = git.dir("big");
    let clone = thread::spawn(move || {
        let out = git.clone(&remote, "big");
        (out, git)
    });
    let mid = poll::until(Duration::from_secs(60), Duration::from_millis(5), || {
        relay.bytes_to_client() >= 1024 * 1024
    });
    assert!(mid.is_some(), "the clone never got going:\n{}", gate.log());

    gate.reconfigure(base.clone().git_repos("/extra", extra.path()));
    gate.signal("HUP");
    let added = poll::until(Duration::from_secs(10), Duration::from_millis(20), || {
        http::get(gate.port(), EXTRA_REFS, &auth).status == 200
    });
    assert!(
        added.is_some(),
        "the route added by the reload is not served:\n{}",
        gate.log()
    );
    assert!(
        !clone.is_finished(),
        "the clone ended before the reload was applied: not in flight"
    );
    let (out, _git) = clone.join().unwrap();
    assert!(
        out.ok(),
        "the clone in flight during the reload must complete:\n{out}\n{}",
        gate.log()
    );
    let size = std::fs::metadata(dest.join("big.bin")).unwrap().len();
    assert_eq!(size as usize, BLOB_BYTES, "the big file is complete");

    // A broken file: refused with check-config's message; the running config stays.
    let path = gate.config_path();
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{good}\n[[route]]\nprefix = \"/broken\"\n")).unwrap();
    let check = gate.cli(&["check-config"]);
    assert_eq!(check.code, Some(64), "{check}");
    let message = check
        .stderr
        .trim()
        .strip_prefix("vcsgate: ")
        .unwrap_or(check.stderr.trim())
        .to_string();
    gate.signal("HUP");
    let refused = poll::until(Duration::from_secs(10), Duration::from_millis(20), || {
        gate.log().contains("reload refused")
    });
    assert!(refused.is_some(), "no refusal logged:\n{}", gate.log());
    assert!(
        gate.log().contains(&message),
        "the refusal must say what check-config says ({message:?}):\n{}",
        gate.log()
    );
    assert_eq!(http::get(gate.port(), EXTRA_REFS, &auth).status, 200);
    let local = "/local/team/big.git/info/refs?service=git-upload-pack";
    assert_eq!(http::get(gate.port(), local, &auth).status, 200);
    assert!(gate.log().contains("config reloaded"));
    gate.stop();
}
