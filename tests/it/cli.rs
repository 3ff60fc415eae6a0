//! The command line as scripts rely on it (DESIGN.md "CLI"): config file precedence,
//! exit codes (0, 1 refused, 2 bad arguments, 64 bad config), one stderr line on refusal,
//! the token secret alone on the last stdout line, listings.

use std::path::Path;
use std::process::Command;

use crate::support::process::{self, Output};
use crate::support::vcsgate::{BINARY, BINARY_OVERRIDE, Gate, GateConfig};

fn vcsgate(cwd: &Path) -> Command {
    let binary = std::env::var_os(BINARY_OVERRIDE).unwrap_or_else(|| BINARY.into());
    let mut cmd = Command::new(binary);
    cmd.env_remove("VCSGATE_CONFIG").current_dir(cwd);
    cmd
}

const CONFIG: &str = "version = 1\n[store]\nurl = \"sqlite://state/vcsgate.db\"\n";

/// A config directory with `proxy.toml` (relative SQLite path) and an empty other dir.
fn config_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
    std::fs::write(dir.path().join("proxy.toml"), CONFIG).unwrap();
    dir
}

#[track_caller]
fn assert_code(out: &Output, code: i32) {
    assert_eq!(out.code, Some(code), "expected exit {code}:\n{out}");
}

#[track_caller]
fn assert_one_line_refusal(out: &Output) {
    assert_code(out, 1);
    assert_eq!(
        out.stderr.trim().lines().count(),
        1,
        "one line on stderr:\n{out}"
    );
}

#[test]
fn config_file_precedence_flag_env_default() {
    let dir = config_dir();
    let config = dir.path().join("proxy.toml");
    let elsewhere = dir.path().join("elsewhere");
    // --config before and after the subcommand, from another directory.
    let out = process::run(
        vcsgate(&elsewhere)
            .arg("--config")
            .arg(&config)
            .args(["user", "add", "a"]),
    );
    assert_code(&out, 0);
    let out = process::run(
        vcsgate(&elsewhere)
            .args(["user", "add", "b", "--config"])
            .arg(&config),
    );
    assert_code(&out, 0);
    // VCSGATE_CONFIG when there is no flag.
    let out = process::run(
        vcsgate(&elsewhere)
            .env("VCSGATE_CONFIG", &config)
            .args(["user", "add", "c"]),
    );
    assert_code(&out, 0);
    // ./proxy.toml when there is neither; the relative SQLite path is the same database.
    let out = process::run(vcsgate(dir.path()).args(["user", "list", "--json"]));
    assert_code(&out, 0);
    let users: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["a", "b", "c"],
        "all three commands used the same database"
    );
    assert!(
        dir.path().join("state/vcsgate.db").exists(),
        "relative to the config file"
    );
    assert!(
        !elsewhere.join("state").exists(),
        "never relative to the current directory"
    );
    // The flag beats the environment.
    let out = process::run(
        vcsgate(&elsewhere)
            .env("VCSGATE_CONFIG", dir.path().join("missing.toml"))
            .arg("--config")
            .arg(&config)
            .args(["user", "list"]),
    );
    assert_code(&out, 0);
    // No config anywhere: exit 64 naming the file.
    let out = process::run(vcsgate(&elsewhere).args(["user", "list"]));
    assert_code(&out, 64);
    assert!(out.stderr.contains("proxy.toml"), "{out}");
}

#[test]
fn bad_config_exits_64_naming_the_key_and_check_config_validates() {
    let dir = config_dir();
    let config = dir.path().join("proxy.toml");
    let out = process::run(
        vcsgate(dir.path())
            .arg("--config")
            .arg(&config)
            .arg("check-config"),
    );
    assert_code(&out, 0);
    std::fs::write(
        &config,
        format!("{CONFIG}[server]\nlisten = \"127.0.0.1:1\"\nlisen = 2\n"),
    )
    .unwrap();
    let out = process::run(vcsgate(dir.path()).arg("check-config"));
    assert_code(&out, 64);
    assert!(
        out.stderr.contains("lisen"),
        "names the unknown key:\n{out}"
    );
    let out = process::run(vcsgate(dir.path()).args(["user", "list"]));
    assert_code(&out, 64);
}

#[test]
fn bad_arguments_exit_2_and_refusals_exit_1_with_one_line() {
    let gate = Gate::new(GateConfig::new());
    for args in [
        &["user", "add", "bad name"][..],
        &["user", "frobnicate", "x"],
        &["grant", "add", "alice", "/git/x", "read"],
        &["grant", "add", "alice", "git/x.git", "read"],
        &["grant", "add", "alice", "git/x", "admin"],
        &["token", "create", "alice", "--name", "t", "--scope", "sudo"],
        &["token", "create", "alice", "--name", "t"],
        &[
            "token",
            "create",
            "alice",
            "--name",
            "t",
            "--scope",
            "read_repository",
            "--expires",
            "soon",
        ],
        &[
            "token",
            "create",
            "alice",
            "--name",
            "t",
            "--scope",
            "read_repository",
            "--expires",
            "2001-01-01",
        ],
    ] {
        let out = gate.cli(args);
        assert_code(&out, 2);
        assert!(
            out.stdout.trim().is_empty(),
            "{args:?} printed nothing on stdout:\n{out}"
        );
    }
    gate.cli_ok(&["user", "add", "alice"]);
    for args in [
        &["user", "add", "alice"][..],
        &["user", "disable", "bob"],
        &["grant", "add", "bob", "git/x", "read"],
        &["grant", "remove", "alice", "git/x"],
        &[
            "token",
            "create",
            "bob",
            "--name",
            "t",
            "--scope",
            "read_repository",
        ],
        &["token", "revoke", "alice", "nope"],
        &["token", "list", "bob"],
        &["grant", "list", "bob"],
    ] {
        let out = gate.cli(args);
        assert_one_line_refusal(&out);
    }
}

#[test]
fn token_create_prints_the_secret_alone_on_the_last_line_and_lists_never_show_it() {
    let gate = Gate::new(GateConfig::new());
    gate.cli_ok(&["user", "add", "alice"]);
    let out = gate.cli_ok(&[
        "token",
        "create",
        "alice",
        "--name",
        "ci",
        "--scope",
        "read_repository,write_repository",
        "--repo",
        "git/team/*",
        "--repo",
        "git/other",
        "--expires",
        "2099-01-31",
    ]);
    let last = out.stdout.lines().last().unwrap();
    assert_eq!(
        out.stdout.trim_end(),
        last,
        "stdout holds the secret only:\n{out}"
    );
    assert!(last.starts_with("vcsg_") && !last.contains(' '), "{out}");
    let list = gate.cli_ok(&["token", "list", "alice", "--json"]);
    assert!(
        !list.stdout.contains(last),
        "token list never shows the secret"
    );
    let tokens: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    let token = &tokens[0];
    assert_eq!(token["name"], "ci");
    assert_eq!(
        token["scopes"],
        serde_json::json!(["read_repository", "write_repository"])
    );
    assert_eq!(
        token["repos"],
        serde_json::json!(["git/team/*", "git/other"])
    );
    assert_eq!(token["expires_at"], "2099-01-31T00:00:00Z");
    let prefix = token["prefix"].as_str().unwrap();
    assert!(
        last.starts_with(prefix) && prefix.len() < last.len() / 2,
        "a short public prefix"
    );
    // Names are unique among active tokens; a revoked name may be reused.
    let again = gate.cli(&[
        "token",
        "create",
        "alice",
        "--name",
        "ci",
        "--scope",
        "read_repository",
    ]);
    assert_one_line_refusal(&again);
    gate.cli_ok(&["token", "revoke", "alice", "ci"]);
    gate.cli_ok(&[
        "token",
        "create",
        "alice",
        "--name",
        "ci",
        "--scope",
        "read_repository",
    ]);
    let active = gate.cli_ok(&["token", "list", "alice", "--json"]);
    let all = gate.cli_ok(&["token", "list", "--all", "--json"]);
    let count = |o: &Output| {
        serde_json::from_str::<serde_json::Value>(&o.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(
        (count(&active), count(&all)),
        (1, 2),
        "--all adds the revoked one"
    );
    assert!(all.stdout.contains("\"revoked\""), "{all}");
    let table = gate.cli_ok(&["token", "list", "--all"]);
    assert!(
        table.stdout.starts_with("USER"),
        "a table with a header:\n{table}"
    );
}

#[test]
fn grant_add_updates_access_and_lists() {
    let gate = Gate::new(GateConfig::new());
    gate.cli_ok(&["user", "add", "alice"]);
    gate.cli_ok(&["grant", "add", "alice", "git/team/**", "read"]);
    gate.cli_ok(&["grant", "add", "alice", "git/team/**", "write"]);
    let out = gate.cli_ok(&["grant", "list", "alice", "--json"]);
    let grants: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        grants,
        serde_json::json!([{
            "id": "616c6963650a6769742f7465616d2f2a2a",
            "user": "alice",
            "pattern": "git/team/**",
            "access": "write",
            "refs": [],
        }])
    );
    gate.cli_ok(&["grant", "remove", "alice", "git/team/**"]);
    let out = gate.cli_ok(&["grant", "list", "--json"]);
    assert_eq!(out.stdout.trim(), "[]");
    gate.cli_ok(&["user", "disable", "alice"]);
    let out = gate.cli_ok(&["user", "list"]);
    assert!(out.stdout.contains("disabled"), "{out}");
}

/// Writes `text` as the config and expects `check-config` to exit 64 naming `file`.
#[track_caller]
fn check_config_refuses(dir: &Path, text: &str, file: &str) {
    std::fs::write(dir.join("proxy.toml"), text).unwrap();
    let out = process::run(vcsgate(dir).arg("check-config"));
    assert_code(&out, 64);
    assert!(out.stderr.contains(file), "names {file}:\n{out}");
}

#[test]
fn check_config_loads_the_files_the_config_names() {
    let dir = config_dir();
    let tls = "[server]\nlisten = \"127.0.0.1:1\"\n[server.tls]\ncert = \"nope.pem\"\nkey = \"nope.key\"\n";
    check_config_refuses(dir.path(), &format!("{CONFIG}{tls}"), "nope.pem");
    std::fs::write(dir.path().join("empty-ca.pem"), "").unwrap();
    let route = "[[route]]\nprefix = \"/git\"\nkind = \"git\"\nbackend = \"https://127.0.0.1:1/git\"\nca_file = \"empty-ca.pem\"\n";
    check_config_refuses(dir.path(), &format!("{CONFIG}{route}"), "empty-ca.pem");
    assert!(
        !dir.path().join("state/vcsgate.db").exists(),
        "check-config opens no store"
    );
}

#[test]
fn users_have_roles_emails_and_bots_with_managers() {
    let gate = Gate::new(GateConfig::new());
    gate.cli_ok(&[
        "user",
        "add",
        "alice",
        "--admin",
        "--email",
        "alice@example.com",
    ]);
    gate.cli_ok(&["user", "add", "bob"]);
    gate.cli_ok(&[
        "user",
        "add",
        "ci",
        "--bot",
        "--manager",
        "alice",
        "--manager",
        "bob",
    ]);
    let list = |gate: &Gate| -> serde_json::Value {
        serde_json::from_str(&gate.cli_ok(&["user", "list", "--json"]).stdout).unwrap()
    };
    assert_eq!(
        list(&gate),
        serde_json::json!([
            {"name": "alice", "active": true, "created_at": list(&gate)[0]["created_at"],
             "role": "admin", "bot": false, "email": "alice@example.com", "managers": []},
            {"name": "bob", "active": true, "created_at": list(&gate)[1]["created_at"],
             "role": "user", "bot": false, "email": null, "managers": []},
            {"name": "ci", "active": true, "created_at": list(&gate)[2]["created_at"],
             "role": "user", "bot": true, "email": null, "managers": ["alice", "bob"]},
        ])
    );
    gate.cli_ok(&[
        "user",
        "set",
        "bob",
        "--role",
        "admin",
        "--email",
        "bob@example.com",
    ]);
    gate.cli_ok(&["user", "set", "alice", "--role", "user"]);
    gate.cli_ok(&["user", "set", "ci", "--remove-manager", "bob"]);
    let users = list(&gate);
    assert_eq!(users[0]["role"], "user");
    assert_eq!(
        (&users[1]["role"], &users[1]["email"]),
        (
            &serde_json::json!("admin"),
            &serde_json::json!("bob@example.com")
        )
    );
    assert_eq!(users[2]["managers"], serde_json::json!(["alice"]));
    let table = gate.cli_ok(&["user", "list"]);
    let header: Vec<&str> = table
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        [
            "USER", "STATUS", "CREATED", "ROLE", "BOT", "EMAIL", "MANAGERS"
        ]
    );

    // Bad arguments: exit 2, nothing on stdout.
    for args in [
        &["user", "add", "b2", "--bot"][..],
        &["user", "add", "b2", "--manager", "alice"],
        &["user", "add", "b2", "--email", "no-at-sign"],
        &["user", "add", "b2", "--email", "a b@example.com"],
        &["user", "set", "bob"],
        &["user", "set", "bob", "--role", "root"],
        &["user", "set", "bob", "--email", "two@at@x"],
    ] {
        let out = gate.cli(args);
        assert_code(&out, 2);
        assert!(out.stdout.trim().is_empty(), "{args:?}:\n{out}");
    }
    // Refusals: exit 1, one line, nothing changed.
    let before = list(&gate);
    for args in [
        &["user", "add", "b2", "--bot", "--manager", "ghost"][..],
        &["user", "add", "b2", "--bot", "--manager", "ci"],
        &["user", "set", "ci", "--remove-manager", "alice"],
        &["user", "set", "ci", "--remove-manager", "bob"],
        &["user", "set", "bob", "--manager", "alice"],
        &["user", "set", "ghost", "--role", "admin"],
        &["user", "set", "bob", "--role", "user", "--manager", "alice"],
        &["user", "add", "bob", "--admin"],
    ] {
        let out = gate.cli(args);
        assert_one_line_refusal(&out);
    }
    assert_eq!(list(&gate), before);
}

#[test]
fn audit_list_shows_every_change_newest_first_without_secrets() {
    let gate = Gate::new(GateConfig::new());
    gate.cli_ok(&["user", "add", "alice"]);
    gate.cli_ok(&["grant", "add", "alice", "git/**", "read"]);
    let out = gate.cli_ok(&[
        "token",
        "create",
        "alice",
        "--name",
        "ci",
        "--scope",
        "read_repository",
    ]);
    let secret = out.stdout.lines().last().unwrap().to_owned();
    gate.cli_ok(&["token", "revoke", "alice", "ci"]);
    gate.cli_ok(&["user", "add", "bob"]);
    // A refusal is not a change.
    assert_one_line_refusal(&gate.cli(&["token", "revoke", "alice", "ci"]));

    let out = gate.cli_ok(&["audit", "list", "--json"]);
    assert!(!out.stdout.contains(&secret), "{out}");
    let events: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let view: Vec<(&str, &str)> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["target"].as_str().unwrap()))
        .collect();
    assert_eq!(
        view,
        [
            ("user.add", "bob"),
            ("token.revoke", "alice"),
            ("token.create", "alice"),
            ("grant.set", "alice"),
            ("user.add", "alice"),
        ]
    );
    let actor = events[0]["actor"].as_str().unwrap();
    assert!(actor.starts_with("cli:") && actor.len() > 4, "{actor}");
    assert!(events[0]["client"].is_null());
    assert!(events[0]["at"].as_str().unwrap().ends_with('Z'));

    let out = gate.cli_ok(&["audit", "list", "--user", "alice", "--limit", "2", "--json"]);
    let events: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let actions: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["token.revoke", "token.create"]);
    let table = gate.cli_ok(&["audit", "list"]);
    assert!(table.stdout.starts_with("TIME"), "{table}");
    assert_one_line_refusal(&gate.cli(&["audit", "list", "--user", "ghost"]));
    for bad in [
        &["audit", "list", "--limit", "0"][..],
        &["audit", "list", "--limit", "x"],
    ] {
        assert_code(&gate.cli(bad), 2);
    }
}

#[test]
fn token_rotate_prints_a_new_secret_with_the_same_name_scopes_and_limits() {
    let gate = Gate::new(GateConfig::new());
    gate.cli_ok(&["user", "add", "alice"]);
    let created = gate.cli_ok(&[
        "token",
        "create",
        "alice",
        "--name",
        "ci",
        "--scope",
        "read_repository,api",
        "--repo",
        "git/team/*",
    ]);
    let old = created.stdout.lines().last().unwrap().to_owned();
    let out = gate.cli_ok(&["token", "rotate", "alice", "ci", "--expires", "2099-02-01"]);
    let new = out.stdout.lines().last().unwrap();
    assert_eq!(
        out.stdout.trim_end(),
        new,
        "stdout holds the secret only:\n{out}"
    );
    assert!(new.starts_with("vcsg_") && new != old, "{out}");

    let list = gate.cli_ok(&["token", "list", "alice", "--json"]);
    let tokens: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(tokens.as_array().unwrap().len(), 1, "{list}");
    let token = &tokens[0];
    assert_eq!(token["name"], "ci");
    assert_eq!(
        token["scopes"],
        serde_json::json!(["read_repository", "api"])
    );
    assert_eq!(token["repos"], serde_json::json!(["git/team/*"]));
    assert_eq!(token["expires_at"], "2099-02-01T00:00:00Z");
    assert!(new.starts_with(token["prefix"].as_str().unwrap()));
    let all = gate.cli_ok(&["token", "list", "alice", "--all", "--json"]);
    let all: serde_json::Value = serde_json::from_str(&all.stdout).unwrap();
    let statuses: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.len(), 2);
    assert!(statuses.contains(&"revoked") && statuses.contains(&"active"));

    assert_one_line_refusal(&gate.cli(&["token", "rotate", "alice", "nope"]));
    assert_one_line_refusal(&gate.cli(&["token", "rotate", "ghost", "ci"]));
    for bad in [
        &["token", "rotate", "alice", "ci", "--expires", "2001-01-01"][..],
        &["token", "rotate", "alice"],
    ] {
        let out = gate.cli(bad);
        assert_code(&out, 2);
        assert!(out.stdout.trim().is_empty(), "{out}");
    }
    let audit = gate.cli_ok(&["audit", "list", "--limit", "1", "--json"]);
    assert!(audit.stdout.contains("token.rotate"), "{audit}");
}

/// A gate whose config carries `[tokens]` with these keys.
fn gate_with_token_policy(keys: &[(&str, i64)]) -> Gate {
    let mut table = toml::Table::new();
    for (key, days) in keys {
        table.insert((*key).to_owned(), (*days).into());
    }
    Gate::new(GateConfig::new().section("tokens", table))
}

fn expires_at_of(gate: &Gate, user: &str) -> Vec<Option<String>> {
    let list = gate.cli_ok(&["token", "list", user, "--json"]);
    let tokens: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    tokens
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["expires_at"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn token_lifetime_policy_sets_a_default_and_refuses_beyond_the_maximum() {
    let in_days = |days: i64| {
        (time::OffsetDateTime::now_utc() + time::Duration::days(days))
            .date()
            .to_string()
    };
    let gate = gate_with_token_policy(&[("max_lifetime_days", 30), ("default_lifetime_days", 7)]);
    gate.cli_ok(&["user", "add", "alice"]);
    let create = |name: &str, extra: &[&str]| {
        let args = [
            "token",
            "create",
            "alice",
            "--name",
            name,
            "--scope",
            "read_repository",
        ];
        gate.cli(&[&args[..], extra].concat())
    };
    // No expiry asked for: the default.
    let out = create("default", &[]);
    assert_code(&out, 0);
    let expiry = expires_at_of(&gate, "alice")[0].clone().unwrap();
    let expected = time::OffsetDateTime::now_utc() + time::Duration::days(7);
    assert!(
        expiry.starts_with(&expected.date().to_string())
            || expiry.starts_with(&(expected - time::Duration::minutes(1)).date().to_string()),
        "{expiry}"
    );
    // Within the maximum: as asked.
    let within = in_days(20);
    assert_code(&create("within", &["--expires", &within]), 0);
    // Beyond it: refused with one line naming the limit, and nothing created.
    let out = create("beyond", &["--expires", &in_days(40)]);
    assert_one_line_refusal(&out);
    assert!(out.stderr.contains("max_lifetime_days"), "{out}");
    assert!(out.stdout.trim().is_empty(), "{out}");
    assert_eq!(expires_at_of(&gate, "alice").len(), 2);
    let audit = gate.cli_ok(&["audit", "list", "--limit", "1", "--json"]);
    let newest: serde_json::Value = serde_json::from_str(&audit.stdout).unwrap();
    assert_eq!(newest[0]["action"], "policy.refused", "{audit}");
    assert!(
        newest[0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("token beyond: "),
        "{audit}"
    );
    // Rotation too: beyond is refused and the old token stays; the default applies.
    let out = gate.cli(&[
        "token",
        "rotate",
        "alice",
        "within",
        "--expires",
        &in_days(40),
    ]);
    assert_one_line_refusal(&out);
    assert!(out.stderr.contains("max_lifetime_days"), "{out}");
    assert_eq!(expires_at_of(&gate, "alice").len(), 2);
    gate.cli_ok(&["token", "rotate", "alice", "within"]);
    let expiries = expires_at_of(&gate, "alice");
    assert_eq!(expiries.len(), 2);
    assert!(expiries.iter().all(|e| e.is_some()));

    // A maximum without a default: a token must be given an expiry.
    let gate = gate_with_token_policy(&[("max_lifetime_days", 30)]);
    gate.cli_ok(&["user", "add", "alice"]);
    let out = gate.cli(&[
        "token",
        "create",
        "alice",
        "--name",
        "t",
        "--scope",
        "read_repository",
    ]);
    assert_one_line_refusal(&out);
    assert!(out.stderr.contains("max_lifetime_days = 30"), "{out}");
}

#[test]
fn a_default_lifetime_above_the_maximum_is_a_config_error() {
    let dir = config_dir();
    let text = format!("{CONFIG}[tokens]\nmax_lifetime_days = 30\ndefault_lifetime_days = 60\n");
    check_config_refuses(dir.path(), &text, "default_lifetime_days");
    let out = process::run(vcsgate(dir.path()).args(["user", "list"]));
    assert_code(&out, 64);
}
