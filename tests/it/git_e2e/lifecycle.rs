//! Token and user lifecycle: expiry, revocation, disabled users, and CLI changes seen by a
//! running server within a second. NEEDS THE PROXY.

use std::thread;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::poll;

/// DESIGN.md: a CLI change is enforced by every running server within one second.
const PROPAGATION: Duration = Duration::from_secs(1);

fn serving_with_read_grant(world: &mut World) {
    world.gate.grant("alice", "git/team/**", "read");
    world.gate.serve();
}

#[test]
fn expires_in_the_past_or_today_is_refused_by_the_cli() {
    let world = World::new(Via::Apache);
    let today = OffsetDateTime::now_utc().date().to_string();
    for expires in ["2001-01-01", "2001-01-01T00:00:00Z", today.as_str()] {
        let args = [
            "token",
            "create",
            "alice",
            "--name",
            "old",
            "--scope",
            "read_repository",
        ];
        let out = world
            .gate
            .cli(&[&args[..], &["--expires", expires]].concat());
        assert!(
            !out.ok() && !out.timed_out,
            "--expires {expires} must be refused:\n{out}"
        );
        assert!(out.stdout.trim().is_empty(), "no secret printed:\n{out}");
    }
}

/// How far ahead the short-lived token expires: the first request must come before that.
const EXPIRES_IN: Duration = Duration::from_secs(5);

#[test]
fn expired_token_gets_401() {
    let mut world = World::new(Via::Apache);
    serving_with_read_grant(&mut world);
    let expires_at = (OffsetDateTime::now_utc() + EXPIRES_IN)
        .replace_nanosecond(0)
        .unwrap();
    let expires = expires_at.format(&Rfc3339).unwrap();
    let token = world.gate.token(
        "alice",
        "short",
        &["--scope", "read_repository", "--expires", &expires],
    );
    let before = world.upload_pack_status("app", &token);
    let answered_at = OffsetDateTime::now_utc();
    assert!(
        before == 200 || answered_at < expires_at,
        "the machine took until {answered_at} to answer, past the expiry {expires}, so this \
         proves nothing: raise EXPIRES_IN"
    );
    assert_eq!(
        before, 200,
        "valid before {expires} (answered at {answered_at})"
    );

    // Refused once expired, and never before (answered before the expiry means the server
    // decided before it too).
    let mut early_refusal = None;
    let refused = poll::until(EXPIRES_IN * 4, Duration::from_millis(100), || {
        let refused = world.upload_pack_status("app", &token) == 401;
        let answered_at = OffsetDateTime::now_utc();
        if refused && answered_at < expires_at {
            early_refusal = Some(answered_at);
        }
        refused
    });
    assert_eq!(early_refusal, None, "refused before the expiry {expires}");
    assert!(refused.is_some(), "still accepted long after {expires}");
    let out = GitClient::new().clone(&world.remote("app", &Cred::basic(&token)), "c");
    world.check(
        !out.ok(),
        &format!("an expired token must not clone:\n{out}"),
    );
}

#[test]
fn revoked_token_and_disabled_user_get_401() {
    let mut world = World::new(Via::Apache);
    world.gate.user_add("bob");
    world.gate.grant("bob", "git/team/**", "read");
    let revoked = world
        .gate
        .token("alice", "old", &["--scope", "read_repository"]);
    world.gate.cli_ok(&["token", "revoke", "alice", "old"]);
    let bobs = world
        .gate
        .token("bob", "ci", &["--scope", "read_repository"]);
    world.gate.cli_ok(&["user", "disable", "bob"]);
    serving_with_read_grant(&mut world);

    assert_eq!(
        world.upload_pack_status("app", &revoked),
        401,
        "revoked token"
    );
    assert_eq!(world.upload_pack_status("app", &bobs), 401, "disabled user");
    let git = GitClient::new();
    for (what, token) in [("revoked", &revoked), ("disabled", &bobs)] {
        let out = git.clone(&world.remote("app", &Cred::basic(token)), what);
        world.check(!out.ok(), &format!("{what} token must not clone:\n{out}"));
    }

    world.gate.cli_ok(&["user", "enable", "bob"]);
    let enabled = poll::until(PROPAGATION, Duration::from_millis(50), || {
        world.upload_pack_status("app", &bobs) == 200
    });
    world.check(
        enabled.is_some(),
        "bob's token works again once bob is enabled",
    );
}

/// Clone works with a token created while the server runs (on the very next request); after
/// `token revoke` returns, requests are refused within a second.
pub fn revocation_takes_effect_within_a_second(world: &mut World) {
    serving_with_read_grant(world);
    let token = world
        .gate
        .token("alice", "ci", &["--scope", "read_repository"]);
    let git = GitClient::new();
    let remote = world.remote("app", &Cred::basic(&token));
    let out = git.clone(&remote, "before");
    world.check(
        out.ok(),
        &format!("a new token works on the next request:\n{out}"),
    );

    world.gate.cli_ok(&["token", "revoke", "alice", "ci"]);
    let revoked_at = Instant::now();
    let refused = poll::until(PROPAGATION, Duration::from_millis(50), || {
        world.upload_pack_status("app", &token) == 401
    });
    world.check(
        refused.is_some(),
        &format!(
            "still accepted {:?} after token revoke",
            revoked_at.elapsed()
        ),
    );
    let out = git.clone(&remote, "after");
    world.check(
        !out.ok(),
        &format!("a revoked token must not clone:\n{out}"),
    );
}

#[test]
fn revocation_on_a_running_server_takes_effect_within_a_second() {
    let mut world = World::new(Via::Apache);
    revocation_takes_effect_within_a_second(&mut world);
}

#[test]
fn disabling_a_user_on_a_running_server_takes_effect_within_a_second() {
    let mut world = World::new(Via::Apache);
    serving_with_read_grant(&mut world);
    let token = world
        .gate
        .token("alice", "ci", &["--scope", "read_repository"]);
    assert_eq!(world.upload_pack_status("app", &token), 200);
    world.gate.cli_ok(&["user", "disable", "alice"]);
    let refused = poll::until(PROPAGATION, Duration::from_millis(50), || {
        world.upload_pack_status("app", &token) == 401
    });
    world.check(
        refused.is_some(),
        "a disabled user's token refused within a second",
    );
}

#[test]
fn grant_removal_on_a_running_server_takes_effect_within_a_second() {
    let mut world = World::new(Via::Apache);
    world.gate.grant("alice", "git/team/app", "read");
    world.gate.serve();
    let token = world
        .gate
        .token("alice", "ci", &["--scope", "read_repository"]);
    assert_eq!(world.upload_pack_status("app", &token), 200);
    world
        .gate
        .cli_ok(&["grant", "remove", "alice", "git/team/app"]);
    let refused = poll::until(PROPAGATION, Duration::from_millis(50), || {
        world.upload_pack_status("app", &token) == 403
    });
    world.check(refused.is_some(), "a removed grant refused within a second");
}

/// `last_used_at` is recorded without a store write per request: the server batches it,
/// and `token list` shows it within a flush interval (10 s) of the first use.
#[test]
fn last_use_is_recorded_and_listed() {
    let mut world = World::new(Via::Apache);
    serving_with_read_grant(&mut world);
    let token = world
        .gate
        .token("alice", "ci", &["--scope", "read_repository"]);
    let listed = |world: &World| -> serde_json::Value {
        let out = world.gate.cli_ok(&["token", "list", "alice", "--json"]);
        serde_json::from_str(&out.stdout).expect("token list --json prints JSON")
    };
    assert!(listed(&world)[0]["last_used_at"].is_null(), "unused token");
    assert!(listed(&world)[0]["last_used_ip"].is_null(), "unused token");
    let git = GitClient::new();
    let out = git.ls_remote(&world.remote("app", &Cred::basic(&token)));
    world.check(out.ok(), &format!("ls-remote:\n{out}"));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let value = listed(&world);
        if value[0]["last_used_at"].is_string() {
            assert_eq!(value[0]["name"], "ci");
            // git reached vcsgate from 127.0.0.1, not through a trusted proxy.
            assert_eq!(value[0]["last_used_ip"], "127.0.0.1", "{value}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "last_used_at never recorded: {value}"
        );
        thread::sleep(Duration::from_millis(250));
    }
}

/// `token rotate`: the new secret clones on the very next request, the old one is refused
/// within a second.
#[test]
fn rotated_token_new_secret_clones_and_old_one_stops_within_a_second() {
    let mut world = World::new(Via::Apache);
    serving_with_read_grant(&mut world);
    let old = world
        .gate
        .token("alice", "ci", &["--scope", "read_repository"]);
    assert_eq!(
        world.upload_pack_status("app", &old),
        200,
        "old secret works"
    );
    let out = world.gate.cli_ok(&["token", "rotate", "alice", "ci"]);
    let new = out.stdout.lines().last().unwrap_or_default().to_owned();
    let rotated_at = Instant::now();
    let git = GitClient::new();
    let out = git.clone(&world.remote("app", &Cred::basic(&new)), "rotated");
    world.check(out.ok(), &format!("the new secret clones at once:\n{out}"));
    let refused = poll::until(PROPAGATION, Duration::from_millis(50), || {
        world.upload_pack_status("app", &old) == 401
    });
    world.check(
        refused.is_some(),
        &format!(
            "old secret still accepted {:?} after token rotate",
            rotated_at.elapsed()
        ),
    );
}
