//! `store copy --to URL`: SQLite → PostgreSQL → SQLite. Users, grants, tokens (hashes,
//! scopes, repo limits, expiry, revocation) and the audit log arrive unchanged, the old
//! tokens keep working (and revoked ones stay refused) against the copy, new changes work
//! there too, and a non-empty target is refused.

use super::Repos;
use crate::support::http;
use crate::support::postgres;
use crate::support::vcsgate::{Gate, GateConfig};

const PROBE: &str = "/local/team/app.git/info/refs?service=git-upload-pack";

fn status(gate: &Gate, token: &str) -> u16 {
    http::get(gate.port(), PROBE, &[http::basic("x", token)]).status
}

/// Everything the CLI lists, as JSON text.
fn listings(gate: &Gate) -> Vec<String> {
    [
        vec!["user", "list", "--json"],
        vec!["grant", "list", "--json"],
        vec!["token", "list", "--all", "--json"],
        vec!["audit", "list", "--json"],
    ]
    .iter()
    .map(|args| gate.cli_ok(args).stdout)
    .collect()
}

#[test]
fn store_copy_round_trip_keeps_everything_and_tokens_keep_working() {
    let repos = Repos::new();
    let config = GateConfig::new().git_repos("/local", repos.path());
    let mut sqlite = Gate::new(config.clone());
    sqlite.user_add("alice");
    sqlite.user_add("bob");
    sqlite.grant("alice", "local/**", "read");
    sqlite.grant("bob", "local/team/*", "write");
    let reader = sqlite.token("alice", "reader", &["--scope", "read_repository"]);
    let limited = sqlite.token(
        "bob",
        "limited",
        &[
            "--scope",
            "read_repository,write_repository",
            "--repo",
            "local/team/app",
            "--expires",
            "2099-01-31",
        ],
    );
    let revoked = sqlite.token("alice", "old", &["--scope", "read_repository"]);
    sqlite.cli_ok(&["token", "revoke", "alice", "old"]);
    sqlite.cli_ok(&["user", "disable", "bob"]);
    sqlite.cli_ok(&["user", "enable", "bob"]);
    let before = listings(&sqlite);
    assert!(before[2].contains("limited") && before[3].contains("revoke"));

    let pg_url = postgres::fresh_database_url();
    let out = sqlite.cli(&["store", "copy", "--to", &pg_url]);
    assert!(out.ok(), "copy to PostgreSQL:\n{out}");
    assert!(out.stdout.contains("row counts verified"), "{out}");
    for table in ["users", "grants", "tokens", "audit"] {
        assert!(out.stdout.contains(&format!("{table}: ")), "{out}");
    }
    let again = sqlite.cli(&["store", "copy", "--to", &pg_url]);
    assert_eq!(
        again.code,
        Some(1),
        "a non-empty target is refused:\n{again}"
    );
    assert!(again.stderr.contains("not empty"), "{again}");

    let mut pg = Gate::new(config.clone().store_url(&pg_url));
    assert_eq!(listings(&pg), before, "the PostgreSQL copy lists the same");
    pg.serve();
    assert_eq!(status(&pg, &reader), 200, "{}", pg.log());
    assert_eq!(status(&pg, &limited), 200);
    assert_eq!(status(&pg, &revoked), 401);
    // New rows get fresh ids after the copied ones.
    pg.user_add("carol");
    pg.grant("carol", "local/**", "read");
    let fresh = pg.token("carol", "fresh", &["--scope", "read_repository"]);
    assert_eq!(status(&pg, &fresh), 200);
    pg.cli_ok(&["token", "revoke", "bob", "limited"]);
    let on_pg = listings(&pg);

    let back_dir = tempfile::tempdir().unwrap();
    let back_url = format!("sqlite://{}", back_dir.path().join("back.db").display());
    let out = pg.cli(&["store", "copy", "--to", &back_url]);
    assert!(out.ok(), "copy back to SQLite:\n{out}");
    let mut back = Gate::new(config.store_url(&back_url));
    assert_eq!(listings(&back), on_pg, "the SQLite copy lists the same");
    back.serve();
    assert_eq!(status(&back, &reader), 200, "{}", back.log());
    assert_eq!(status(&back, &fresh), 200);
    assert_eq!(status(&back, &limited), 401);
    assert_eq!(status(&back, &revoked), 401);
    pg.stop();
    back.stop();
    sqlite.stop();
}

#[test]
fn store_copy_refuses_a_bad_target_url_without_showing_its_password() {
    let gate = Gate::new(GateConfig::new());
    let out = gate.cli(&["store", "copy", "--to", "mysql://u:hunter2pw@h/db"]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(!out.stderr.contains("hunter2pw"), "{out}");
    let out = gate.cli(&[
        "store",
        "copy",
        "--to",
        "postgres://u:hunter2pw@127.0.0.1:1/db",
    ]);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(!out.stderr.contains("hunter2pw"), "{out}");
}
