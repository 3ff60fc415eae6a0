//! The body type every part of the proxy passes around: a boxed stream of byte chunks.

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;

/// Errors carried inside a body stream.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A streaming body (request or response).
pub type Body = BoxBody<Bytes, BodyError>;

/// A body holding `bytes` (short messages).
pub fn full(bytes: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed()
}
