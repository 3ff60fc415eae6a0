#![allow(clippy::unwrap_used)]

use super::*;
use crate::secret::Secret;

fn map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (k, v) in pairs {
        headers.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    headers
}

fn forwarded() -> ForwardedFor<'static> {
    ForwardedFor {
        peer: "10.1.2.3:5555".parse().unwrap(),
        tls: true,
        host: Some("git.example.com"),
    }
}

#[test]
fn credentials_cookies_hop_by_hop_and_client_forwarding_headers_are_removed() {
    let mut headers = map(&[
        ("authorization", "Basic Zm9vOmJhcg=="),
        ("proxy-authorization", "Basic x"),
        ("cookie", "session=1"),
        ("connection", "keep-alive, x-secret-hop"),
        ("x-secret-hop", "1"),
        ("keep-alive", "timeout=5"),
        ("te", "trailers"),
        ("x-forwarded-for", "6.6.6.6"),
        ("forwarded", "for=6.6.6.6"),
        ("x-forwarded-host", "evil"),
        ("git-protocol", "version=2"),
        ("content-type", "application/x-git-upload-pack-request"),
    ]);
    let user = UserName::parse("alice").unwrap();
    to_backend(&mut headers, &forwarded(), &BackendIdentity::None, &user);
    for gone in [
        "authorization",
        "proxy-authorization",
        "cookie",
        "connection",
        "x-secret-hop",
        "keep-alive",
        "te",
    ] {
        assert!(headers.get(gone).is_none(), "{gone} should be removed");
    }
    assert_eq!(headers["x-forwarded-for"], "10.1.2.3");
    assert_eq!(headers["x-forwarded-proto"], "https");
    assert_eq!(headers["x-forwarded-host"], "git.example.com");
    assert_eq!(
        headers["forwarded"],
        "for=10.1.2.3;proto=https;host=\"git.example.com\""
    );
    assert_eq!(headers.get_all("x-forwarded-for").iter().count(), 1);
    assert_eq!(headers["git-protocol"], "version=2");
}

#[test]
fn backend_identity_modes() {
    let user = UserName::parse("alice").unwrap();
    let mut headers = map(&[("x-vcsgate-user", "mallory")]);
    let name = HeaderName::from_static("x-vcsgate-user");
    to_backend(
        &mut headers,
        &forwarded(),
        &BackendIdentity::Header(name),
        &user,
    );
    assert_eq!(headers.get_all("x-vcsgate-user").iter().count(), 1);
    assert_eq!(headers["x-vcsgate-user"], "alice");

    let mut headers = map(&[("authorization", "Bearer client-token")]);
    let basic = BackendIdentity::Basic(Secret::new("backend-pw"));
    to_backend(&mut headers, &forwarded(), &basic, &user);
    let expected = format!("Basic {}", STANDARD.encode("alice:backend-pw"));
    assert_eq!(headers["authorization"], expected.as_str());
}

#[test]
fn location_pointing_at_backend_is_rewritten() {
    let rewrite = LocationRewrite {
        backend_origin: "http://127.0.0.1:8081",
        backend_base: "/repos",
        public_origin: Some("https://git.example.com"),
        prefix: "/git",
    };
    let cases = [
        (
            "http://127.0.0.1:8081/repos/a/b",
            "https://git.example.com/git/a/b",
        ),
        ("/repos/a?x=1", "/git/a?x=1"),
        ("http://other/repos/a", "http://other/repos/a"),
        ("/reposx/a", "/reposx/a"),
        (
            "http://127.0.0.1:80812/repos/a",
            "http://127.0.0.1:80812/repos/a",
        ),
    ];
    for (given, expected) in cases {
        let mut headers = map(&[("location", given)]);
        from_backend(&mut headers, &rewrite);
        assert_eq!(headers["location"], expected, "{given}");
    }
}
