//! A request head from fuzz bytes:
//!
//! ```text
//! METHOD SP TARGET [SP HTTP/1.0|HTTP/1.1|HTTP/2] LF
//! Name: value LF          (any number)
//! LF
//! body bytes…
//! ```
//!
//! Parts the `http` crate refuses (hyper would refuse them before vcsgate sees them) end the
//! input (method, target) or are skipped (a header line).

use crate::canon::{self, CanonicalRequest};
use crate::classify::Request;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, Version};

pub struct Head<'a> {
    pub method: Method,
    pub uri: Uri,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

impl<'a> Head<'a> {
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (head, body) = match find(data, b"\n\n") {
            Some(at) => (&data[..at], &data[at + 2..]),
            None => (data, &[][..]),
        };
        let mut lines = head.split(|b| *b == b'\n');
        let mut words = lines.next()?.split(|b| *b == b' ');
        let method = Method::from_bytes(words.next()?).ok()?;
        let uri = Uri::try_from(words.next()?).ok()?;
        let version = match words.next() {
            Some(b"HTTP/1.0") => Version::HTTP_10,
            Some(b"HTTP/2") => Version::HTTP_2,
            _ => Version::HTTP_11,
        };
        let mut headers = HeaderMap::new();
        for line in lines {
            let Some(colon) = line.iter().position(|b| *b == b':') else {
                continue;
            };
            let value = line[colon + 1..]
                .strip_prefix(b" ")
                .unwrap_or(&line[colon + 1..]);
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(&line[..colon]),
                HeaderValue::from_bytes(value),
            ) {
                headers.append(name, value);
            }
        }
        Some(Head {
            method,
            uri,
            version,
            headers,
            body,
        })
    }

    /// What the request handler does before routing: check the target, strip untrusted
    /// headers, canonicalise.
    pub fn canonical(&mut self) -> Option<CanonicalRequest> {
        canon::check_request_target(self.version, &self.uri).ok()?;
        canon::strip_untrusted_headers(&mut self.headers);
        canon::canonicalise(&self.method, &self.uri, &self.headers).ok()
    }
}

/// The classifier's view below a route prefix `depth` segments deep.
pub fn request<'r>(
    canonical: &'r CanonicalRequest,
    depth: usize,
    headers: &'r HeaderMap,
) -> Request<'r> {
    Request {
        method: &canonical.method,
        segments: &canonical.segments[depth.min(canonical.segments.len())..],
        trailing_slash: canonical.trailing_slash,
        query: &canonical.query,
        headers,
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
