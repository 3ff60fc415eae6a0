//! R6, request smuggling: a second request hidden in the body of an ambiguously framed one
//! must never reach the backend as a request of its own. The hidden request is an
//! unauthenticated `info/refs?service=git-receive-pack`, which Apache would serve (and log)
//! if it ever saw it; vcsgate may only answer it itself (401) or drop it.

use super::{Site, basic};
use crate::support::vcsgate::GateConfig;

/// Ends with `Connection: close`: once a server has answered it, the exchange is over.
const HIDDEN: &str = "GET /git/team/app.git/info/refs?service=git-receive-pack HTTP/1.1\r\n\
                      Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
const UPLOAD: &str = "POST /git/team/app.git/git-upload-pack HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                      Content-Type: application/x-git-upload-pack-request\r\n";

/// The request line and `Host`/`Content-Type` of an upload-pack POST, the credentials,
/// the framing headers, the body.
fn message(token: &str, framing: &[&str], body: &str) -> Vec<u8> {
    let (name, value) = basic(token);
    let mut text = format!("{UPLOAD}{name}: {value}\r\n");
    for line in framing {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    text.push_str(body);
    text.into_bytes()
}

/// Fails unless the hidden request never reached Apache and vcsgate never answered
/// anything but a refusal after the first response.
#[track_caller]
fn assert_not_smuggled(site: &Site, what: &str, done: &crate::support::wire::Exchange) {
    let responses = done.responses();
    for later in responses.iter().skip(1) {
        assert!(
            [400, 401].contains(&later.status),
            "{what}: a second request was answered with {}: {later:?}",
            later.status
        );
    }
    let hidden = site.apache.requests_matching("receive-pack");
    assert!(
        hidden.is_empty(),
        "{what}: the hidden request reached the backend: {hidden:?}"
    );
}

#[test]
fn r6_content_length_with_chunked_does_not_smuggle_a_request() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let chunked_then_hidden = format!("4\r\n0000\r\n0\r\n\r\n{HIDDEN}");
    let length = format!("Content-Length: {}", chunked_then_hidden.len());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "Content-Length then Transfer-Encoding",
            message(
                &token,
                &[&length, "Transfer-Encoding: chunked"],
                &chunked_then_hidden,
            ),
        ),
        (
            "Transfer-Encoding then Content-Length",
            message(
                &token,
                &["Transfer-Encoding: chunked", &length],
                &chunked_then_hidden,
            ),
        ),
        (
            "Content-Length: 4 with the request after the chunks",
            message(
                &token,
                &["Content-Length: 4", "Transfer-Encoding: chunked"],
                &chunked_then_hidden,
            ),
        ),
    ];
    for (what, bytes) in &cases {
        let done = site.send(bytes);
        let first = done.responses();
        assert!(!first.is_empty(), "{what}: no response at all: {done:?}");
        assert_not_smuggled(&site, what, &done);
    }
    site.assert_backend_saw_only(&token, &["POST /git/team/app.git/git-upload-pack"]);
}

#[test]
fn r6_malformed_transfer_encoding_is_refused_and_closes() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let body = format!("0000{HIDDEN}");
    let length = format!("Content-Length: {}", body.len());
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "Transfer-Encoding: xchunked",
            vec!["Transfer-Encoding: xchunked", &length],
        ),
        (
            "Transfer-Encoding: chunked, identity",
            vec!["Transfer-Encoding: chunked, identity", &length],
        ),
        (
            "Transfer-Encoding: identity",
            vec!["Transfer-Encoding: identity", &length],
        ),
        (
            "Transfer-Encoding twice, identity last",
            vec![
                "Transfer-Encoding: chunked",
                "Transfer-Encoding: identity",
                &length,
            ],
        ),
        (
            "space before the colon",
            vec!["Transfer-Encoding : chunked", &length],
        ),
    ];
    for (what, framing) in &cases {
        let done = site.send(&message(&token, framing, &body));
        let responses = done.responses();
        let first = responses.first().map(|r| r.status);
        assert_eq!(first, Some(400), "{what}: {:?}", done.status_lines());
        assert!(
            done.closed,
            "{what}: the connection must be closed after a framing error"
        );
        assert_eq!(responses.len(), 1, "{what}: {:?}", done.status_lines());
        assert_not_smuggled(&site, what, &done);
    }
    site.assert_backend_saw_only(&token, &[]);
}

#[test]
fn r6_conflicting_content_lengths_get_400_and_the_connection_closes() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let body = format!("0000{HIDDEN}");
    let whole = format!("Content-Length: {}", body.len());
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "two headers, short first",
            vec!["Content-Length: 4", &whole],
        ),
        ("two headers, long first", vec![&whole, "Content-Length: 4"]),
    ];
    let list = format!("Content-Length: 4, {}", body.len());
    let mut cases = cases;
    cases.push(("one header, two values", vec![&list]));
    for (what, framing) in &cases {
        let done = site.send(&message(&token, framing, &body));
        let responses = done.responses();
        assert_eq!(
            responses.first().map(|r| r.status),
            Some(400),
            "{what}: {:?}",
            done.status_lines()
        );
        assert!(done.closed, "{what}: the connection must be closed");
        assert_eq!(
            responses.len(),
            1,
            "{what}: a second response: {:?}",
            done.status_lines()
        );
        assert_not_smuggled(&site, what, &done);
    }
    site.assert_backend_saw_only(&token, &[]);
}

#[test]
fn r6_a_request_in_a_get_body_stays_a_body() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let (name, value) = basic(&token);
    let bytes = format!(
        "GET /git/team/app.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         {name}: {value}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{HIDDEN}",
        HIDDEN.len()
    );
    let done = site.send(bytes.as_bytes());
    assert!(!done.responses().is_empty(), "no response: {done:?}");
    assert_not_smuggled(&site, "GET with a body", &done);
    let allowed = ["GET /git/team/app.git/info/refs?service=git-upload-pack"];
    site.assert_backend_saw_only(&token, &allowed);
}
