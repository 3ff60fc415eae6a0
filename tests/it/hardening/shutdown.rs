//! SIGTERM during a large clone: the clone (a 30 MiB random blob, through a relay that
//! slows the download to a few MiB/s so the signal lands mid-transfer) completes, new
//! connections are refused at once, and the server exits by itself afterwards.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use super::Site;
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::poll;
use crate::support::relay::Relay;
use crate::support::repos::{self, Owner};
use crate::support::tools;
use crate::support::vcsgate::GateConfig;

const BLOB_BYTES: usize = 30 * 1024 * 1024;
const RATE: u64 = 6 * 1024 * 1024;

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
        // xorshift64*: fast and incompressible enough for zlib.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        data.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    std::fs::write(work.join("big.bin"), &data).unwrap();
    git_ok(&["add", "big.bin"], &work);
    git_ok(&["commit", "-q", "-m", "add a big blob"], &work);
    git_ok(&["push", "-q", "origin", "HEAD:main"], &work);
    tools::give_to_apache(bare);
}

#[test]
fn sigterm_lets_a_clone_finish_refuses_new_connections_and_exits() {
    let mut site = Site::new(GateConfig::new());
    let big = repos::git_bare(&site.apache.git_root(), "team/big.git", Owner::Apache);
    add_big_blob(&big);
    site.gate.grant("alice", "git/team/big", "read");
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let port = site.gate.port();

    let relay = Relay::start(port, RATE);
    let remote = Remote::new(
        &format!("http://127.0.0.1:{}", relay.port()),
        "/git/team/big.git",
        &Cred::basic(&token),
    );
    let git = GitClient::new();
    let dest = git.dir("big");
    let clone = thread::spawn(move || {
        let out = git.clone(&remote, "big");
        (out, git)
    });
    let mid = poll::until(Duration::from_secs(60), Duration::from_millis(5), || {
        relay.bytes_to_client() >= 4 * 1024 * 1024
    });
    assert!(
        mid.is_some(),
        "the clone never got going:\n{}",
        site.gate.log()
    );

    site.gate.signal("TERM");
    let at_term = relay.bytes_to_client();
    let refusing = poll::until(Duration::from_secs(2), Duration::from_millis(20), || {
        !poll::accepts(port)
    });
    let still_cloning = !clone.is_finished();
    assert!(
        refusing.is_some(),
        "vcsgate still accepts new connections 2 s after SIGTERM"
    );
    assert!(
        still_cloning,
        "the clone ended before new connections were refused"
    );

    let started = Instant::now();
    let (out, git) = clone.join().unwrap();
    assert!(
        out.ok(),
        "the clone in flight at SIGTERM must complete:\n{out}\n{}",
        site.gate.log()
    );
    let total = relay.bytes_to_client();
    assert!(
        total >= at_term + 8 * 1024 * 1024 && total as usize >= BLOB_BYTES,
        "SIGTERM came at {at_term} of {total} bytes: not mid-transfer"
    );
    let head = git
        .run(None, &["rev-parse", "HEAD"], Some(&dest))
        .assert_ok();
    assert_eq!(
        head.stdout.trim(),
        site.main_of(&big),
        "the clone has the big commit"
    );
    let size = std::fs::metadata(dest.join("big.bin")).unwrap().len();
    assert_eq!(size as usize, BLOB_BYTES, "the big file is complete");

    let exit = site.gate.wait_exit(Duration::from_secs(15));
    let exit = exit.unwrap_or_else(|| {
        panic!(
            "vcsgate did not exit {:?} after the clone finished",
            started.elapsed()
        )
    });
    assert!(
        exit.success(),
        "vcsgate exited with {exit:?}\n{}",
        site.gate.log()
    );
    assert!(!poll::accepts(port), "nothing listens any more");
}
