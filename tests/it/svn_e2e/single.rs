//! A single-repository route (`svn_layout = "single"`, Apache `SVNPath`): the route itself
//! is the repository, so its repo path is the route prefix (`one`). Commits through it carry
//! the vcsgate user as author; a read-only token's commit is refused and changes nothing.
//! NEEDS THE PROXY.

use crate::support::apache::Apache;
use crate::support::repos::{self, Owner};
use crate::support::svn::SvnClient;
use crate::support::vcsgate::{self, Gate, GateConfig};

use super::{BACKEND_SECRET, CLIENT_USER};

/// An `SVNPath` location in the test Apache, authenticated like the deploy file's `/svn`.
const SINGLE_LOCATION: &[&str] = &[
    "<Location /one>",
    "DAV svn",
    "SVNPath ${VCSGATE_BACKEND_ROOT}/svn/single",
    "AuthType Basic",
    "AuthName svn",
    "AuthBasicProvider anon",
    "Anonymous *",
    "Anonymous_NoUserID off",
    "Anonymous_MustGiveEmail off",
    "Require valid-user",
    "</Location>",
];

#[test]
fn single_repository_route_commits_as_the_user_and_refuses_read_only_writes() {
    let apache = Apache::start_with(SINGLE_LOCATION);
    let repo = repos::svn(&apache.svn_root(), "single", Owner::Apache);
    repos::svn_initial_layout(&repo, Owner::Apache);
    let mut options = toml::Table::new();
    options.insert("identity".into(), vcsgate::basic_identity(BACKEND_SECRET));
    options.insert("svn_layout".into(), "single".into());
    let backend = format!("{}/one", apache.url());
    let mut gate = Gate::new(GateConfig::new().route_with("/one", "svn", &backend, options));
    gate.user_add("alice");
    gate.grant("alice", "one", "write");
    let write = gate.token("alice", "dev", &["--scope", "write_repository"]);
    let read = gate.token("alice", "ci", &["--scope", "read_repository"]);
    gate.serve();
    let url = format!("{}/one/trunk", gate.url());
    let check = |ok: bool, what: &str| {
        assert!(
            ok,
            "{what}\n--- vcsgate log\n{}\n--- Apache error log\n{}",
            gate.log(),
            apache.error_log()
        );
    };

    let svn = SvnClient::new();
    let out = svn.run(Some((CLIENT_USER, &write)), &["checkout", &url, "wc"], None);
    check(
        out.ok(),
        &format!("checkout through the single-repository route:\n{out}"),
    );
    let wc = svn.dir("wc");
    std::fs::write(wc.join("new.txt"), "single\n").unwrap();
    svn.run(None, &["add", "new.txt"], Some(&wc)).assert_ok();
    let before = repos::svn_youngest(&repo).0;
    let out = svn.run(
        Some((CLIENT_USER, &write)),
        &["commit", "-m", "one"],
        Some(&wc),
    );
    check(out.ok(), &format!("commit with the write token:\n{out}"));
    let (after, author) = repos::svn_youngest(&repo);
    assert_eq!((after, author.as_str()), (before + 1, "alice"));

    std::fs::write(wc.join("new.txt"), "changed\n").unwrap();
    let out = svn.run(
        Some((CLIENT_USER, &read)),
        &["commit", "-m", "two"],
        Some(&wc),
    );
    check(
        !out.ok(),
        &format!("commit with the read-only token must fail:\n{out}"),
    );
    check(
        out.stderr.contains("lacks write_repository for one"),
        &format!("svn shows the reason:\n{out}"),
    );
    assert_eq!(repos::svn_youngest(&repo).0, after, "nothing was committed");
}
