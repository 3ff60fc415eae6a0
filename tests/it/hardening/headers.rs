//! R5 and the trusted-identity-header bypass: method overrides, identity headers (also
//! spelled with `_`), client `X-Forwarded-*`/`Forwarded`, cookies and credentials never
//! reach the backend; with `[route.identity] mode = "header"`, the backend's identity
//! header carries the authenticated user, whatever the client sent.
//!
//! Apache logs these request headers (`Site` passes `LogFormat` directives on its command
//! line); sending them to Apache directly first proves the log would show them.

use std::time::Duration;

use super::{CONTROL, Site, basic};
use crate::support::poll;
use crate::support::vcsgate::GateConfig;
use crate::support::wire::{self, LOCALHOST, head, header};

/// What an attacker adds to a valid read request.
fn forged() -> Vec<(String, String)> {
    vec![
        header("X-HTTP-Method-Override", "POST"),
        header("X-HTTP-Method", "PUT"),
        header("X-Method-Override", "DELETE"),
        header("Remote-User", "admin"),
        header("X-Remote-User", "admin"),
        header("X_Remote_User", "admin"),
        header("X-Forwarded-User", "admin"),
        header("X-Forwarded-For", "6.6.6.6"),
        header("Forwarded", "for=6.6.6.6;by=6.6.6.6"),
        header("Cookie", "session=stolen-cookie"),
        header("Proxy-Authorization", "Basic YWRtaW46YWRtaW4="),
    ]
}

/// The logged headers of the last request Apache logged for `CONTROL`, once there are `n`.
fn nth_logged(site: &Site, n: usize) -> Vec<(String, String)> {
    let found = poll::until(Duration::from_secs(5), Duration::from_millis(20), || {
        site.apache.logged_headers().len() >= n
    });
    let lines = site.apache.logged_headers();
    assert!(
        found.is_some(),
        "Apache logged {} requests, expected {n}",
        lines.len()
    );
    let (request, headers) = lines[n - 1].clone();
    assert_eq!(request, format!("GET {CONTROL}"), "{lines:?}");
    headers
}

fn value<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name} not in the header log: {headers:?}"))
}

#[test]
fn r5_overrides_identity_and_forwarding_headers_never_reach_the_backend() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();

    // Straight to Apache: the log shows each forged header, so "-" later means "not sent".
    let direct = wire::exchange(
        LOCALHOST,
        site.apache.port(),
        head("GET", CONTROL, &forged()).as_bytes(),
        wire::WAIT,
    );
    assert_eq!(direct.first().status, 200, "Apache serves anonymous reads");
    let seen = nth_logged(&site, 1);
    for (name, sent) in forged() {
        assert_eq!(value(&seen, &name), sent, "Apache's log must show {name}");
    }

    let mut headers = vec![basic(&token)];
    headers.extend(forged());
    let through = site.send(head("GET", CONTROL, &headers).as_bytes()).first();
    assert_eq!(through.status, 200, "{through:?}\n{}", site.gate.log());
    let seen = nth_logged(&site, 2);
    let mut leaked = Vec::new();
    for (name, sent) in forged() {
        let got = value(&seen, &name);
        let forwarded_for = name == "X-Forwarded-For" || name == "Forwarded";
        let ok = if forwarded_for {
            !got.contains("6.6.6.6")
        } else {
            got == "-"
        };
        if !ok {
            leaked.push(format!("{name}: {got} (client sent {sent})"));
        }
    }
    assert_eq!(
        value(&seen, "Authorization"),
        "-",
        "client credentials reached the backend"
    );
    assert!(
        leaked.is_empty(),
        "client headers reached the backend:\n{}",
        leaked.join("\n")
    );
    assert!(
        value(&seen, "X-Forwarded-For").contains("127.0.0.1"),
        "vcsgate sets X-Forwarded-For to the client address: {seen:?}"
    );
}

#[test]
fn the_identity_header_always_carries_the_authenticated_user() {
    let mut identity = toml::Table::new();
    identity.insert("mode".into(), "header".into());
    identity.insert("header".into(), "X-Vcsgate-User".into());
    let mut options = toml::Table::new();
    options.insert("identity".into(), toml::Value::Table(identity));
    let mut site = Site::with_route(GateConfig::new(), options);
    let token = site.token("reader", "read_repository");
    site.gate.serve();

    // Without credentials the forged identity gets nowhere.
    let anonymous = vec![header("X-Vcsgate-User", "alice")];
    let refused = site
        .send(head("GET", CONTROL, &anonymous).as_bytes())
        .first();
    assert_eq!(refused.status, 401, "{refused:?}");

    let headers = vec![basic(&token), header("X-Vcsgate-User", "admin")];
    let through = site.send(head("GET", CONTROL, &headers).as_bytes()).first();
    assert_eq!(through.status, 200, "{through:?}\n{}", site.gate.log());
    let seen = nth_logged(&site, 1);
    assert_eq!(
        value(&seen, "X-Vcsgate-User"),
        "alice",
        "the backend must see the authenticated user, not the client's header"
    );
    site.assert_backend_saw_only(&token, &[]);
}
