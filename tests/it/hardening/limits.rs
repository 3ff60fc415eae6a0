//! `[limits]` a client meets on the wire: `max_connections_per_client` (further connections
//! from that address are closed at once; other addresses are not affected; a slot frees up
//! when a connection closes) and oversized request heads (`max_header_bytes`,
//! `max_headers`), which get 431 and never reach the backend.

use std::io::Write;
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

use super::{CONTROL, Site, basic};
use crate::support::poll;
use crate::support::vcsgate::GateConfig;
use crate::support::wire::{self, head, header};

const GREEDY: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 9);
const NEIGHBOUR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 10);
const PER_CLIENT: usize = 2;

fn site_with(limits: toml::Table) -> (Site, String) {
    let mut site = Site::new(GateConfig::new().section("limits", limits));
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    (site, token)
}

/// Opens a connection from `from`, gets one response to the control request on it, and
/// keeps it open (keep-alive): an admitted connection.
fn admitted(site: &Site, from: Ipv4Addr, token: &str) -> TcpStream {
    let mut stream = wire::connect_from(from, site.gate.port()).expect("connect");
    let headers = [basic(token), header("Connection", "keep-alive")];
    stream
        .write_all(head("GET", CONTROL, &headers).as_bytes())
        .expect("send");
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    while wire::parse_all(&raw).is_empty() {
        let n = std::io::Read::read(&mut stream, &mut buf).expect("read a response");
        assert!(
            n > 0,
            "closed before answering: {:?}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&buf[..n]);
    }
    let status = wire::parse_all(&raw)[0].status;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&raw));
    stream
}

/// The status of the control request from `from` on a new connection, `None` when the
/// server closed it without an answer.
fn control_from(site: &Site, from: Ipv4Addr, token: &str) -> Option<u16> {
    let bytes = head("GET", CONTROL, &[basic(token)]);
    let done = wire::exchange(from, site.gate.port(), bytes.as_bytes(), wire::WAIT);
    done.responses().first().map(|r| r.status)
}

#[test]
fn max_connections_per_client_closes_further_connections_of_that_client_only() {
    let mut limits = toml::Table::new();
    limits.insert(
        "max_connections_per_client".into(),
        toml::Value::Integer(PER_CLIENT as i64),
    );
    let (site, token) = site_with(limits);
    let held: Vec<TcpStream> = (0..PER_CLIENT)
        .map(|_| admitted(&site, GREEDY, &token))
        .collect();
    assert_eq!(
        control_from(&site, GREEDY, &token),
        None,
        "connection {} from {GREEDY} must be closed unanswered\n{}",
        PER_CLIENT + 1,
        site.gate.log()
    );
    assert_eq!(
        control_from(&site, NEIGHBOUR, &token),
        Some(200),
        "another address is not affected"
    );
    drop(held);
    let freed = poll::until(Duration::from_secs(10), Duration::from_millis(50), || {
        control_from(&site, GREEDY, &token) == Some(200)
    });
    assert!(
        freed.is_some(),
        "{GREEDY} got no slot back after closing its connections"
    );
    site.assert_backend_saw_only(&token, &[]);
}

#[test]
fn oversized_request_heads_get_431_and_never_reach_the_backend() {
    let mut limits = toml::Table::new();
    limits.insert("max_header_bytes".into(), toml::Value::Integer(16 * 1024));
    limits.insert("max_headers".into(), toml::Value::Integer(128));
    let (site, token) = site_with(limits);
    let big = vec![basic(&token), header("X-Padding", &"a".repeat(32 * 1024))];
    let many: Vec<(String, String)> = std::iter::once(basic(&token))
        .chain((0..200).map(|i| header(&format!("X-Pad-{i}"), "a")))
        .collect();
    for (what, headers) in [("a 32 KiB header", big), ("200 headers", many)] {
        let done = wire::exchange(
            wire::LOCALHOST,
            site.gate.port(),
            head("GET", CONTROL, &headers).as_bytes(),
            wire::WAIT,
        );
        let status = done.responses().first().map(|r| r.status);
        assert_eq!(
            status,
            Some(431),
            "{what}: {:?}",
            String::from_utf8_lossy(&done.raw).lines().next()
        );
    }
    // Well under the limits (and Apache's own 8 KiB per header), the same request passes.
    let fits = vec![basic(&token), header("X-Padding", &"a".repeat(4 * 1024))];
    let done = wire::exchange(
        wire::LOCALHOST,
        site.gate.port(),
        head("GET", CONTROL, &fits).as_bytes(),
        wire::WAIT,
    );
    assert_eq!(
        done.first().status,
        200,
        "a 4 KiB header fits: {:?}",
        done.first()
    );
    site.assert_backend_saw_only(&token, &[]);
}
