//! Every endpoint for every kind of caller — admin, user, bot manager, stranger, a token
//! without `api` — with the statuses and error JSON of API.md, on SQLite and PostgreSQL.

use serde_json::{Value, json};

use super::client::{Answer, call, call_raw};
use crate::support::postgres;
use crate::support::vcsgate::{Gate, GateConfig};

/// A running vcsgate with root (admin), alice, bob and carol (users), the bot ci managed by
/// bob, an `api` token for each person and a `read_repository`-only token of alice.
struct World {
    gate: Gate,
    root: String,
    alice: String,
    bob: String,
    carol: String,
    alice_no_api: String,
    _repos: tempfile::TempDir,
}

impl World {
    fn start(store_url: Option<String>, tokens: Option<toml::Table>) -> World {
        let repos = tempfile::tempdir().unwrap();
        let mut config = GateConfig::new().git_repos("/git", repos.path());
        if let Some(url) = store_url {
            config = config.store_url(&url);
        }
        if let Some(tokens) = &tokens {
            config = config.section("tokens", tokens.clone());
        }
        let mut gate = Gate::new(config);
        gate.cli_ok(&["user", "add", "root", "--admin"]);
        for user in ["alice", "bob", "carol"] {
            gate.user_add(user);
        }
        gate.cli_ok(&["user", "add", "ci", "--bot", "--manager", "bob"]);
        // Under a lifetime policy the default expiry applies; otherwise a far one.
        let far: &[&str] = if tokens.is_some() {
            &[]
        } else {
            &["--expires", "2099-01-01"]
        };
        let api = |user: &str| gate.token(user, "api", &[&["--scope", "api"][..], far].concat());
        let (root, alice, bob, carol) = (api("root"), api("alice"), api("bob"), api("carol"));
        let alice_no_api = gate.token(
            "alice",
            "git",
            &[&["--scope", "read_repository"][..], far].concat(),
        );
        gate.serve();
        World {
            gate,
            root,
            alice,
            bob,
            carol,
            alice_no_api,
            _repos: repos,
        }
    }

    #[track_caller]
    fn expect(
        &self,
        token: &str,
        (method, path): (&str, &str),
        body: Option<Value>,
        status: u16,
    ) -> Answer {
        let answer = call(self.gate.port(), Some(token), method, path, body.as_ref());
        assert_eq!(
            answer.status, status,
            "{method} {path} with {body:?}: {:?}",
            answer.raw
        );
        if status >= 400 {
            assert!(
                !answer.error().is_empty(),
                "error JSON expected: {:?}",
                answer.raw
            );
            assert!(
                answer.json["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
        answer
    }

    fn token_names(&self, token: &str, query: &str) -> Vec<String> {
        let answer = self.expect(token, ("GET", &format!("/tokens{query}")), None, 200);
        let mut names: Vec<String> = answer
            .json
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                format!(
                    "{}/{}",
                    t["user"].as_str().unwrap(),
                    t["name"].as_str().unwrap()
                )
            })
            .collect();
        names.sort();
        names
    }
}

fn new_token(name: &str, user: Option<&str>) -> Value {
    let mut body = json!({"name": name, "scopes": ["read_repository"], "expires_at": "2099-01-01"});
    if let Some(user) = user {
        body["user"] = user.into();
    }
    body
}

fn id_of(answer: &Answer) -> String {
    answer.json["id"].as_str().expect("an id string").to_owned()
}

fn run_contract(store_url: Option<String>) {
    let mut w = World::start(store_url, None);
    let port = w.gate.port();

    // Authentication: none, a bad token, a token without the api scope.
    let none = call(port, None, "GET", "/user", None);
    assert_eq!(
        (none.status, none.error()),
        (401, "unauthorized"),
        "{:?}",
        none.raw
    );
    assert_eq!(
        none.raw.header("www-authenticate"),
        Some("Basic realm=\"vcsgate\"")
    );
    let bad = call(port, Some("vcsg_notatoken"), "GET", "/user", None);
    assert_eq!(bad.status, 401);
    let no_api = w.expect(&w.alice_no_api, ("GET", "/user"), None, 403);
    assert!(
        no_api.json["message"].as_str().unwrap().contains("api"),
        "{:?}",
        no_api.json
    );
    w.expect(&w.alice_no_api, ("GET", "/tokens"), None, 403);
    w.expect(&w.root, ("GET", "/nothing"), None, 404);
    w.expect(&w.root, ("PUT", "/tokens"), None, 405);

    // GET /user: anyone with api, themselves.
    let me = w.expect(&w.alice, ("GET", "/user"), None, 200).json;
    assert_eq!(me["name"], "alice");
    assert_eq!(me["role"], "user");
    assert_eq!(me["bot"], false);
    assert_eq!(me["disabled"], false);
    for key in ["email", "managers"] {
        assert!(me.get(key).is_some(), "{key} in {me}");
    }
    assert_eq!(
        w.expect(&w.root, ("GET", "/user"), None, 200).json["role"],
        "admin"
    );

    // Users: admin only.
    let users = w.expect(&w.root, ("GET", "/users"), None, 200).json;
    assert_eq!(users.as_array().unwrap().len(), 5, "{users}");
    w.expect(&w.alice, ("GET", "/users"), None, 403);
    w.expect(&w.bob, ("GET", "/users/alice"), None, 403);
    assert_eq!(
        w.expect(&w.root, ("GET", "/users/ci"), None, 200).json["managers"],
        json!(["bob"])
    );
    w.expect(&w.root, ("GET", "/users/nobody"), None, 404);
    let dave = json!({"name": "dave", "email": "dave@example.org"});
    w.expect(&w.alice, ("POST", "/users"), Some(dave.clone()), 403);
    let created = w
        .expect(&w.root, ("POST", "/users"), Some(dave.clone()), 201)
        .json;
    assert_eq!(
        (created["name"].as_str(), created["email"].as_str()),
        (Some("dave"), Some("dave@example.org"))
    );
    w.expect(&w.root, ("POST", "/users"), Some(dave), 409);
    w.expect(
        &w.root,
        ("POST", "/users"),
        Some(json!({"name": "no spaces"})),
        422,
    );
    w.expect(
        &w.root,
        ("POST", "/users"),
        Some(json!({"name": "b2", "bot": true})),
        422,
    );
    w.expect(
        &w.root,
        ("POST", "/users"),
        Some(json!({"name": "x", "admin": true})),
        400,
    );
    let bot = json!({"name": "deploy", "bot": true, "managers": ["alice"]});
    assert_eq!(
        w.expect(&w.root, ("POST", "/users"), Some(bot), 201).json["bot"],
        true
    );
    w.expect(
        &w.alice,
        ("PATCH", "/users/dave"),
        Some(json!({"role": "admin"})),
        403,
    );
    let patched = w
        .expect(
            &w.root,
            ("PATCH", "/users/dave"),
            Some(json!({"role": "admin", "email": null})),
            200,
        )
        .json;
    assert_eq!(
        (patched["role"].as_str(), &patched["email"]),
        (Some("admin"), &Value::Null)
    );
    let managers = json!({"managers": ["bob", "carol"]});
    let ci = w
        .expect(&w.root, ("PATCH", "/users/ci"), Some(managers), 200)
        .json;
    assert_eq!(ci["managers"], json!(["bob", "carol"]));
    // All or nothing: a bad manager leaves the role unchanged too.
    let half = json!({"role": "admin", "managers": ["nobody"]});
    w.expect(&w.root, ("PATCH", "/users/ci"), Some(half), 404);
    assert_eq!(
        w.expect(&w.root, ("GET", "/users/ci"), None, 200).json["role"],
        "user"
    );
    w.expect(
        &w.root,
        ("PATCH", "/users/ci"),
        Some(json!({"managers": ["bob"]})),
        200,
    );
    w.expect(
        &w.root,
        ("PATCH", "/users/ci"),
        Some(json!({"managers": []})),
        422,
    );
    w.expect(
        &w.root,
        ("PATCH", "/users/nobody"),
        Some(json!({"role": "user"})),
        404,
    );

    // Grants: admin only; 201 new, 200 updated, 204 deleted.
    let grant = json!({"user": "alice", "pattern": "git/team/**", "access": "read"});
    w.expect(&w.alice, ("POST", "/grants"), Some(grant.clone()), 403);
    let made = w
        .expect(&w.root, ("POST", "/grants"), Some(grant), 201)
        .json;
    assert_eq!(
        (made["user"].as_str(), made["access"].as_str()),
        (Some("alice"), Some("read"))
    );
    let update = json!({"user": "alice", "pattern": "git/team/**", "access": "write"});
    let updated = w
        .expect(&w.root, ("POST", "/grants"), Some(update), 200)
        .json;
    assert_eq!(updated["id"], made["id"]);
    let bad_pattern = json!({"user": "alice", "pattern": "/../x", "access": "read"});
    w.expect(&w.root, ("POST", "/grants"), Some(bad_pattern), 422);
    let bad_access = json!({"user": "alice", "pattern": "git/x", "access": "admin"});
    w.expect(&w.root, ("POST", "/grants"), Some(bad_access), 422);
    w.expect(&w.alice, ("GET", "/grants"), None, 403);
    let grants = w
        .expect(&w.root, ("GET", "/grants?user=alice"), None, 200)
        .json;
    assert_eq!(grants.as_array().unwrap().len(), 1, "{grants}");
    assert_eq!(grants[0]["access"], "write");
    assert_eq!(grants[0]["refs"], json!([]));
    let grant_path = format!("/grants/{}", made["id"].as_str().unwrap());
    w.expect(&w.alice, ("DELETE", &grant_path), None, 403);
    w.expect(&w.root, ("DELETE", &grant_path), None, 204);
    w.expect(&w.root, ("DELETE", &grant_path), None, 404);
    w.expect(&w.root, ("DELETE", "/grants/zz"), None, 404);

    // Tokens: own, managed bots', everyone's for admins; others are not found.
    let own = w.expect(
        &w.alice,
        ("POST", "/tokens"),
        Some(new_token("laptop", None)),
        201,
    );
    let own_id = id_of(&own);
    let token = &own.json;
    assert!(token["token"].as_str().unwrap().starts_with("vcsg_"));
    for key in [
        "id",
        "user",
        "name",
        "scopes",
        "repos",
        "refs",
        "created_at",
        "expires_at",
        "last_used_at",
        "last_used_ip",
        "revoked_at",
        "status",
        "prefix",
    ] {
        assert!(token.get(key).is_some(), "{key} missing from {token}");
    }
    assert_eq!(token["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(token["status"], "active");
    let shown = w
        .expect(&w.alice, ("GET", &format!("/tokens/{own_id}")), None, 200)
        .json;
    assert!(
        shown.get("token").is_none(),
        "the secret is shown only once: {shown}"
    );
    w.expect(&w.carol, ("GET", &format!("/tokens/{own_id}")), None, 404);
    w.expect(&w.bob, ("DELETE", &format!("/tokens/{own_id}")), None, 404);
    w.expect(
        &w.carol,
        ("POST", &format!("/tokens/{own_id}/rotate")),
        None,
        404,
    );
    w.expect(&w.root, ("GET", &format!("/tokens/{own_id}")), None, 200);
    w.expect(&w.alice, ("GET", "/tokens/999999"), None, 404);
    w.expect(&w.alice, ("GET", "/tokens/abc"), None, 404);

    let bot_token = w.expect(
        &w.bob,
        ("POST", "/tokens"),
        Some(new_token("deploy", Some("ci"))),
        201,
    );
    let bot_id = id_of(&bot_token);
    w.expect(
        &w.carol,
        ("POST", "/tokens"),
        Some(new_token("sneaky", Some("ci"))),
        404,
    );
    w.expect(
        &w.carol,
        ("POST", "/tokens"),
        Some(new_token("sneaky", Some("alice"))),
        404,
    );
    w.expect(&w.carol, ("GET", "/tokens?user=ci"), None, 404);
    w.expect(&w.carol, ("GET", &format!("/tokens/{bot_id}")), None, 404);
    assert_eq!(w.token_names(&w.bob, "?user=ci"), ["ci/deploy"]);
    w.expect(&w.bob, ("GET", &format!("/tokens/{bot_id}")), None, 200);
    assert_eq!(
        w.token_names(&w.alice, ""),
        ["alice/api", "alice/git", "alice/laptop"]
    );
    assert_eq!(w.token_names(&w.carol, ""), ["carol/api"]);
    assert_eq!(w.token_names(&w.root, "").len(), 7);
    // Impersonation: an admin creates a token owned by another user.
    let minted = w.expect(
        &w.root,
        ("POST", "/tokens"),
        Some(new_token("support", Some("carol"))),
        201,
    );
    assert_eq!(minted.json["user"], "carol");
    assert_eq!(w.token_names(&w.carol, ""), ["carol/api", "carol/support"]);

    // Bad input: nothing written.
    let before = w.token_names(&w.alice, "?state=all");
    w.expect(
        &w.alice,
        ("POST", "/tokens"),
        Some(new_token("laptop", None)),
        409,
    );
    w.expect(
        &w.alice,
        ("POST", "/tokens"),
        Some(new_token("bad name!", None)),
        422,
    );
    let past = json!({"name": "old", "scopes": ["read_repository"], "expires_at": "2001-01-01"});
    w.expect(&w.alice, ("POST", "/tokens"), Some(past), 422);
    let unknown_scope = json!({"name": "s", "scopes": ["sudo"]});
    w.expect(&w.alice, ("POST", "/tokens"), Some(unknown_scope), 422);
    w.expect(
        &w.alice,
        ("POST", "/tokens"),
        Some(json!({"name": "s", "scopes": []})),
        422,
    );
    let bad_repo = json!({"name": "s", "scopes": ["read_repository"], "repos": ["../x"]});
    w.expect(&w.alice, ("POST", "/tokens"), Some(bad_repo), 422);
    let extra = json!({"name": "s", "scopes": ["read_repository"], "admin": true});
    assert_eq!(
        w.expect(&w.alice, ("POST", "/tokens"), Some(extra), 400)
            .error(),
        "bad_request"
    );
    let malformed = call_raw(
        port,
        &w.alice,
        ("POST", "/tokens"),
        Some("application/json"),
        b"{\"name\":",
    );
    assert_eq!((malformed.status, malformed.error()), (400, "bad_request"));
    let text = call_raw(
        port,
        &w.alice,
        ("POST", "/tokens"),
        Some("text/plain"),
        br#"{"name":"t","scopes":["api"]}"#,
    );
    assert_eq!(text.status, 415, "{:?}", text.raw);
    let mut huge = br#"{"name":"t","scopes":["api"],"repos":[""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 70 * 1024));
    huge.extend_from_slice(br#""]}"#);
    let too_large = call_raw(
        port,
        &w.alice,
        ("POST", "/tokens"),
        Some("application/json"),
        &huge,
    );
    assert_eq!(
        (too_large.status, too_large.error()),
        (413, "payload_too_large")
    );
    w.expect(&w.alice, ("GET", "/tokens?state=gone"), None, 400);
    w.expect(&w.alice, ("GET", "/tokens?color=red"), None, 400);
    assert_eq!(w.token_names(&w.alice, "?state=all"), before);

    // Self, rotation and revocation.
    let me = w.expect(&w.carol, ("GET", "/tokens/self"), None, 200).json;
    assert_eq!(
        (me["user"].as_str(), me["name"].as_str()),
        (Some("carol"), Some("api"))
    );
    let rotated = w
        .expect(
            &w.alice,
            ("POST", &format!("/tokens/{own_id}/rotate")),
            None,
            201,
        )
        .json;
    assert_eq!(rotated["name"], "laptop");
    assert_ne!(rotated["id"].as_str().unwrap(), own_id);
    let renewed = rotated["expires_at"].as_str().unwrap();
    assert!(
        ("2099-01-01T00:00:00Z".."2099-01-02").contains(&renewed),
        "rotation renews the lifetime from now: {renewed}"
    );
    let old = w
        .expect(&w.alice, ("GET", &format!("/tokens/{own_id}")), None, 200)
        .json;
    assert_eq!(old["status"], "revoked");
    w.expect(
        &w.alice,
        ("POST", &format!("/tokens/{own_id}/rotate")),
        None,
        404,
    );
    let with_expiry = json!({"expires_at": "2098-06-01T12:00:00+02:00"});
    let new_id = rotated["id"].as_str().unwrap().to_owned();
    let again = w
        .expect(
            &w.alice,
            ("POST", &format!("/tokens/{new_id}/rotate")),
            Some(with_expiry),
            201,
        )
        .json;
    assert_eq!(again["expires_at"], "2098-06-01T10:00:00Z");
    let carol_new = w
        .expect(&w.carol, ("POST", "/tokens/self/rotate"), None, 201)
        .json;
    let carol_new = carol_new["token"].as_str().unwrap().to_owned();
    let stale = call(port, Some(&w.carol), "GET", "/user", None);
    assert_eq!(
        stale.status, 401,
        "the rotated-away secret stops at once: {:?}",
        stale.raw
    );
    w.carol = carol_new;
    w.expect(&w.carol, ("GET", "/user"), None, 200);
    w.expect(&w.bob, ("DELETE", &format!("/tokens/{bot_id}")), None, 204);
    w.expect(&w.bob, ("DELETE", &format!("/tokens/{bot_id}")), None, 204);
    assert_eq!(
        w.expect(&w.bob, ("GET", &format!("/tokens/{bot_id}")), None, 200)
            .json["status"],
        "revoked"
    );
    assert!(w.token_names(&w.bob, "?user=ci").is_empty());
    assert_eq!(w.token_names(&w.bob, "?user=ci&state=all"), ["ci/deploy"]);

    // Audit: admins read all, users their own.
    let events = w
        .expect(&w.root, ("GET", "/audit?limit=500"), None, 200)
        .json;
    let events = events.as_array().unwrap();
    let minted_event = events
        .iter()
        .find(|e| e["action"] == "token.create" && e["target"] == "carol")
        .expect("the impersonation token in the audit log");
    assert_eq!(minted_event["actor"], "root token api");
    assert_eq!(minted_event["client"], "127.0.0.1");
    assert!(
        events.iter().all(|e| !e.to_string().contains("vcsg_")),
        "no secret in the audit log"
    );
    let mine = w.expect(&w.alice, ("GET", "/audit"), None, 200).json;
    assert!(!mine.as_array().unwrap().is_empty());
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .all(|e| e["target"] == "alice" || e["actor"].as_str().unwrap().starts_with("alice")),
        "{mine}"
    );
    w.expect(&w.alice, ("GET", "/audit?user=root"), None, 404);
    w.expect(&w.alice, ("GET", "/audit?limit=0"), None, 400);
    assert_eq!(
        w.expect(&w.root, ("GET", "/audit?limit=2"), None, 200)
            .json
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // A disabled user's tokens stop authenticating the API too.
    w.expect(
        &w.root,
        ("PATCH", "/users/bob"),
        Some(json!({"disabled": true})),
        200,
    );
    let disabled = crate::support::poll::until(
        std::time::Duration::from_secs(2),
        std::time::Duration::from_millis(20),
        || call(port, Some(&w.bob), "GET", "/user", None).status == 401,
    );
    assert!(
        disabled.is_some(),
        "a disabled user's token still works after 2 s"
    );
    w.gate.stop();
}

#[test]
fn api_contract_on_sqlite() {
    run_contract(None);
}

#[test]
fn api_contract_on_postgres() {
    run_contract(Some(postgres::fresh_database_url()));
}

#[test]
fn api_token_lifetime_policy() {
    let mut tokens = toml::Table::new();
    tokens.insert("max_lifetime_days".into(), 30.into());
    tokens.insert("default_lifetime_days".into(), 7.into());
    let mut w = World::start(None, Some(tokens));
    let body = json!({"name": "short", "scopes": ["read_repository"]});
    let made = w
        .expect(&w.alice, ("POST", "/tokens"), Some(body), 201)
        .json;
    let expires = made["expires_at"]
        .as_str()
        .expect("the default lifetime applies");
    assert!(expires > "2026-01-01", "{expires}");
    let far = json!({"name": "far", "scopes": ["read_repository"], "expires_at": "2098-01-01"});
    let refused = w.expect(&w.alice, ("POST", "/tokens"), Some(far), 422).json;
    assert!(
        refused["message"].as_str().unwrap().contains("30 days"),
        "{refused}"
    );
    let id = made["id"].as_str().unwrap();
    let far_rotation = json!({"expires_at": "2098-01-01"});
    w.expect(
        &w.alice,
        ("POST", &format!("/tokens/{id}/rotate")),
        Some(far_rotation),
        422,
    );
    let still = w
        .expect(&w.alice, ("GET", &format!("/tokens/{id}")), None, 200)
        .json;
    assert_eq!(
        still["status"], "active",
        "a refused rotation leaves the old token working"
    );
    let events = w
        .expect(&w.root, ("GET", "/audit?user=alice"), None, 200)
        .json;
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "policy.refused"),
        "{events}"
    );
    w.gate.stop();
}

#[test]
fn failed_api_authentications_are_throttled_like_vcs_ones() {
    let repos = tempfile::tempdir().unwrap();
    let mut throttle = toml::Table::new();
    throttle.insert("burst".into(), 3.into());
    throttle.insert("per_minute".into(), 1.into());
    let config = GateConfig::new()
        .git_repos("/git", repos.path())
        .section("throttle", throttle);
    let mut gate = Gate::new(config);
    gate.serve();
    let port = gate.port();
    let bad = || {
        vcsgate::token::generate()
            .unwrap()
            .secret
            .expose()
            .to_owned()
    };
    let statuses: Vec<u16> = (0..6)
        .map(|_| call(port, Some(&bad()), "GET", "/user", None).status)
        .collect();
    assert_eq!(&statuses[..3], [401, 401, 401], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    let throttled = call(port, Some(&bad()), "GET", "/tokens", None);
    assert_eq!(throttled.error(), "too_many_requests");
    assert!(
        throttled.raw.header("retry-after").is_some(),
        "{:?}",
        throttled.raw
    );
    // One budget per client: the VCS side is throttled too.
    let vcs = crate::support::http::get(
        port,
        "/git/team/app.git/info/refs?service=git-upload-pack",
        &[crate::support::http::basic("x", &bad())],
    );
    assert_eq!(vcs.status, 429, "{vcs:?}");
    gate.stop();
}
