//! The token store becoming unreachable, with a PostgreSQL server of the test's own that it
//! stops and starts again: remembered decisions keep working within `[store]
//! outage_grace_secs`, then everything gets 503; a token the server has not seen gets 503
//! at once; after PostgreSQL returns the server recovers by itself.
//!
//! The store password is given through `password_file` and registered as a secret, so the
//! harness also checks it never shows in the log of a server whose database went away.

use std::time::{Duration, Instant};

use super::{CONTROL, Site, basic};
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::http::{self, Response};
use crate::support::pg_private::PrivatePostgres;
use crate::support::poll;
use crate::support::secrets;
use crate::support::vcsgate::GateConfig;

/// Long enough that stopping PostgreSQL (`pg_ctl stop`, reported below) and one request fit
/// in it on a loaded machine; the request "within the grace" is made as soon as PostgreSQL
/// is down.
const GRACE_SECS: i64 = 5;

fn status(site: &Site, token: &str) -> Response {
    http::get(site.gate.port(), CONTROL, &[basic(token)])
}

#[test]
fn store_outage_grace_then_503_then_recovery_without_restart() {
    let pg = PrivatePostgres::start();
    let scratch = tempfile::tempdir().unwrap();
    let password = format!(
        "pw-{}:@/x",
        &vcsgate::token::generate().unwrap().secret.expose()[5..29]
    );
    secrets::remember(&password);
    let password_file = scratch.path().join("pg-password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let config = GateConfig::new()
        .store_url(&pg.url("postgres", "postgres"))
        .store_option("outage_grace_secs", GRACE_SECS)
        .store_option("password_file", password_file.display().to_string());
    let mut site = Site::new(config);
    let known = site.token("known", "read_repository");
    let unseen = site.token("unseen", "read_repository");
    site.gate.serve();
    let warm = status(&site, &known);
    assert_eq!(warm.status, 200, "{warm:?}\n{}", site.gate.log());

    let stopping = Instant::now();
    pg.stop();
    let stopped_after = stopping.elapsed();
    let within = status(&site, &known);
    let asked_after = stopping.elapsed();
    eprintln!("store outage: PostgreSQL stopped in {stopped_after:?}, asked {asked_after:?} after");
    assert_eq!(
        within.status,
        200,
        "a remembered token must keep working within the grace ({GRACE_SECS} s; \
         PostgreSQL took {stopped_after:?} to stop, asked {asked_after:?} after): {within:?}\n{}",
        site.gate.log()
    );
    let unknown = status(&site, &unseen);
    assert_eq!(
        unknown.status, 503,
        "a token the server never saw cannot be checked while the store is down: {unknown:?}"
    );
    let mut last = within;
    let refused = poll::until(Duration::from_secs(30), Duration::from_millis(100), || {
        last = status(&site, &known);
        last.status == 503
    });
    assert!(
        refused.is_some(),
        "past the grace the remembered token still got {}: {last:?}",
        last.status
    );
    assert!(
        last.body.contains("unavailable"),
        "the 503 says why: {last:?}"
    );

    pg.start_again();
    let restarted = Instant::now();
    let recovered = poll::until(Duration::from_secs(30), Duration::from_millis(100), || {
        status(&site, &known).status == 200 && status(&site, &unseen).status == 200
    });
    assert!(
        recovered.is_some(),
        "no recovery {:?} after PostgreSQL came back: known {:?}, unseen {:?}\n{}",
        restarted.elapsed(),
        status(&site, &known),
        status(&site, &unseen),
        site.gate.log()
    );
    let remote = Remote::new(&site.gate.url(), "/git/team/app.git", &Cred::basic(&known));
    let out = GitClient::new().clone(&remote, "after");
    assert!(out.ok(), "clone after the store returned:\n{out}");
    site.gate.stop();
}
