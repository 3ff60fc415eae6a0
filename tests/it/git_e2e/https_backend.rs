//! An `https://` backend with `ca_file` (`[[route]] backend = "https://…" ca_file = …`): Apache
//! serves HTTPS with a certificate from a test CA. Trusting that CA, a clone works; trusting
//! another CA, or naming the backend by an address its certificate does not cover, gets a 502
//! and nothing reaches the backend. NEEDS THE PROXY.

use crate::support::apache::Apache;
use crate::support::backend_log;
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::http;
use crate::support::ports;
use crate::support::repos::{self, Owner};
use crate::support::tls::TestPki;
use crate::support::vcsgate::{Gate, GateConfig};

/// A route `/PREFIX` to `https://HOST:PORT/git/PATH` trusting `ca`.
fn https_route(
    config: GateConfig,
    prefix: &str,
    backend: &str,
    ca: &std::path::Path,
) -> GateConfig {
    let mut options = toml::Table::new();
    options.insert("ca_file".into(), ca.display().to_string().into());
    config.route_with(prefix, "git", backend, options)
}

#[test]
fn https_backend_is_verified_against_the_ca_file() {
    let pki = TestPki::generate();
    let stranger = TestPki::generate();
    let tls_port = ports::free_port();
    let apache = Apache::start_https(&pki.server_cert(), &pki.server_key(), tls_port);
    let app = repos::git_bare(&apache.git_root(), "team/app.git", Owner::Apache);
    // The certificate names 127.0.0.1 and localhost, not 127.0.0.2. Each route has a
    // backend path of its own, so Apache's log shows which route reached it.
    let config = GateConfig::new();
    let config = https_route(
        config,
        "/git",
        &format!("https://127.0.0.1:{tls_port}/git"),
        &pki.ca_pem(),
    );
    let config = https_route(
        config,
        "/untrusted",
        &format!("https://127.0.0.1:{tls_port}/git/untrusted"),
        &stranger.ca_pem(),
    );
    let config = https_route(
        config,
        "/wrongname",
        &format!("https://127.0.0.2:{tls_port}/git/wrongname"),
        &pki.ca_pem(),
    );
    let mut gate = Gate::new(config);
    gate.user_add("alice");
    for prefix in ["git", "untrusted", "wrongname"] {
        gate.grant("alice", &format!("{prefix}/team/app"), "read");
    }
    let token = gate.token("alice", "ci", &["--scope", "read_repository"]);
    gate.serve();

    let remote = Remote::new(&gate.url(), "/git/team/app.git", &Cred::basic(&token));
    let git = GitClient::new();
    let out = git.clone(&remote, "c");
    assert!(
        out.ok(),
        "clone over the verified https backend:\n{out}\n{}",
        gate.log()
    );
    assert_eq!(
        git.rev("c", "HEAD"),
        repos::git_rev(&app, "refs/heads/main").unwrap()
    );

    // Apache does answer on 127.0.0.2, and the /git route shows it trusts the certificate on
    // 127.0.0.1: a 502 below comes from verifying the certificate, nothing else.
    let listening = std::net::TcpStream::connect(("127.0.0.2", tls_port));
    assert!(listening.is_ok(), "Apache listens on 127.0.0.2:{tls_port}");
    for (prefix, why) in [
        (
            "untrusted",
            "a certificate from a CA the route does not trust",
        ),
        ("wrongname", "a certificate that does not name 127.0.0.2"),
    ] {
        let target = format!("/{prefix}/team/app.git/info/refs?service=git-upload-pack");
        let response = http::get(gate.port(), &target, &[http::basic("x", &token)]);
        assert_eq!(response.status, 502, "{why}: {response:?}\n{}", gate.log());
        let out = git.clone(
            &Remote::new(
                &gate.url(),
                &format!("/{prefix}/team/app.git"),
                &Cred::basic(&token),
            ),
            prefix,
        );
        assert!(!out.ok(), "{why}: the clone must fail:\n{out}");
    }

    let control = "/git/team/app.git/HEAD";
    let log = backend_log::settled(
        "Apache",
        || apache.access_log(),
        control,
        || {
            let response = http::get(gate.port(), control, &[http::basic("x", &token)]);
            assert_eq!(response.status, 200, "the control request: {response:?}");
        },
    );
    let reached: Vec<&String> = log
        .iter()
        .filter(|l| l.contains("/git/untrusted") || l.contains("/git/wrongname"))
        .collect();
    assert!(
        reached.is_empty(),
        "refused backends got requests: {reached:?}"
    );
}
