//! Request bodies a backend would frame differently from hyper (PROTOCOLS.md R6). hyper
//! parses the client's framing and vcsgate re-frames what it forwards, but a backend that
//! leaves body bytes unread on a kept-alive connection parses them as the next request: one
//! vcsgate never classified. `hg serve` is such a backend. It never reads the body of a GET,
//! and it cannot read a chunked body at all (it reads the raw stream, chunk-size lines
//! included, and keeps the connection open even when it could not drain it), so:
//!
//! - a GET or HEAD must not carry a body, on every route (no VCS client sends one; Apache
//!   discards such bodies, other servers may not);
//! - on hg routes a body must have a known length, which vcsgate forwards as
//!   `Content-Length` (hg's own client always sends one; a chunked request, or an HTTP/2
//!   request without `content-length`, would reach hg serve chunked);
//! - on hg routes a request with a body goes to the backend with `Connection: close`
//!   ([`close_backend_connection`]): hg serve drains a POST body only when its command
//!   succeeds or fails cleanly; when it raises (a missing argument, `unbundle` with bad
//!   `heads`) it answers 500 and leaves the body on the connection, and any command's body
//!   would then smuggle a request (to any repository) past vcsgate.
//!
//! Decided from the head alone: pure, no IO.

use http::Method;
use http_body::SizeHint;

use crate::vocabulary::Vcs;

/// Why a request body cannot be forwarded. Both become 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("a {method} request must not have a body")]
    BodyOnGet { method: &'static str },
    #[error("a Mercurial request body must be sent with Content-Length, not chunked")]
    LengthRequired,
}

/// Checks the body announced by the request head (`hint` is the body's size hint: exact for
/// `Content-Length` or no body, open for chunked or HTTP/2 without `content-length`).
pub fn check_body(method: &Method, vcs: Vcs, hint: &SizeHint) -> Result<(), FramingError> {
    let empty = hint.exact() == Some(0);
    if *method == Method::GET && !empty {
        return Err(FramingError::BodyOnGet { method: "GET" });
    }
    if *method == Method::HEAD && !empty {
        return Err(FramingError::BodyOnGet { method: "HEAD" });
    }
    match vcs {
        Vcs::Hg if hint.exact().is_none() => Err(FramingError::LengthRequired),
        Vcs::Hg | Vcs::Git | Vcs::Svn => Ok(()),
    }
}

/// Whether the backend connection must not be reused after this request: on hg routes,
/// whenever the request has a body.
pub fn close_backend_connection(vcs: Vcs, hint: &SizeHint) -> bool {
    match vcs {
        Vcs::Hg => hint.exact() != Some(0),
        Vcs::Git | Vcs::Svn => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How the head announced the body.
    #[derive(Debug, Clone, Copy)]
    enum Framing {
        /// No body, or `Content-Length: 0`.
        Empty,
        /// `Content-Length: n`.
        Length(u64),
        /// Chunked, or HTTP/2 without `content-length`.
        Open,
    }

    fn hint(framing: Framing) -> SizeHint {
        match framing {
            Framing::Empty => SizeHint::with_exact(0),
            Framing::Length(n) => SizeHint::with_exact(n),
            Framing::Open => SizeHint::new(),
        }
    }

    #[test]
    fn bodies_backends_would_leave_unread_are_refused() {
        use Framing::*;
        use Vcs::*;
        let get = Err(FramingError::BodyOnGet { method: "GET" });
        let head = Err(FramingError::BodyOnGet { method: "HEAD" });
        let chunked = Err(FramingError::LengthRequired);
        let rows: &[(&str, Vcs, Framing, Result<(), FramingError>)] = &[
            ("GET", Hg, Empty, Ok(())),
            ("GET", Git, Empty, Ok(())),
            ("GET", Svn, Empty, Ok(())),
            ("HEAD", Svn, Empty, Ok(())),
            // A GET body is what hg serve parses as the next request.
            ("GET", Hg, Length(120), get.clone()),
            ("GET", Hg, Open, get.clone()),
            ("GET", Git, Length(1), get.clone()),
            ("GET", Svn, Open, get),
            ("HEAD", Git, Length(5), head.clone()),
            ("HEAD", Hg, Open, head),
            // hg: known length only (hg serve reads chunked bodies raw).
            ("POST", Hg, Length(300), Ok(())),
            ("POST", Hg, Empty, Ok(())),
            ("POST", Hg, Open, chunked),
            // git and svn clients send chunked bodies (large pushes, svn PUT); Apache and
            // git http-backend read them.
            ("POST", Git, Open, Ok(())),
            ("PUT", Svn, Open, Ok(())),
            ("PROPFIND", Svn, Length(90), Ok(())),
            ("REPORT", Svn, Open, Ok(())),
        ];
        for (method, vcs, framing, expected) in rows {
            let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
            assert_eq!(
                &check_body(&method, *vcs, &hint(*framing)),
                expected,
                "{method} {vcs:?} {framing:?}"
            );
        }
    }

    #[test]
    fn hg_bodies_close_the_backend_connection() {
        use Framing::*;
        use Vcs::*;
        let rows: &[(Vcs, Framing, bool)] = &[
            (Hg, Length(1), true),
            (Hg, Length(4096), true),
            (Hg, Open, true),
            (Hg, Empty, false),
            (Git, Length(4096), false),
            (Git, Open, false),
            (Svn, Length(10), false),
            (Svn, Empty, false),
        ];
        for (vcs, framing, expected) in rows {
            assert_eq!(
                close_backend_connection(*vcs, &hint(*framing)),
                *expected,
                "{vcs:?} {framing:?}"
            );
        }
    }
}
