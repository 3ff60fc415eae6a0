//! HTTPS in front (`[server.tls] cert, key`), verified by git against a test CA. NEEDS THE
//! PROXY.

use super::{Via, World};
use crate::support::git::{Cred, GitClient};
use crate::support::tls::TestPki;
use crate::support::vcsgate::GateConfig;

#[test]
fn https_clone_and_push_with_a_trusted_ca() {
    let pki = TestPki::generate();
    let config = GateConfig::new().tls(&pki.server_cert(), &pki.server_key());
    let mut world = World::with_config(Via::Apache, config);
    world.gate.grant("alice", "git/team/app", "write");
    let token = world
        .gate
        .token("alice", "dev", &["--scope", "write_repository"]);
    world.gate.serve();
    let remote = world.remote("app", &Cred::basic(&token));
    assert!(remote.url.starts_with("https://"), "{}", remote.url);

    let untrusting = GitClient::new();
    let out = untrusting.clone(&remote, "c");
    world.check(
        !out.ok(),
        &format!("the test CA is not trusted by default:\n{out}"),
    );

    let git = GitClient::new().with_ca(&pki.ca_pem());
    let out = git.clone(&remote, "c");
    world.check(out.ok(), &format!("https clone:\n{out}"));
    assert_eq!(git.rev("c", "HEAD"), world.app_main());
    let new = git.commit("c", "tls.txt", "tls\n");
    let out = git.push(&remote, "c", "main");
    world.check(out.ok(), &format!("https push:\n{out}"));
    assert_eq!(world.app_main(), new);
}

#[test]
fn https_offers_http2_by_alpn_and_git_clones_over_it() {
    let pki = TestPki::generate();
    let config = GateConfig::new().tls(&pki.server_cert(), &pki.server_key());
    let mut world = World::with_config(Via::Apache, config);
    world.gate.grant("alice", "git/team/app", "read");
    let token = world
        .gate
        .token("alice", "dev", &["--scope", "read_repository"]);
    world.gate.serve();
    let remote = world.remote("app", &Cred::basic(&token));
    let git = GitClient::new().with_ca(&pki.ca_pem());
    let out = git.run(
        Some(&remote),
        &["-c", "http.version=HTTP/2", "clone", &remote.url, "c"],
        None,
    );
    world.check(out.ok(), &format!("https clone over HTTP/2:\n{out}"));
    assert_eq!(git.rev("c", "HEAD"), world.app_main());
    world.check(
        world.gate.log().contains("version=HTTP/2.0"),
        "the clone's requests were served over HTTP/2",
    );
}
