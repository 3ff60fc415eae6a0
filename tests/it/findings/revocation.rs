//! Revocation under traffic: a token hammered by several clients while `token revoke` runs
//! is refused within a second of the command returning and stays refused. (The interleaving
//! that used to cache a revoked token is pinned down by the unit test
//! `authn::tests::a_lookup_racing_an_eviction_is_not_remembered`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::hardening::{CONTROL, Site, basic};
use crate::support::http;
use crate::support::vcsgate::GateConfig;

const CLIENTS: usize = 4;
const ENFORCED_WITHIN: Duration = Duration::from_secs(1);

#[test]
fn a_revoked_token_stays_refused_under_traffic() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("ci", "read_repository");
    site.gate.serve();
    let port = site.gate.port();
    let stop = Arc::new(AtomicBool::new(false));
    let hammers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (stop, token) = (Arc::clone(&stop), token.clone());
            thread::spawn(move || {
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let status = http::get(port, CONTROL, &[basic(&token)]).status;
                    seen.push((sent, status));
                }
                seen
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(500));
    site.gate.cli_ok(&["token", "revoke", "alice", "ci"]);
    let revoked = Instant::now();
    thread::sleep(ENFORCED_WITHIN + Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<(Instant, u16)> = hammers
        .into_iter()
        .flat_map(|h| h.join().expect("hammer thread"))
        .collect();
    assert!(
        seen.iter().any(|(at, s)| *at < revoked && *s == 200),
        "the token worked before the revocation"
    );
    let late: Vec<String> = seen
        .iter()
        .filter(|(at, s)| *at > revoked + ENFORCED_WITHIN && ![401, 429].contains(s))
        .map(|(at, s)| format!("{s} at +{:?}", at.duration_since(revoked)))
        .collect();
    let after = seen
        .iter()
        .filter(|(at, _)| *at > revoked + ENFORCED_WITHIN)
        .count();
    assert!(after > 0, "no request after the enforcement window");
    assert!(
        late.is_empty(),
        "admitted after revocation:\n{}",
        late.join("\n")
    );
}
