//! Table tests for R1–R5: one row per case, positive and negative, with encoded and
//! case-shifted variants.

#![allow(clippy::unwrap_used, clippy::panic)]

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, Version};

use super::*;

fn request(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Result<CanonicalRequest, CanonError> {
    let method = Method::from_bytes(method.as_bytes()).unwrap();
    let uri = Uri::try_from(target).unwrap();
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    canonicalise(&method, &uri, &map)
}

fn path(target: &str) -> Result<(Vec<String>, bool), CanonError> {
    request("GET", target, &[]).map(|r| (r.segments, r.trailing_slash))
}

fn query(target: &str) -> Result<Vec<(String, String)>, CanonError> {
    request("GET", target, &[]).map(|r| r.query.pairs().to_vec())
}

type HeadRow<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    Result<(), CanonError>,
);
type PathRow = (&'static str, Result<(Vec<String>, bool), CanonError>);
type QueryRow = (&'static str, Result<Vec<(String, String)>, CanonError>);

fn owned(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn r1_origin_form_only() {
    use CanonError::*;
    let rows: &[HeadRow] = &[
        ("GET", "/a/b", &[], Ok(())),
        // HTTP/2: scheme and authority come from pseudo-headers; only the path counts.
        ("GET", "https://evil.example/a/b", &[], Ok(())),
        ("OPTIONS", "*", &[], Err(NotOriginForm)),
        ("GET", "*", &[], Err(NotOriginForm)),
        (
            "CONNECT",
            "/a",
            &[],
            Err(Method {
                method: "CONNECT".into(),
            }),
        ),
        ("GET", "/a", &[("Upgrade", "websocket")], Err(Upgrade)),
        ("GET", "/a", &[("upgrade", "h2c")], Err(Upgrade)),
        ("GET", "/a", &[("Upgrade", "")], Err(Upgrade)),
        ("GET", "/a", &[("Connection", "Upgrade")], Err(Upgrade)),
        (
            "GET",
            "/a",
            &[("Connection", "keep-alive, UPGRADE")],
            Err(Upgrade),
        ),
        (
            "GET",
            "/a",
            &[("Connection", "keep-alive"), ("connection", " upgrade ")],
            Err(Upgrade),
        ),
        ("GET", "/a", &[("Connection", "keep-alive")], Ok(())),
        ("GET", "/a", &[("Connection", "upgraded")], Ok(())),
    ];
    for (method, target, headers, expected) in rows {
        let got = request(method, target, headers).map(|_| ());
        assert_eq!(&got, expected, "{method} {target} {headers:?}");
    }
    let h2 = request("GET", "https://evil.example/a/b?x=1", &[]).unwrap();
    assert_eq!(h2.raw_path, "/a/b");
    assert_eq!(h2.raw_query.as_deref(), Some("x=1"));
}

#[test]
fn r1_request_target_by_version() {
    let origin = Uri::from_static("/a?b=c");
    let absolute = Uri::from_static("http://h.example/a");
    let authority = Uri::from_static("h.example:443");
    for version in [Version::HTTP_10, Version::HTTP_11] {
        assert_eq!(check_request_target(version, &origin), Ok(()));
        assert_eq!(
            check_request_target(version, &absolute),
            Err(CanonError::NotOriginForm)
        );
        assert_eq!(
            check_request_target(version, &authority),
            Err(CanonError::NotOriginForm)
        );
    }
    assert_eq!(check_request_target(Version::HTTP_2, &absolute), Ok(()));
    assert_eq!(check_request_target(Version::HTTP_2, &origin), Ok(()));
}

#[test]
fn r2_paths() {
    use CanonError::*;
    let ok = |segments: &[&str], trailing: bool| Ok((owned(segments), trailing));
    let rows: &[PathRow] = &[
        ("/", ok(&[], false)),
        ("/a", ok(&["a"], false)),
        ("/a/", ok(&["a"], true)),
        (
            "/team/app.git/info/refs",
            ok(&["team", "app.git", "info", "refs"], false),
        ),
        ("/a%20b/c", ok(&["a b", "c"], false)),
        ("/caf%C3%A9", ok(&["café"], false)),
        ("/caf%c3%a9", ok(&["café"], false)),
        ("/a+b", ok(&["a+b"], false)),
        ("/a%3Fb", ok(&["a?b"], false)),
        ("/a%23b", ok(&["a#b"], false)),
        ("/a%3bb", ok(&["a;b"], false)),
        ("/.hidden/x", ok(&[".hidden", "x"], false)),
        ("/a.../...b", ok(&["a...", "...b"], false)),
        ("/...", ok(&["..."], false)),
        // `%25` is a valid escape: `%252F` is the literal text `%2F` inside one segment.
        ("/a%252Fb", ok(&["a%2Fb"], false)),
        ("/%252e%252e", ok(&["%2e%2e"], false)),
        // Raw characters refused.
        ("/a\\b", Err(ForbiddenInPath)),
        ("/a;b", Err(ForbiddenInPath)),
        ("/a;jsessionid=1/b", Err(ForbiddenInPath)),
        ("/a/b;", Err(ForbiddenInPath)),
        ("/caf\u{e9}", Err(ForbiddenInPath)),
        // Escapes refused, both cases.
        ("/a%2Fb", Err(ForbiddenInPath)),
        ("/a%2fb", Err(ForbiddenInPath)),
        ("/a%5Cb", Err(ForbiddenInPath)),
        ("/a%5cb", Err(ForbiddenInPath)),
        ("/a%00b", Err(ForbiddenInPath)),
        ("/a%2Eb", Err(ForbiddenInPath)),
        ("/%2e%2e/x", Err(ForbiddenInPath)),
        ("/%2E%2e/x", Err(ForbiddenInPath)),
        ("/.%2e/x", Err(ForbiddenInPath)),
        ("/x/%2e", Err(ForbiddenInPath)),
        // Decoded control characters (C0, DEL, C1).
        ("/a%0Ab", Err(ForbiddenInPath)),
        ("/a%0d%0aX-Injected:%20y", Err(ForbiddenInPath)),
        ("/a%09", Err(ForbiddenInPath)),
        ("/a%7F", Err(ForbiddenInPath)),
        ("/a%C2%85", Err(ForbiddenInPath)),
        // Empty, `.` and `..` segments.
        ("//", Err(BadSegment)),
        ("//a", Err(BadSegment)),
        ("/a//b", Err(BadSegment)),
        ("/a//", Err(BadSegment)),
        ("/.", Err(BadSegment)),
        ("/./a", Err(BadSegment)),
        ("/a/.", Err(BadSegment)),
        ("/a/./", Err(BadSegment)),
        ("/..", Err(BadSegment)),
        ("/a/../b", Err(BadSegment)),
        ("/a/..", Err(BadSegment)),
        ("/a/../", Err(BadSegment)),
        // Bad escapes.
        ("/a%", Err(BadEscape)),
        ("/a%2", Err(BadEscape)),
        ("/a%zz", Err(BadEscape)),
        ("/a%%2F", Err(BadEscape)),
        ("/a%g0/b", Err(BadEscape)),
        // Decoded text must be UTF-8: overlong `/`, lone continuation, invalid lead byte.
        ("/a%C0%AFb", Err(PathEncoding)),
        ("/%c0%ae%c0%ae/x", Err(PathEncoding)),
        ("/a%80", Err(PathEncoding)),
        ("/a%FF", Err(PathEncoding)),
        ("/a%C3", Err(PathEncoding)),
        ("/%ED%A0%80", Err(PathEncoding)),
    ];
    for (target, expected) in rows {
        assert_eq!(&path(target), expected, "{target}");
    }
}

#[test]
fn r2_raw_path_is_kept() {
    let r = request("GET", "/a%20b/c/?x=%41", &[]).unwrap();
    assert_eq!(r.raw_path, "/a%20b/c/");
    assert_eq!(r.raw_query.as_deref(), Some("x=%41"));
    assert!(r.trailing_slash);
    let r = request("GET", "/a", &[]).unwrap();
    assert_eq!(r.raw_query, None);
}

#[test]
fn r3_queries() {
    use CanonError::*;
    let ok = |pairs: &[(&str, &str)]| {
        Ok(pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>())
    };
    let dup = |_name: &str| Err(DuplicateParam);
    let rows: &[QueryRow] = &[
        ("/x", ok(&[])),
        ("/x?", ok(&[])),
        (
            "/x?service=git-upload-pack",
            ok(&[("service", "git-upload-pack")]),
        ),
        (
            "/x?service=git%2Dupload-pack",
            ok(&[("service", "git-upload-pack")]),
        ),
        (
            "/x?%73ervice=git-upload-pack",
            ok(&[("service", "git-upload-pack")]),
        ),
        ("/x?a=1&b=2", ok(&[("a", "1"), ("b", "2")])),
        ("/x?b=2&a=1", ok(&[("b", "2"), ("a", "1")])),
        ("/x?a", ok(&[("a", "")])),
        ("/x?a=", ok(&[("a", "")])),
        ("/x?a=b=c", ok(&[("a", "b=c")])),
        ("/x?a=1+2", ok(&[("a", "1+2")])),
        ("/x?a=1%2B2", ok(&[("a", "1+2")])),
        ("/x?a=%20", ok(&[("a", " ")])),
        (
            "/x?cmds=heads+%3Bknown+nodes%3D",
            ok(&[("cmds", "heads+;known+nodes=")]),
        ),
        ("/x?a=%2F%2E%00x", Err(ForbiddenInQuery)),
        ("/x?a=%2F%2E", ok(&[("a", "/.")])),
        ("/x?a=%252F", ok(&[("a", "%2F")])),
        ("/x?a=caf%C3%A9", ok(&[("a", "café")])),
        ("/x?A=1&a=2", ok(&[("A", "1"), ("a", "2")])),
        // `;` is refused anywhere, as a separator or not.
        ("/x?a=1;b=2", Err(SemicolonInQuery)),
        ("/x?a=1;", Err(SemicolonInQuery)),
        ("/x?;", Err(SemicolonInQuery)),
        ("/x?cmd=heads;cmd=unbundle", Err(SemicolonInQuery)),
        // Empty items.
        ("/x?a=1&&b=2", Err(EmptyQueryItem)),
        ("/x?a=1&", Err(EmptyQueryItem)),
        ("/x?&a=1", Err(EmptyQueryItem)),
        ("/x?&", Err(EmptyQueryItem)),
        ("/x?=1", Err(EmptyQueryItem)),
        ("/x?a=1&=2", Err(EmptyQueryItem)),
        // Duplicates after decoding.
        ("/x?service=a&service=b", dup("service")),
        ("/x?service=a&service=a", dup("service")),
        ("/x?cmd=x&%63md=y", dup("cmd")),
        ("/x?cmd=x&%63%6D%64=y", dup("cmd")),
        ("/x?a&a=", dup("a")),
        ("/x?a=1&b=2&a=3", dup("a")),
        // Bad escapes, encodings and characters.
        ("/x?a=%", Err(BadEscape)),
        ("/x?a=%4", Err(BadEscape)),
        ("/x?a=%zz", Err(BadEscape)),
        ("/x?%=1", Err(BadEscape)),
        ("/x?a=%C0%AF", Err(QueryEncoding)),
        ("/x?a=%FF", Err(QueryEncoding)),
        ("/x?%FF=1", Err(QueryEncoding)),
        ("/x?a=%0A", Err(ForbiddenInQuery)),
        ("/x?a=%00", Err(ForbiddenInQuery)),
        ("/x?a=%7f", Err(ForbiddenInQuery)),
        ("/x?a%0D=1", Err(ForbiddenInQuery)),
        ("/x?a=caf\u{e9}", Err(ForbiddenInQuery)),
    ];
    for (target, expected) in rows {
        assert_eq!(&query(target), expected, "{target}");
    }
}

#[test]
fn r4_methods() {
    use CanonError::*;
    let refused = |m: &str| match m {
        "CONNECT" => Err(Method { method: m.into() }),
        _ => Err(MethodSyntax),
    };
    let rows: &[(&str, Result<(), CanonError>)] = &[
        ("GET", Ok(())),
        ("HEAD", Ok(())),
        ("POST", Ok(())),
        ("PROPFIND", Ok(())),
        ("VERSION-CONTROL", Ok(())),
        ("MKACTIVITY", Ok(())),
        ("get", refused("get")),
        ("Get", refused("Get")),
        ("post", refused("post")),
        ("GET2", refused("GET2")),
        ("X_GET", refused("X_GET")),
        ("M-SEARCH.", refused("M-SEARCH.")),
        ("CONNECT", refused("CONNECT")),
    ];
    for (method, expected) in rows {
        assert_eq!(
            &request(method, "/a", &[]).map(|_| ()),
            expected,
            "{method}"
        );
    }
    match request(&"A".repeat(200), "/a", &[]) {
        Err(MethodSyntax) => {}
        other => panic!("{other:?}"),
    }
}

/// A proxy removes the headers `Connection` names before forwarding (RFC 9110 §7.6.1), so a
/// client naming a header the classifier read (`X-HgArg-1`, `X-HgArgs-Post`, `Destination`,
/// `Content-Type`) would have it classified and then withheld from the backend.
#[test]
fn r1_connection_must_not_name_end_to_end_headers() {
    let rows: &[(&[(&str, &str)], bool)] = &[
        (&[("Connection", "close")], true),
        (
            &[("Connection", "Keep-Alive"), ("Keep-Alive", "timeout=5")],
            true,
        ),
        (&[("Connection", "TE"), ("TE", "trailers")], true),
        (&[("Connection", "keep-alive, close")], true),
        // Naming a header the request does not carry removes nothing.
        (&[("Connection", "x-foo")], true),
        (
            &[("Connection", "x-hgarg-1"), ("X-HgArg-1", "cmds=heads+")],
            false,
        ),
        (
            &[
                ("Connection", "close, X-HgArgs-Post"),
                ("X-HgArgs-Post", "9"),
            ],
            false,
        ),
        (
            &[
                ("Connection", "keep-alive"),
                ("connection", "destination"),
                ("Destination", "http://h/svn/r/b"),
            ],
            false,
        ),
        (
            &[
                ("Connection", "Content-Type"),
                ("Content-Type", "application/x-git-upload-pack-request"),
            ],
            false,
        ),
        (
            &[("Connection", "content-length"), ("Content-Length", "0")],
            false,
        ),
        (&[("Connection", "x-foo"), ("X-Foo", "1")], false),
    ];
    for (headers, accepted) in rows {
        let got = request("POST", "/a", headers);
        assert_eq!(got.is_ok(), *accepted, "{headers:?}: {got:?}");
    }
}

#[test]
fn r5_strips_untrusted_headers() {
    let mut headers = HeaderMap::new();
    let kept = [
        "content-type",
        "git-protocol",
        "authorization",
        "x-hgarg-1",
        "x-forwarded-for",
        "user-agent",
    ];
    let dropped = [
        "X-HTTP-Method-Override",
        "x-http-method",
        "X-Method-Override",
        "Remote-User",
        "X-Remote-User",
        "X-Forwarded-User",
        "X-Remote-Username",
        "X-Auth-User",
        "X-User",
        "Auth-User",
        "X-Forwarded-Email",
        "X-Forwarded-Preferred-Username",
        "X-Auth-Request-User",
        "X-Auth-Request-Email",
        "X_HgArg_1",
        "x_remote_user",
        "REMOTE_USER",
        "_",
        "a_b",
    ];
    for name in kept.iter().chain(dropped.iter()) {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_static("v"),
        );
    }
    // Several values of one untrusted header all go.
    headers.append("x-remote-user", HeaderValue::from_static("second"));
    strip_untrusted_headers(&mut headers);
    let mut left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
    left.sort_unstable();
    let mut expected = kept.to_vec();
    expected.sort_unstable();
    assert_eq!(left, expected);
    for name in dropped {
        assert!(is_untrusted_header(name), "{name}");
    }
    for name in UNTRUSTED_HEADERS {
        assert_eq!(*name, name.to_ascii_lowercase(), "listed in lower case");
    }
}

/// A query name, a query value or a malformed method may be a pasted secret: messages
/// never repeat them.
#[test]
fn errors_never_quote_query_names_or_odd_methods() {
    let name = "vcsg_NotReallyATokenButCouldBe0123456789";
    match query(&format!("/x?{name}=1&{name}=2")) {
        Err(error @ CanonError::DuplicateParam) => {
            assert!(!error.to_string().contains(name), "{error}");
        }
        other => panic!("{other:?}"),
    }
    let method = http::Method::from_bytes(name.as_bytes()).unwrap();
    let refused = canonicalise(&method, &"/x".parse().unwrap(), &http::HeaderMap::new());
    assert_eq!(refused.unwrap_err(), CanonError::MethodSyntax);
}

/// `auth_token` placement: (target, decoded token or refusal, forwarded raw query).
#[test]
fn auth_token_is_taken_out_of_the_query() {
    type Row<'a> = (
        &'a str,
        Result<Option<&'a str>, CanonError>,
        Option<&'a str>,
    );
    let rows: &[Row] = &[
        ("/r/archive/tip.zip", Ok(None), None),
        ("/r/archive/tip.zip?auth_token=abc", Ok(Some("abc")), None),
        (
            "/r/x?a=1&auth_token=abc&b=2",
            Ok(Some("abc")),
            Some("a=1&b=2"),
        ),
        (
            "/r/x?auth_token=abc&style=raw",
            Ok(Some("abc")),
            Some("style=raw"),
        ),
        (
            "/r/x?style=raw&auth_token=abc",
            Ok(Some("abc")),
            Some("style=raw"),
        ),
        // encoded name and value: decoded once, the encoded item removed too
        (
            "/r/x?auth%5Ftoken=abc&a=%41",
            Ok(Some("abc")),
            Some("a=%41"),
        ),
        ("/r/x?auth%5ftoken=a%62c", Ok(Some("abc")), None),
        ("/r/x?%61uth_token=abc", Ok(Some("abc")), None),
        // `+` stays `+`
        ("/r/x?auth_token=a+b", Ok(Some("a+b")), None),
        // empty value, name alone
        ("/r/x?auth_token=", Err(CanonError::EmptyAuthToken), None),
        ("/r/x?auth_token", Err(CanonError::EmptyAuthToken), None),
        (
            "/r/x?a=1&auth_token=",
            Err(CanonError::EmptyAuthToken),
            None,
        ),
        // other spellings of the name
        (
            "/r/x?Auth_Token=abc",
            Err(CanonError::AuthTokenSpelling),
            None,
        ),
        (
            "/r/x?AUTH_TOKEN=abc",
            Err(CanonError::AuthTokenSpelling),
            None,
        ),
        (
            "/r/x?auth_token=a&AUTH_TOKEN=b",
            Err(CanonError::AuthTokenSpelling),
            None,
        ),
        (
            "/r/x?auth%5FTOKEN=abc",
            Err(CanonError::AuthTokenSpelling),
            None,
        ),
        // look-alikes are other parameters, left in place
        ("/r/x?auth_tokens=abc", Ok(None), Some("auth_tokens=abc")),
        ("/r/x?auth-token=abc", Ok(None), Some("auth-token=abc")),
    ];
    for (target, expected, forwarded) in rows {
        let mut canonical = request("GET", target, &[]).unwrap();
        let got = canonical.take_auth_token();
        let got_text = got.map(|t| t.map(|s| s.expose().to_owned()));
        let want = expected.clone().map(|t| t.map(str::to_owned));
        assert_eq!(got_text, want, "{target}");
        if expected.is_ok() {
            assert_eq!(canonical.raw_query.as_deref(), *forwarded, "{target}");
            assert!(canonical.query.get(AUTH_TOKEN_PARAM).is_none(), "{target}");
        }
    }
    // duplicates, also encoded ones, never reach take_auth_token
    for target in [
        "/r/x?auth_token=a&auth_token=b",
        "/r/x?auth_token=a&auth%5Ftoken=b",
        "/r/x?auth_token=a&auth_token=a",
    ] {
        assert_eq!(
            request("GET", target, &[]).err(),
            Some(CanonError::DuplicateParam),
            "{target}"
        );
    }
    for target in ["/r/x?auth_token=a;b", "/r/x?auth_token=a&&b=1"] {
        assert!(request("GET", target, &[]).is_err(), "{target}");
    }
}
