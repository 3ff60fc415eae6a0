//! The HTTP/1.1 lane's two parsers: the client's request head ([`http1_head`]) and the
//! backend's answer with its body framing ([`backend_answer`]). Both must decide the same
//! however TCP split the bytes, and the lane must only ever take the plain case.

use bytes::BytesMut;
use http::header;

use crate::proxy::http1::head::{self, Head};
use crate::proxy::upstream::chunked::{Chunked, Decoded};
use crate::proxy::upstream::raw::{self, Framing};

const MAX_FIELDS: usize = 100;
const MAX_BYTES: usize = 8192;

/// Prefix lengths below `len` to try: all of them for short inputs, about 64 for long ones.
fn prefix_ends(len: usize) -> impl Iterator<Item = usize> {
    (0..len).step_by(1 + len / 64)
}

fn parse(bytes: &[u8]) -> (Head, BytesMut) {
    let mut buf = BytesMut::from(bytes);
    (head::parse(&mut buf, MAX_FIELDS, MAX_BYTES), buf)
}

/// A request head the lane takes has no body and nothing hyper must decide; every prefix
/// of its bytes waits for more (or is handed off as the whole is); what follows the head
/// stays in the buffer; and the head read back from its parts is taken the same way.
pub fn http1_head(data: &[u8]) {
    let (whole, rest) = parse(data);
    let Head::Plain { parts, close } = &whole else {
        for end in prefix_ends(data.len()) {
            if let (Head::Plain { .. }, _) = parse(&data[..end]) {
                panic!("a prefix of {end} bytes is taken, the whole is not");
            }
        }
        return;
    };
    let head_len = data.len() - rest.len();
    assert!(data[..head_len].ends_with(b"\n"));
    for end in prefix_ends(head_len) {
        match parse(&data[..end]).0 {
            Head::Partial => {}
            other => panic!("prefix of {end} bytes: {other:?}"),
        }
    }
    assert_eq!(parts.version, http::Version::HTTP_11);
    assert_ne!(parts.method, http::Method::CONNECT);
    for name in [header::TRANSFER_ENCODING, header::EXPECT, header::UPGRADE] {
        assert!(
            !parts.headers.contains_key(&name),
            "{name} taken by the lane"
        );
    }
    let lengths: Vec<_> = parts
        .headers
        .get_all(header::CONTENT_LENGTH)
        .iter()
        .collect();
    assert!(lengths.is_empty() || lengths == ["0"], "{lengths:?}");
    let says_close = parts
        .headers
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .any(|o| o.trim_ascii().eq_ignore_ascii_case(b"close"));
    assert_eq!(*close, says_close);
    // Written back in the plain form, the head parses to the same request.
    let mut again = format!(
        "{} {} HTTP/1.1\r\n",
        parts.method,
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    )
    .into_bytes();
    if parts.uri.path_and_query().is_none() || parts.uri.scheme().is_some() {
        return; // absolute and asterisk forms are not rewritten here
    }
    for (name, value) in &parts.headers {
        again.extend_from_slice(name.as_str().as_bytes());
        again.extend_from_slice(b": ");
        again.extend_from_slice(value.as_bytes());
        again.extend_from_slice(b"\r\n");
    }
    again.extend_from_slice(b"\r\n");
    match parse(&again).0 {
        Head::Plain {
            parts: reparsed, ..
        } => {
            assert_eq!(reparsed.method, parts.method);
            assert_eq!(reparsed.uri, parts.uri);
            assert_eq!(reparsed.headers, parts.headers);
        }
        Head::Partial if again.len() >= MAX_BYTES => {}
        Head::HandOff if again.len() >= MAX_BYTES => {}
        other => panic!("written back, the head is {other:?}"),
    }
}

/// A backend answer: the head parses the same from any prefix that completes it, the
/// framing is one of the strict forms, and a chunked body decodes to the same data and end
/// in any split. The first byte picks the request method (even: GET, odd: HEAD) and the
/// split size.
pub fn backend_answer(data: &[u8]) {
    let Some((&control, answer)) = data.split_first() else {
        return;
    };
    let method = match control % 2 {
        0 => http::Method::GET,
        _ => http::Method::HEAD,
    };
    let step = usize::from(control / 2).max(1);
    let mut buf = BytesMut::from(answer);
    let Ok(Some(parts)) = raw::parse_head(&mut buf) else {
        return;
    };
    let Ok(framing) = raw::framing(&method, parts.status, &parts.headers) else {
        return;
    };
    let chunked = parts.headers.contains_key(header::TRANSFER_ENCODING);
    let lengths = parts.headers.get_all(header::CONTENT_LENGTH).iter().count();
    let bodiless = method == http::Method::HEAD
        || parts.status == http::StatusCode::NO_CONTENT
        || parts.status == http::StatusCode::NOT_MODIFIED;
    match framing {
        Framing::Length(0) if bodiless => {}
        other if bodiless => panic!("{other:?} for an answer without a body"),
        Framing::Chunked(_) => assert!(chunked && lengths == 0),
        Framing::Length(_) => assert!(!chunked && lengths <= 1),
        Framing::UntilClose => assert!(!chunked && lengths == 0),
    }
    if let Framing::Chunked(_) = framing {
        let whole = decode(&buf, buf.len().max(1));
        let split = decode(&buf, step);
        assert_eq!(whole, split, "chunked decoding depends on the split");
        if let Some((data, _)) = &whole {
            assert!(data.len() <= buf.len());
        }
    }
}

/// The data and whether the body ended, or `None` for a malformed body.
fn decode(body: &[u8], step: usize) -> Option<(Vec<u8>, bool)> {
    let mut decoder = Chunked::default();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in body.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Decoded::Data(data)) => out.extend_from_slice(&data),
                Ok(Decoded::NeedMore) => break,
                Ok(Decoded::End) => return Some((out, true)),
                Err(_) => return None,
            }
        }
    }
    Some((out, false))
}
