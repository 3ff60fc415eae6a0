//! Reading one request head for the HTTP/1.1 lane. Only the plain case is taken: a complete
//! HTTP/1.1 head without a body (no `Transfer-Encoding`, `Content-Length` absent or `0`), no
//! `Expect`, no `Upgrade`, fields hyper would accept. Everything else — a body, a malformed
//! or oversized head, HTTP/1.0, the HTTP/2 preface — is handed to hyper unchanged, with every
//! byte read so far, so its answers (400, 431, 100-continue, bodies) stay exactly hyper's.

use std::mem::MaybeUninit;

use bytes::BytesMut;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri, Version};

/// The most fields the lane parses itself; a head with more goes to hyper (which applies
/// `[limits] max_headers`).
pub const LANE_FIELDS: usize = 64;
/// Fields added to a request before it goes to the backend (`X-Forwarded-*`, `Forwarded`,
/// `Host`, an identity header).
const FORWARDING_ROOM: usize = 6;
/// The longest request target the lane takes (hyper refuses longer ones with 414).
const MAX_TARGET: usize = 65534;

/// What the front of the read buffer holds.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // one per request, moved once: boxing would cost more
pub enum Head {
    /// A plain request, taken off the buffer. `close`: the client asked to close after it.
    Plain {
        parts: http::request::Parts,
        close: bool,
    },
    /// Not a complete head yet, and below `max_bytes`: read more.
    Partial,
    /// Anything else: hyper takes the connection.
    HandOff,
}

/// Parses the head at the front of `buf`. `max_fields` and `max_bytes` are the configured
/// limits: a head beyond them is handed off (hyper refuses it).
pub fn parse(buf: &mut BytesMut, max_fields: usize, max_bytes: usize) -> Head {
    let mut fields = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; LANE_FIELDS];
    let mut request = httparse::Request::new(&mut []);
    let len = match request.parse_with_uninit_headers(buf, &mut fields) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) if buf.len() < max_bytes => return Head::Partial,
        Ok(httparse::Status::Partial) | Err(_) => return Head::HandOff,
    };
    if len > max_bytes || request.headers.len() > max_fields || request.version != Some(1) {
        return Head::HandOff;
    }
    let Some(method) = request
        .method
        .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
        .filter(|m| m != Method::CONNECT)
    else {
        return Head::HandOff;
    };
    // Positions in the buffer: values and the target become slices of the frozen head.
    let base = buf.as_ptr() as usize;
    let offset = |s: &[u8]| s.as_ptr() as usize - base;
    // hyper answers 414 from this length on.
    let Some(path) = request.path.filter(|p| p.len() < MAX_TARGET) else {
        return Head::HandOff;
    };
    let target = (offset(path.as_bytes()), path.len());
    let mut close = false;
    let mut ranges = Vec::with_capacity(request.headers.len());
    for field in request.headers.iter() {
        let Ok(name) = HeaderName::from_bytes(field.name.as_bytes()) else {
            return Head::HandOff;
        };
        let value = field.value;
        let plain = if name == header::TRANSFER_ENCODING
            || name == header::EXPECT
            || name == header::UPGRADE
        {
            false
        } else if name == header::CONTENT_LENGTH {
            value == b"0"
        } else if name == header::CONNECTION {
            let mut plain = true;
            for option in value.split(|b| *b == b',').map(<[u8]>::trim_ascii) {
                close |= option.eq_ignore_ascii_case(b"close");
                plain &= !option.eq_ignore_ascii_case(b"upgrade");
            }
            plain
        } else {
            true
        };
        if !plain {
            return Head::HandOff;
        }
        ranges.push((name, offset(value), value.len()));
    }
    let lengths = ranges
        .iter()
        .filter(|(name, ..)| name == header::CONTENT_LENGTH)
        .count();
    if lengths > 1 {
        return Head::HandOff;
    }
    let head = buf.split_to(len).freeze();
    let Ok(uri) = Uri::from_maybe_shared(head.slice(target.0..target.0 + target.1)) else {
        return Head::HandOff;
    };
    // Room for the forwarding headers added on the way to the backend.
    let mut headers = HeaderMap::with_capacity(ranges.len() + FORWARDING_ROOM);
    for (name, start, len) in ranges {
        match HeaderValue::from_maybe_shared(head.slice(start..start + len)) {
            Ok(value) => headers.append(name, value),
            Err(_) => return Head::HandOff,
        };
    }
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = method;
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    parts.headers = headers;
    Head::Plain { parts, close }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse_all(bytes: &[u8]) -> (Head, BytesMut) {
        let mut buf = BytesMut::from(bytes);
        (parse(&mut buf, 100, 8192), buf)
    }

    fn is_hand_off(bytes: &[u8]) -> bool {
        matches!(parse_all(bytes).0, Head::HandOff)
    }

    #[test]
    fn a_plain_head_is_taken_and_what_follows_stays() {
        let (head, rest) = parse_all(
            b"GET /git/a.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 0\r\n\r\nGET /next",
        );
        let Head::Plain { parts, close } = head else {
            panic!("not plain: {head:?}");
        };
        assert!(!close);
        assert_eq!(parts.method, Method::GET);
        assert_eq!(
            parts.uri.path_and_query().unwrap().as_str(),
            "/git/a.git/info/refs?service=git-upload-pack"
        );
        assert_eq!(parts.headers["host"], "h");
        assert_eq!(parts.headers.get_all("x-a").iter().count(), 2);
        assert_eq!(&rest[..], b"GET /next");
    }

    #[test]
    fn connection_close_is_noticed() {
        let (head, _) = parse_all(b"HEAD / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n");
        assert!(matches!(head, Head::Plain { close: true, .. }), "{head:?}");
    }

    #[test]
    fn incomplete_heads_wait_until_the_limit() {
        assert!(matches!(
            parse_all(b"GET / HTTP/1.1\r\nHost: h\r\n").0,
            Head::Partial
        ));
        let mut long = BytesMut::from(&b"GET / HTTP/1.1\r\nX: "[..]);
        long.extend_from_slice(&[b'a'; 9000]);
        assert!(matches!(parse(&mut long, 100, 8192), Head::HandOff));
    }

    #[test]
    fn everything_but_the_plain_case_goes_to_hyper() {
        let cases: [&[u8]; 15] = [
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 00\r\n\r\n",
            b"GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            b"GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
            b"GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n",
            b"GET / HTTP/1.0\r\n\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
            b"CONNECT h:443 HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
            b"GET /\x7f HTTP/1.1\r\n\r\n",
            b"G@T / HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\n Folded: x\r\n\r\n",
        ];
        for case in cases {
            assert!(is_hand_off(case), "{}", String::from_utf8_lossy(case));
        }
    }

    #[test]
    fn field_counts_beyond_the_lane_or_the_limit_go_to_hyper() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..LANE_FIELDS + 1 {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        assert!(is_hand_off(&head));
        let mut buf = BytesMut::from(&b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n"[..]);
        assert!(matches!(parse(&mut buf, 1, 8192), Head::HandOff));
    }
}
