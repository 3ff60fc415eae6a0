//! `/healthz` and `/readyz`: ready turns 503 (with a JSON reason) once the store has been
//! unreachable past its outage grace, and 200 again when it returns, while `/healthz`
//! stays 200; a route whose backend accepts no connection makes the instance unready.

use std::time::{Duration, Instant};

use super::{admin_get, with_admin};
use crate::support::http;
use crate::support::pg_private::PrivatePostgres;
use crate::support::poll;
use crate::support::ports;
use crate::support::vcsgate::{Gate, GateConfig};

const GRACE_SECS: u64 = 2;

fn json(response: &http::Response) -> serde_json::Value {
    serde_json::from_str(&response.body).unwrap_or_else(|e| panic!("not JSON ({e}): {response:?}"))
}

#[test]
fn readyz_turns_503_past_the_store_grace_and_200_when_it_returns() {
    let pg = PrivatePostgres::start();
    let repos = super::Repos::new();
    let config = GateConfig::new()
        .store_url(&pg.url("postgres", "postgres"))
        .store_option("outage_grace_secs", GRACE_SECS as i64)
        .git_repos("/local", repos.path());
    let (config, admin) = with_admin(config);
    let mut gate = Gate::new(config);
    gate.serve();
    let ready = admin_get(admin, "/readyz");
    assert_eq!(ready.status, 200, "{ready:?}\n{}", gate.log());
    assert_eq!(json(&ready)["status"], "ready");

    let stopped = Instant::now();
    pg.stop();
    let mut last = admin_get(admin, "/readyz");
    let unready = poll::until(Duration::from_secs(30), Duration::from_millis(100), || {
        last = admin_get(admin, "/readyz");
        last.status == 503
    });
    assert!(
        unready.is_some(),
        "/readyz stayed {} with the store down: {last:?}\n{}",
        last.status,
        gate.log()
    );
    let after = stopped.elapsed();
    // The last successful check may lie up to one feed interval (grace / 3) before the stop.
    assert!(
        after >= Duration::from_secs(GRACE_SECS) - Duration::from_secs(GRACE_SECS) / 3,
        "/readyz turned 503 {after:?} after the stop, within the {GRACE_SECS} s grace"
    );
    let reason = json(&last);
    assert_eq!(reason["store"], "unavailable", "{reason}");
    assert!(
        reason["reasons"].as_array().is_some_and(|r| !r.is_empty()),
        "{reason}"
    );
    let live = admin_get(admin, "/healthz");
    assert_eq!(live.status, 200, "the process still serves: {live:?}");
    let metrics = admin_get(admin, "/metrics");
    assert!(
        metrics.body.contains("vcsgate_store_up 0"),
        "{}",
        metrics.body
    );

    pg.start_again();
    let back = poll::until(Duration::from_secs(30), Duration::from_millis(100), || {
        last = admin_get(admin, "/readyz");
        last.status == 200
    });
    assert!(
        back.is_some(),
        "/readyz did not return to 200 with the store back: {last:?}\n{}",
        gate.log()
    );
    let metrics = admin_get(admin, "/metrics");
    assert!(metrics.body.contains("vcsgate_store_up 1"));
    // The notification connection is made again too.
    let listening = "listening for store change notifications";
    let relistened = poll::until(Duration::from_secs(15), Duration::from_millis(100), || {
        gate.log().matches(listening).count() >= 2
    });
    assert!(
        relistened.is_some(),
        "no new LISTEN connection after the store came back:\n{}",
        gate.log()
    );
    gate.stop();
}

#[test]
fn readyz_names_a_route_whose_backend_accepts_no_connection() {
    let dead = ports::free_port();
    let repos = super::Repos::new();
    let config = GateConfig::new()
        .route("/dead", "git", &format!("http://127.0.0.1:{dead}/git"))
        .git_repos("/local", repos.path());
    let (config, admin) = with_admin(config);
    let mut gate = Gate::new(config);
    gate.user_add("alice");
    gate.grant("alice", "dead/**", "read");
    let token = gate.token("alice", "probe", &["--scope", "read_repository"]);
    gate.serve();
    let ready = admin_get(admin, "/readyz");
    assert_eq!(ready.status, 200, "never tried counts as ready: {ready:?}");
    let tried = http::get(
        gate.port(),
        "/dead/team/app.git/info/refs?service=git-upload-pack",
        &[http::basic("x", &token)],
    );
    assert_eq!(tried.status, 502, "{tried:?}");
    let unready = admin_get(admin, "/readyz");
    assert_eq!(unready.status, 503, "{unready:?}");
    let reason = json(&unready);
    assert_eq!(reason["unready_routes"], serde_json::json!(["/dead"]));
    assert_eq!(reason["store"], "ok");
    for path in ["/nothing", "/"] {
        assert_eq!(admin_get(admin, path).status, 404);
    }
    gate.stop();
}
