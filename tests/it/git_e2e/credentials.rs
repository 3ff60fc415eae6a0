//! The ways a client presents a token, and requests without a valid one. NEEDS THE PROXY.

use super::reads_writes::writer;
use super::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::http;

/// Clones `team/app` with `cred`; fails the test with git's and the server's output if not.
#[track_caller]
fn clone_works(world: &World, cred: &Cred) {
    let git = GitClient::new();
    let out = git.clone(&world.remote("app", cred), "c");
    world.check(out.ok(), &format!("clone with {cred:?}:\n{out}"));
    assert_eq!(git.rev("c", "HEAD"), world.app_main());
}

#[test]
fn basic_password_is_the_token_and_the_username_is_ignored() {
    let (world, token) = writer(Via::Apache);
    for user in ["anyuser", "alice", "someone-else", "x"] {
        let cred = Cred::Basic {
            user: user.to_string(),
            token: token.clone(),
        };
        clone_works(&world, &cred);
    }
}

#[test]
fn bearer_token_clones() {
    let (world, token) = writer(Via::Apache);
    clone_works(&world, &Cred::Bearer(token));
}

#[test]
fn token_as_username_with_empty_password_clones() {
    let (world, token) = writer(Via::Apache);
    clone_works(&world, &Cred::TokenAsUser(token));
}

#[test]
fn token_as_username_with_x_oauth_basic_clones() {
    let (world, token) = writer(Via::Apache);
    clone_works(&world, &Cred::TokenXOauth(token));
}

#[test]
fn every_credential_form_pushes() {
    let (world, token) = writer(Via::Apache);
    let forms = [
        Cred::basic(&token),
        Cred::Bearer(token.clone()),
        Cred::TokenAsUser(token.clone()),
        Cred::TokenXOauth(token.clone()),
    ];
    let git = GitClient::new();
    git.clone(&world.remote("app", &forms[0]), "c").assert_ok();
    for (i, cred) in forms.iter().enumerate() {
        let new = git.commit("c", &format!("f{i}.txt"), "x\n");
        let out = git.push(&world.remote("app", cred), "c", "main");
        world.check(out.ok(), &format!("push with {cred:?}:\n{out}"));
        assert_eq!(world.app_main(), new);
    }
}

#[test]
fn no_credentials_get_401_with_a_basic_challenge() {
    let (world, _token) = writer(Via::Apache);
    let target = "/git/team/app.git/info/refs?service=git-upload-pack";
    let response = http::get(world.gate.port(), target, &[]);
    assert_eq!(response.status, 401, "{response:?}");
    let challenge = response.header("WWW-Authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Basic realm=\""), "{response:?}");

    let git = GitClient::new();
    let out = git.clone(&world.remote("app", &Cred::None), "c");
    world.check(
        !out.ok(),
        &format!("clone without credentials must fail:\n{out}"),
    );
    let reached = world.backend_requests();
    assert!(
        reached.is_empty(),
        "nothing reaches the backend: {reached:?}"
    );
}

#[test]
fn invalid_tokens_get_401() {
    let (world, token) = writer(Via::Apache);
    let mut mistyped = token.clone();
    let last = mistyped.pop().expect("non-empty token");
    mistyped.push(if last == 'a' { 'b' } else { 'a' });
    let target = "/git/team/app.git/info/refs?service=git-upload-pack";
    for (what, header) in [
        ("not a token", http::basic("alice", "hunter2")),
        ("mistyped token", http::basic("alice", &mistyped)),
        ("truncated token", http::bearer(&token[..token.len() - 1])),
        (
            "empty bearer",
            ("Authorization".to_string(), "Bearer ".to_string()),
        ),
    ] {
        let response = http::get(world.gate.port(), target, &[header]);
        assert_eq!(response.status, 401, "{what}: {response:?}");
        assert!(
            response.header("WWW-Authenticate").is_some(),
            "{what}: {response:?}"
        );
    }
    let git = GitClient::new();
    let out = git.clone(&world.remote("app", &Cred::basic(&mistyped)), "c");
    world.check(
        !out.ok(),
        &format!("clone with a mistyped token must fail:\n{out}"),
    );
    let reached = world.backend_requests();
    assert!(
        reached.is_empty(),
        "nothing reaches the backend: {reached:?}"
    );
}
