//! OIDC identities for CI: a job's JWT, given as the Basic password (or Bearer), acts as the
//! user `ci` with what its claims allow ([[oidc.allow]]), intersected with ci's grants.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::logged;
use crate::git_e2e::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::vcsgate::GateConfig;
use crate::support::{http, secrets};

const ISSUER: &str = "https://token.actions.example";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oidc");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `[[oidc]]` for ISSUER with the keys of jwks-1.json acting as `ci`: reads of
/// `local/{repository}` for any branch of `team/*`, writes from `main` only.
fn oidc_config() -> toml::Value {
    let rule = |git_ref: &str, access: &str| {
        json!({
            "claims": {"repository": "team/*", "ref": git_ref},
            "repos": ["local/{repository}"],
            "access": access,
        })
    };
    let issuer = json!({
        "issuer": ISSUER,
        "jwks_file": format!("{FIXTURES}/jwks-1.json"),
        "audience": "vcsgate",
        "user": "ci",
        "max_ttl_secs": 900,
        "allow": [rule("refs/heads/*", "read"), rule("refs/heads/main", "write")],
    });
    toml::Value::try_from(json!([issuer])).unwrap()
}

fn world() -> World {
    let config = GateConfig::new().top_level("oidc", oidc_config());
    let mut world = World::with_config(Via::Builtin, config);
    world.gate.user_add("ci");
    world.gate.grant("ci", "local/team/**", "write");
    world.gate.serve();
    world
}

fn claims(repository: &str, git_ref: &str) -> Value {
    let now = now();
    json!({
        "iss": ISSUER,
        "aud": "vcsgate",
        "sub": format!("repo:{repository}:ref:{git_ref}"),
        "jti": format!("job-{repository}-{git_ref}"),
        "repository": repository,
        "ref": git_ref,
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 600,
    })
}

/// Signs `claims` (RS256 with rsa-1 unless `alg` says otherwise); the JWT is remembered as a
/// secret no log may show.
fn mint(alg: Algorithm, kid: &str, key_file: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    let pem = fixture(key_file);
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        Algorithm::HS256 => EncodingKey::from_secret(fixture("jwks-1.json").as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    let jwt = jsonwebtoken::encode(&header, claims, &key).unwrap();
    secrets::remember(&jwt);
    jwt
}

fn jwt(claims: &Value) -> String {
    mint(Algorithm::RS256, "rsa-1", "rsa-1.pem", claims)
}

#[test]
fn a_jwt_clones_and_pushes_as_its_claims_allow() {
    let world = world();
    let git = GitClient::new();
    let main = jwt(&claims("team/app", "refs/heads/main"));
    let out = git.clone(&world.remote("app", &Cred::basic(&main)), "app");
    world.check(out.ok(), &format!("clone with a main-branch JWT: {out}"));
    let pushed = git.commit("app", "ci.txt", "from ci\n");
    let out = git.push(&world.remote("app", &Cred::basic(&main)), "app", "main");
    world.check(out.ok(), &format!("push with a main-branch JWT: {out}"));
    assert_eq!(world.app_main(), pushed);
    world.check(
        logged(
            &world.gate,
            "/local/team/app.git/git-receive-pack",
            &[
                "user=ci token=oidc credential=basic",
                "jti=job-team/app-refs/heads/main",
                "sub=repo:team/app:ref:refs/heads/main",
                "status=200",
            ],
        ),
        "the push is logged with the JWT's jti and sub",
    );
    // Bearer, and an ES256 JWT
    let es = mint(
        Algorithm::ES256,
        "ec-1",
        "ec-1.pem",
        &claims("team/app", "refs/heads/x"),
    );
    let refs = "/local/team/app.git/info/refs?service=git-upload-pack";
    assert_eq!(
        http::get(world.gate.port(), refs, &[http::bearer(&es)]).status,
        200
    );

    // a read rule used to push: refused, the backend unchanged
    let branch = jwt(&claims("team/app", "refs/heads/feature"));
    let before = world.app_main();
    git.commit("app", "branch.txt", "x\n");
    let out = git.push(&world.remote("app", &Cred::basic(&branch)), "app", "main");
    world.check(!out.ok(), &format!("push with a branch JWT: {out}"));
    world.check(
        out.stderr.contains("no write rule for local/team/app"),
        &format!("git shows why: {out}"),
    );
    assert_eq!(world.app_main(), before);
}

#[test]
fn every_refusal_leaves_the_backend_unchanged() {
    let world = world();
    let port = world.gate.port();
    let refs = "/local/team/app.git/info/refs?service=git-upload-pack";
    let push_refs = "/local/team/app.git/info/refs?service=git-receive-pack";
    let now = now();
    let with = |changes: &[(&str, Value)]| {
        let mut c = claims("team/app", "refs/heads/main");
        for (name, value) in changes {
            if value.is_null() {
                c.as_object_mut().unwrap().remove(*name);
            } else {
                c[*name] = value.clone();
            }
        }
        c
    };
    let b64 = |v: &Value| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let none = format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&json!({"alg": "none", "kid": "rsa-1"})),
        b64(&claims("team/app", "refs/heads/main"))
    );
    secrets::remember(&none);
    let unauthenticated: Vec<(&str, String)> = vec![
        (
            "expired",
            jwt(&with(&[
                ("exp", json!(now - 120)),
                ("iat", json!(now - 300)),
            ])),
        ),
        ("not yet valid", jwt(&with(&[("nbf", json!(now + 300))]))),
        (
            "wrong issuer",
            jwt(&with(&[("iss", json!("https://elsewhere.example"))])),
        ),
        ("wrong audience", jwt(&with(&[("aud", json!("other"))]))),
        ("alg none", none),
        (
            "HMAC with the public key",
            mint(
                Algorithm::HS256,
                "rsa-1",
                "rsa-1.pem",
                &claims("team/app", "refs/heads/main"),
            ),
        ),
        (
            "unknown kid",
            mint(
                Algorithm::RS256,
                "rsa-2",
                "rsa-2.pem",
                &claims("team/app", "refs/heads/main"),
            ),
        ),
        (
            "too long a lifetime",
            jwt(&with(&[("exp", json!(now + 3600))])),
        ),
    ];
    let before = world.app_main();
    for (what, token) in &unauthenticated {
        let response = http::get(port, refs, &[http::basic("x", token)]);
        world.check(response.status == 401, &format!("{what}: {response:?}"));
        let response = http::get(port, push_refs, &[http::bearer(token)]);
        world.check(
            response.status == 401,
            &format!("{what} (push): {response:?}"),
        );
    }
    // valid JWTs whose claims allow nothing here: 403
    let forbidden = [
        (
            "a claim outside the rules",
            jwt(&claims("elsewhere/app", "refs/heads/main")),
        ),
        (
            "a claim with ..",
            jwt(&claims("team/..", "refs/heads/main")),
        ),
        (
            "another repository",
            jwt(&claims("team/other", "refs/heads/main")),
        ),
    ];
    for (what, token) in &forbidden {
        let response = http::get(port, refs, &[http::basic("x", token)]);
        world.check(response.status == 403, &format!("{what}: {response:?}"));
    }
    // a read rule used to push
    let branch = jwt(&claims("team/app", "refs/heads/feature"));
    let response = http::get(port, push_refs, &[http::basic("x", &branch)]);
    assert_eq!(response.status, 403, "{response:?}");
    // the user's grants still apply: ci has none on team/app once removed
    world
        .gate
        .cli_ok(&["grant", "remove", "ci", "local/team/**"]);
    let main = jwt(&claims("team/app", "refs/heads/main"));
    let refused = crate::support::poll::until(
        std::time::Duration::from_secs(5),
        std::time::Duration::from_millis(50),
        || http::get(port, refs, &[http::basic("x", &main)]).status == 403,
    );
    world.check(refused.is_some(), "a removed grant ends the JWT's access");
    assert_eq!(world.app_main(), before, "the backend is unchanged");
    assert!(world.backend_receive_pack_requests().is_empty());
}

#[test]
fn check_config_loads_every_jwks_file() {
    let ok = crate::support::vcsgate::Gate::new(GateConfig::new().top_level("oidc", oidc_config()));
    let out = ok.cli(&["check-config"]);
    assert_eq!(out.code, Some(0), "{out}");
    let mut missing = oidc_config();
    missing.as_array_mut().unwrap()[0]
        .as_table_mut()
        .unwrap()
        .insert("jwks_file".into(), "no-such-jwks.json".into());
    let gate = crate::support::vcsgate::Gate::new(GateConfig::new().top_level("oidc", missing));
    let out = gate.cli(&["check-config"]);
    assert_eq!(out.code, Some(64), "{out}");
    assert!(out.stderr.contains("no-such-jwks.json"), "{out}");
    let mut url = oidc_config();
    let table = url.as_array_mut().unwrap()[0].as_table_mut().unwrap();
    table.remove("jwks_file");
    table.insert(
        "jwks_url".into(),
        "https://token.actions.example/jwks".into(),
    );
    let gate = crate::support::vcsgate::Gate::new(GateConfig::new().top_level("oidc", url));
    let out = gate.cli(&["check-config"]);
    assert_eq!(
        out.code,
        Some(0),
        "a jwks_url is fetched by serve, not check-config: {out}"
    );
}

/// `openssl s_server -WWW`: serves the files of its directory over HTTPS on loopback with
/// the test PKI's server certificate (SAN 127.0.0.1); stopped on drop.
struct JwksServer {
    daemon: crate::support::process::Daemon,
    port: u16,
    dir: tempfile::TempDir,
}

impl JwksServer {
    fn start(pki: &crate::support::tls::TestPki, jwks: &str) -> JwksServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("jwks.json"), fixture(jwks)).unwrap();
        let port = crate::support::ports::free_port();
        let log = std::fs::File::create(dir.path().join("s_server.log")).unwrap();
        let mut cmd = std::process::Command::new(crate::support::tools::openssl());
        cmd.args(["s_server", "-quiet", "-WWW", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(pki.server_cert())
            .arg("-key")
            .arg(pki.server_key())
            .current_dir(dir.path())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let daemon = crate::support::process::Daemon::spawn("openssl s_server", &mut cmd);
        let up = crate::support::poll::until(
            std::time::Duration::from_secs(10),
            std::time::Duration::from_millis(20),
            || crate::support::poll::accepts(port),
        );
        assert!(up.is_some(), "openssl s_server did not start on {port}");
        JwksServer { daemon, port, dir }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/jwks.json", self.port)
    }

    /// Publishes another JWKS (a key rotation).
    fn publish(&self, jwks: &str) {
        std::fs::write(self.dir.path().join("jwks.json"), fixture(jwks)).unwrap();
    }
}

#[test]
fn keys_from_a_jwks_url_are_fetched_refetched_for_a_new_kid_and_kept_when_unreachable() {
    let pki = crate::support::tls::TestPki::generate();
    let mut server = JwksServer::start(&pki, "jwks-1.json");
    let mut config = oidc_config();
    let table = config.as_array_mut().unwrap()[0].as_table_mut().unwrap();
    table.remove("jwks_file");
    table.insert("jwks_url".into(), server.url().into());
    let ca = pki.ca_pem().display().to_string();
    table.insert("jwks_ca_file".into(), ca.into());
    let mut world = World::with_config(Via::Builtin, GateConfig::new().top_level("oidc", config));
    world.gate.user_add("ci");
    world.gate.grant("ci", "local/team/**", "write");
    world.gate.serve();
    let port = world.gate.port();
    let refs = "/local/team/app.git/info/refs?service=git-upload-pack";
    let status = |token: &str| http::get(port, refs, &[http::basic("x", token)]).status;

    let first = jwt(&claims("team/app", "refs/heads/main"));
    world.check(status(&first) == 200, "a JWT signed with a fetched key");
    // the issuer rotates its keys: the new kid makes vcsgate fetch again
    server.publish("jwks-2.json");
    let mut rotated = claims("team/app", "refs/heads/main");
    rotated["jti"] = json!("rotated");
    let rotated = mint(Algorithm::RS256, "rsa-2", "rsa-2.pem", &rotated);
    world.check(
        status(&rotated) == 200,
        "a JWT signed with a rotated-in key",
    );
    // another new kid within the minute: not fetched again, so refused although the issuer
    // publishes it by now
    server.publish("jwks-3.json");
    let mut unknown = claims("team/app", "refs/heads/main");
    unknown["jti"] = json!("unknown");
    let unknown = mint(Algorithm::RS256, "rsa-3", "rsa-2.pem", &unknown);
    assert_eq!(status(&unknown), 401);
    // the issuer goes away: the keys fetched before stay in use
    server.daemon.stop();
    let mut later = claims("team/app", "refs/heads/main");
    later["jti"] = json!("later");
    let later = jwt(&later);
    world.check(
        status(&later) == 200,
        "keys kept while the issuer is unreachable",
    );
    world.gate.stop();
    let log = world.gate.log();
    assert!(log.contains("JWKS fetched"), "{log}");
    assert!(log.contains("JWKS refetched for an unknown kid"), "{log}");
}
