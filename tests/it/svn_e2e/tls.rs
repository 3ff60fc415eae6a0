//! vcsgate on HTTPS (`[server.tls]`) in front of plain-HTTP Apache: svn verifies the test CA
//! (`ssl-authority-files`), checks out, commits and branches; the COPY `Destination` carries
//! vcsgate's https origin, which vcsgate rewrites for Apache. NEEDS THE PROXY.

use std::fs;

use super::SvnWorld;
use super::writes::checkout;
use crate::support::svn::SvnClient;
use crate::support::tls::TestPki;
use crate::support::vcsgate::GateConfig;

#[test]
fn https_checkout_commit_and_copy_with_a_trusted_ca() {
    let pki = TestPki::generate();
    let config = GateConfig::new().tls(&pki.server_cert(), &pki.server_key());
    let world = SvnWorld::with_config(config);
    let token = world.tokens.write.clone();
    let trunk = world.url("/trunk");
    assert!(trunk.starts_with("https://"), "{trunk}");

    let untrusting = SvnClient::new();
    let out = world.svn(&untrusting, &token, &["checkout", &trunk, "wc"], None);
    world.check(
        !out.ok() && out.stderr.contains("certificate verification failed"),
        &format!("the test CA is not trusted by default:\n{out}"),
    );

    let svn = SvnClient::new();
    svn.trust_ca(&pki.ca_pem());
    checkout(&world, &svn, &token, "wc");
    let wc = svn.dir("wc");
    fs::write(wc.join("file.txt"), "over https\n").unwrap();
    let out = world.svn(&svn, &token, &["commit", "-m", "https commit"], Some(&wc));
    world.check(out.ok(), &format!("commit over https:\n{out}"));
    assert_eq!(
        (world.youngest(), world.author(2)),
        (2, "alice".to_string())
    );

    let branch = world.url("/branches/tls");
    let out = world.svn(
        &svn,
        &token,
        &["copy", &trunk, &branch, "-m", "branch"],
        None,
    );
    world.check(out.ok(), &format!("copy over https:\n{out}"));
    assert_eq!(
        (world.youngest(), world.author(3)),
        (3, "alice".to_string())
    );
    let changed = world.changed(3);
    assert!(
        changed.contains("A   branches/tls/"),
        "svnlook changed -r 3:\n{changed}"
    );

    // A working-copy copy goes through COPY with a Destination too.
    let wc_branch = world.url("/branches/wc-copy");
    let out = world.svn(
        &svn,
        &token,
        &["copy", ".", &wc_branch, "-m", "wc copy"],
        Some(&wc),
    );
    world.check(
        out.ok(),
        &format!("working-copy to URL copy over https:\n{out}"),
    );
    assert_eq!(world.youngest(), 4);
    assert!(world.changed(4).contains("A   branches/wc-copy/"));
}
