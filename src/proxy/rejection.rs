//! Every way a request can be refused, and the one place that turns a refusal into a
//! response in the form each client displays: git prints a `text/plain` body as `remote: …`,
//! hg shows only the HTTP reason phrase, svn shows `<m:human-readable>` of a DAV error body.

use http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use std::borrow::Cow;

use http::{HeaderValue, Method, Response, StatusCode};

use super::body::{self, Body};
use super::framing::FramingError;
use crate::authn::AuthError;
use crate::authorize::Denial;
use crate::canon::CanonError;
use crate::classify::Refusal;
use crate::repo::RepoError;
use crate::vocabulary::Vcs;

/// Why a request did not reach (or did not get an answer from) the backend. Its status and
/// the line the user sees come from one exhaustive match ([`Rejection::describe`]); the
/// `Display` text is that line.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.message())]
pub enum Rejection {
    Canon(#[from] CanonError),
    NoRoute,
    /// The backend answered a wire request with something else (hgwebdir's listing of a
    /// directory); withheld.
    NotRepository,
    Classify(#[from] Refusal),
    Repo(#[from] RepoError),
    Framing(#[from] FramingError),
    Auth(#[from] AuthError),
    Denied(#[from] Denial),
    Throttled {
        retry_after_secs: u64,
    },
    BodyTooLarge {
        limit: usize,
    },
    BodyRead,
    BackendUnreachable,
    BackendFailed,
    BackendTimeout,
}

/// What every kind of invalid credentials reads: it reveals nothing about the token.
const INVALID_CREDENTIALS: &str = "invalid credentials: the token is unknown, expired or revoked";

impl Rejection {
    /// The status and the line the user sees. Nothing here ever contains a secret (the
    /// messages of the wrapped errors quote no query or header value).
    pub fn describe(&self) -> (StatusCode, Cow<'static, str>) {
        let bad = |e: &dyn std::fmt::Display| {
            (
                StatusCode::BAD_REQUEST,
                Cow::Owned(format!("bad request: {e}")),
            )
        };
        let fixed = |status: StatusCode, text: &'static str| (status, Cow::Borrowed(text));
        match self {
            Rejection::Canon(e) => bad(e),
            Rejection::Classify(e) => bad(e),
            Rejection::Repo(e) => bad(e),
            Rejection::Framing(e) => bad(e),
            Rejection::BodyTooLarge { limit } => (
                StatusCode::BAD_REQUEST,
                Cow::Owned(format!("request body prefix exceeds {limit} bytes")),
            ),
            Rejection::BodyRead => {
                fixed(StatusCode::BAD_REQUEST, "could not read the request body")
            }
            Rejection::NoRoute => fixed(StatusCode::NOT_FOUND, "no route for this path"),
            Rejection::NotRepository => fixed(StatusCode::NOT_FOUND, "no repository at this path"),
            Rejection::Auth(AuthError::Missing) => fixed(
                StatusCode::UNAUTHORIZED,
                "authentication required: use an access token as the password",
            ),
            Rejection::Auth(
                AuthError::Credentials(_)
                | AuthError::Format(_)
                | AuthError::Unknown
                | AuthError::Standing(_),
            ) => fixed(StatusCode::UNAUTHORIZED, INVALID_CREDENTIALS),
            Rejection::Auth(AuthError::StoreUnavailable) => fixed(
                StatusCode::SERVICE_UNAVAILABLE,
                "token store unavailable; try again shortly",
            ),
            Rejection::Denied(denial) if denial.is_unauthenticated() => {
                fixed(StatusCode::UNAUTHORIZED, INVALID_CREDENTIALS)
            }
            Rejection::Denied(denial) => (StatusCode::FORBIDDEN, Cow::Owned(denial.to_string())),
            Rejection::Throttled { .. } => fixed(
                StatusCode::TOO_MANY_REQUESTS,
                "too many failed authentications; retry later",
            ),
            Rejection::BackendUnreachable => fixed(StatusCode::BAD_GATEWAY, "backend unreachable"),
            Rejection::BackendFailed => fixed(StatusCode::BAD_GATEWAY, "backend failed"),
            Rejection::BackendTimeout => fixed(StatusCode::GATEWAY_TIMEOUT, "backend too slow"),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.describe().0
    }

    /// The line the user sees.
    pub fn message(&self) -> String {
        self.describe().1.into_owned()
    }
}

/// Builds the response for a refusal of a `method` request on a route of `vcs` (`None`
/// before routing).
pub fn respond(
    rejection: &Rejection,
    vcs: Option<Vcs>,
    method: &Method,
    realm: &str,
) -> Response<Body> {
    let (status, message) = rejection.describe();
    let response = match vcs {
        Some(Vcs::Svn) => dav_error(status, &message, svn_errcode(method)),
        Some(Vcs::Hg) => hg_error(status, &message),
        Some(Vcs::Git) | None => plain(status, &message),
    };
    with_challenge(response, rejection, realm)
}

/// The refusal of an API request: `{"error", "message"}` JSON with the same status and
/// headers (the Basic challenge, `Retry-After`).
pub fn respond_json(rejection: &Rejection, realm: &str) -> Response<Body> {
    let (status, message) = rejection.describe();
    let text = format!("{}\n", crate::api::error_body(status, &message));
    with_challenge(
        with_status(status, "application/json", text),
        rejection,
        realm,
    )
}

/// Adds what a refusal's status calls for: the Basic challenge to a 401, `Retry-After` to a
/// throttled client.
fn with_challenge(
    mut response: Response<Body>,
    rejection: &Rejection,
    realm: &str,
) -> Response<Body> {
    let status = response.status();
    let headers = response.headers_mut();
    if status == StatusCode::UNAUTHORIZED
        && let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\""))
    {
        headers.insert(WWW_AUTHENTICATE, value);
    }
    if let Rejection::Throttled { retry_after_secs } = rejection {
        headers.insert(RETRY_AFTER, HeaderValue::from(*retry_after_secs));
    }
    response
}

fn with_status(status: StatusCode, content_type: &'static str, text: String) -> Response<Body> {
    let mut response = Response::new(body::full(text));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn plain(status: StatusCode, message: &str) -> Response<Body> {
    with_status(status, "text/plain; charset=utf-8", format!("{message}\n"))
}

/// hg prints only `abort: HTTP Error 403: <reason phrase>`: the message goes there.
fn hg_error(status: StatusCode, message: &str) -> Response<Body> {
    let mut response = plain(status, message);
    let phrase: String = message
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if let Ok(reason) = hyper::ext::ReasonPhrase::try_from(phrase.into_bytes()) {
        response.extensions_mut().insert(reason);
    }
    response
}

/// svn 1.14 shows the server's text for a refused LOCK/UNLOCK only when its errcode is
/// SVN_ERR_FS_LOCK_OWNER_MISMATCH; otherwise it replaces it with its own "not authorized".
/// Every other refusal carries SVN_ERR_RA_NOT_AUTHORIZED.
fn svn_errcode(method: &Method) -> u32 {
    const RA_NOT_AUTHORIZED: u32 = 170_001;
    const FS_LOCK_OWNER_MISMATCH: u32 = 160_039;
    match method.as_str() {
        "LOCK" | "UNLOCK" => FS_LOCK_OWNER_MISMATCH,
        _ => RA_NOT_AUTHORIZED,
    }
}

/// svn prints `<m:human-readable>` of a DAV error body.
fn dav_error(status: StatusCode, message: &str, errcode: u32) -> Response<Body> {
    let escaped = xml_escape(message);
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <D:error xmlns:D=\"DAV:\" xmlns:m=\"http://apache.org/dav/xmlns\" xmlns:C=\"svn:\">\n\
         <C:error/>\n\
         <m:human-readable errcode=\"{errcode}\">\n{escaped}\n</m:human-readable>\n\
         </D:error>\n"
    );
    with_status(status, "text/xml; charset=utf-8", xml)
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn unauthenticated_gets_a_challenge_and_one_message() {
        let r = respond(
            &Rejection::Auth(AuthError::Unknown),
            Some(Vcs::Git),
            &Method::GET,
            "vcsgate",
        );
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[WWW_AUTHENTICATE], "Basic realm=\"vcsgate\"");
        let expired = Rejection::Denied(Denial::Expired);
        assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            expired.message(),
            Rejection::Auth(AuthError::Unknown).message()
        );
    }

    #[test]
    fn hg_gets_reason_phrase_and_svn_gets_dav_xml() {
        let r = respond(&Rejection::NoRoute, Some(Vcs::Hg), &Method::GET, "x");
        let phrase = r.extensions().get::<hyper::ext::ReasonPhrase>().unwrap();
        assert_eq!(phrase.as_bytes(), b"no route for this path");
        let r = respond(&Rejection::NoRoute, Some(Vcs::Svn), &Method::GET, "x");
        assert_eq!(r.headers()[CONTENT_TYPE], "text/xml; charset=utf-8");
        assert_eq!(svn_errcode(&Method::GET), 170_001);
        let lock = Method::from_bytes(b"LOCK").unwrap();
        assert_eq!(svn_errcode(&lock), 160_039);
        let r = respond(
            &Rejection::Throttled {
                retry_after_secs: 7,
            },
            None,
            &Method::GET,
            "x",
        );
        assert_eq!(r.headers()[RETRY_AFTER], "7");
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
    }

    #[test]
    fn every_rejection_has_its_status_and_its_display_is_its_message() {
        let rows: Vec<(Rejection, StatusCode)> = vec![
            (CanonError::BadEscape.into(), StatusCode::BAD_REQUEST),
            (Refusal::NoRepository.into(), StatusCode::BAD_REQUEST),
            (
                Rejection::BodyTooLarge { limit: 9 },
                StatusCode::BAD_REQUEST,
            ),
            (Rejection::BodyRead, StatusCode::BAD_REQUEST),
            (Rejection::NoRoute, StatusCode::NOT_FOUND),
            (Rejection::NotRepository, StatusCode::NOT_FOUND),
            (AuthError::Missing.into(), StatusCode::UNAUTHORIZED),
            (AuthError::Unknown.into(), StatusCode::UNAUTHORIZED),
            (
                AuthError::StoreUnavailable.into(),
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            (Denial::Revoked.into(), StatusCode::UNAUTHORIZED),
            (
                Rejection::Throttled {
                    retry_after_secs: 1,
                },
                StatusCode::TOO_MANY_REQUESTS,
            ),
            (Rejection::BackendUnreachable, StatusCode::BAD_GATEWAY),
            (Rejection::BackendFailed, StatusCode::BAD_GATEWAY),
            (Rejection::BackendTimeout, StatusCode::GATEWAY_TIMEOUT),
        ];
        for (rejection, status) in rows {
            assert_eq!(rejection.status(), status, "{rejection:?}");
            assert_eq!(rejection.to_string(), rejection.message());
            assert!(!rejection.message().is_empty());
        }
    }
}
