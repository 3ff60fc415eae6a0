//! Shared by the classifiers' table tests: building a canonical [`Request`] from the strings
//! a table row holds, and naming what a row expects.

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use super::{Classified, Refusal, Request};
use crate::canon::Query;
use crate::vocabulary::Access;

/// The owned parts of a request, so a test can lend a [`Request`] out of them.
pub struct Parts {
    method: Method,
    segments: Vec<String>,
    trailing_slash: bool,
    query: Query,
    headers: HeaderMap,
}

impl Parts {
    /// `path` is split into segments; `query` pairs are taken as already decoded.
    pub fn new(
        method: &str,
        path: &str,
        query: Vec<(String, String)>,
        headers: &[(&str, &str)],
    ) -> Self {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Parts {
            method: Method::from_bytes(method.as_bytes()).unwrap(),
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            trailing_slash: path.ends_with('/'),
            query: Query::from_pairs(query).unwrap(),
            headers: map,
        }
    }

    pub fn request(&self) -> Request<'_> {
        Request {
            method: &self.method,
            segments: &self.segments,
            trailing_slash: self.trailing_slash,
            query: &self.query,
            headers: &self.headers,
        }
    }
}

/// What a row expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Read,
    Write,
    Body,
    Refuse,
}

pub fn outcome(result: &Result<Classified, Refusal>) -> Want {
    match result {
        Ok(Classified::Final(verdict)) => match verdict.access() {
            Access::Read => Want::Read,
            Access::Write => Want::Write,
        },
        Ok(Classified::NeedsBody { .. }) => Want::Body,
        Err(_) => Want::Refuse,
    }
}

/// Feeds `body` to a body rule the way the proxy settles it, arriving in frames of `frame`
/// bytes: after each [`Progress::NeedMore`], whole frames are read until the prefix holds the
/// `total` asked for (or the body ends). Checks that `total` always exceeds what was offered.
pub fn decide_in_frames(
    mut feed: impl FnMut(&[u8], bool) -> Result<super::Progress, Refusal>,
    body: &[u8],
    frame: usize,
) -> Result<super::Progress, Refusal> {
    let mut end = 0;
    loop {
        let eof = end == body.len();
        match feed(&body[..end], eof)? {
            super::Progress::NeedMore { total } if !eof => {
                assert!(
                    total > end,
                    "NeedMore {{ total: {total} }} after {end} bytes"
                );
                while end < total && end < body.len() {
                    end = (end + frame).min(body.len());
                }
            }
            progress => return Ok(progress),
        }
    }
}
