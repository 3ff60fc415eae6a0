//! Canonicalisation (PROTOCOLS.md §0, R1–R5): the one step every request passes before
//! routing. It refuses every path, query and header form that two parsers could read
//! differently, and hands the router and classifiers decoded segments and a decoded query
//! with unique keys. The raw path that passed is what the backend receives.
//!
//! - R1 ([`check_request_target`], [`canonicalise`]): origin-form targets only; no
//!   `CONNECT`, no `*`, no `Upgrade` / `Connection: upgrade`. An HTTP/2 URI carries scheme and
//!   authority from the pseudo-headers: only its path and query are looked at. `Connection`
//!   may not name a header the request carries, except hop-by-hop ones (the proxy would
//!   remove a classified header before forwarding).
//! - R2 (raw path): refused are `\`, `;`, control bytes, DEL and any non-ASCII byte (clients
//!   percent-encode those); the escapes `%2F`, `%5C`, `%00`, `%2E` in either case; empty
//!   segments (`//`; one trailing `/` is allowed and reported as `trailing_slash`); `.` and
//!   `..` segments; `%` not followed by two hex digits. Each segment is then decoded once and
//!   must be UTF-8 without control characters (`%C0%AF`, an overlong `/`, is invalid UTF-8).
//!   `%25` is an ordinary escape: `%252F` decodes to the three characters `%2F`, which are
//!   part of a segment name, never a separator. (A backend that decodes twice would see a
//!   `/` there; no supported backend does.) Files whose names contain `\` are unreachable.
//! - R3 (query): split on `&` only; a `;` anywhere is refused (old parsers split on it); an
//!   empty item (`a=1&&b=2`, a trailing `&`, `=x`) is refused; `k` alone means `k=""`; names
//!   and values are decoded once (`+` stays `+`) and must be UTF-8 without control
//!   characters; duplicate decoded names are refused (`cmd=x&%63md=y`). `/path?` has an
//!   empty query.
//! - URL tokens ([`CanonicalRequest::take_auth_token`]): `auth_token` (after decoding, so
//!   `auth%5Ftoken` too) is taken out of both the decoded and the raw query before anything
//!   else looks at the query, so no classifier, backend or log ever sees it; an empty value
//!   and other spellings of the name (`Auth_Token`) are refused.
//! - R4: the method is a token of upper-case ASCII letters and `-` (`get` is refused); the
//!   per-protocol allow-lists live in the classifiers.
//! - R5 ([`strip_untrusted_headers`]): see [`UNTRUSTED_HEADERS`].

mod headers;
pub mod hop_by_hop;
mod path;
pub mod percent;
mod query;

#[cfg(test)]
mod tests;

use http::{HeaderMap, Method, Uri, Version};

use crate::secret::Secret;

/// The query parameter that carries a URL or feed token (ACCESS.md "URL tokens").
pub const AUTH_TOKEN_PARAM: &str = "auth_token";

pub use headers::{UNTRUSTED_HEADERS, is_untrusted_header, strip_untrusted_headers};

/// R2 on its own, for paths that arrive inside a request (svn's `Destination`, a MERGE href):
/// checks `raw` (starting with `/`) like a request path and returns its decoded segments and
/// whether it ended with `/`.
pub fn parse_path(raw: &str) -> Result<(Vec<String>, bool), CanonError> {
    let path = path::parse(raw)?;
    Ok((path.segments, path.trailing_slash))
}

/// A decoded query: `&`-separated pairs, names and values percent-decoded (`+` is a plain
/// character), keys unique. Order of first appearance is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Builds a query from already decoded pairs; refuses duplicate keys.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, CanonError> {
        for (i, (key, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(CanonError::DuplicateParam);
            }
        }
        Ok(Query { pairs })
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first key not in `allowed`, if any.
    pub fn first_key_outside(&self, allowed: &[&str]) -> Option<&str> {
        self.keys().find(|k| !allowed.contains(k))
    }
}

/// A request that passed canonicalisation.
#[derive(Debug, Clone)]
pub struct CanonicalRequest {
    pub method: Method,
    /// The path exactly as received (it passed every check, so it is forwarded as is).
    pub raw_path: String,
    /// The raw query as received, if any (forwarded as is).
    pub raw_query: Option<String>,
    /// Decoded, non-empty segments.
    pub segments: Vec<String>,
    pub trailing_slash: bool,
    pub query: Query,
}

/// Why a request was refused before routing. All become 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonError {
    #[error("request target must be a path")]
    NotOriginForm,
    #[error("method {method} is not accepted")]
    Method { method: String },
    #[error("the method must be upper-case letters and '-'")]
    MethodSyntax,
    #[error("path contains a forbidden character or escape")]
    ForbiddenInPath,
    #[error("path contains an empty, '.' or '..' segment")]
    BadSegment,
    #[error("malformed percent-escape")]
    BadEscape,
    #[error("query contains ';'")]
    SemicolonInQuery,
    #[error("query contains an empty item")]
    EmptyQueryItem,
    #[error("query contains a control or non-ASCII character")]
    ForbiddenInQuery,
    #[error("a query parameter is given twice")]
    DuplicateParam,
    #[error("query is not valid UTF-8 after decoding")]
    QueryEncoding,
    #[error("path is not valid UTF-8 after decoding")]
    PathEncoding,
    #[error("upgrade requests are not accepted")]
    Upgrade,
    #[error("Connection must not name a header the request carries")]
    ConnectionOption,
    #[error("auth_token is empty")]
    EmptyAuthToken,
    #[error("the query parameter for a token is spelled auth_token (lower case)")]
    AuthTokenSpelling,
}

impl CanonicalRequest {
    /// Takes `auth_token` out of the query: from the decoded pairs and from the raw query
    /// that is forwarded (the other items stay byte for byte; an emptied query becomes none).
    /// Returns its decoded value. Refuses an empty value and any other case of the name (a
    /// token under `Auth_Token` must not reach a backend either). Duplicates, including
    /// encoded ones (`auth_token=a&auth%5Ftoken=b`), were refused by [`canonicalise`].
    pub fn take_auth_token(&mut self) -> Result<Option<Secret>, CanonError> {
        if self
            .query
            .keys()
            .any(|k| k != AUTH_TOKEN_PARAM && k.eq_ignore_ascii_case(AUTH_TOKEN_PARAM))
        {
            return Err(CanonError::AuthTokenSpelling);
        }
        let Some(index) = self
            .query
            .pairs
            .iter()
            .position(|(k, _)| k == AUTH_TOKEN_PARAM)
        else {
            return Ok(None);
        };
        let (_, value) = self.query.pairs.remove(index);
        if let Some(raw) = &self.raw_query {
            let kept = query::without_param(raw, AUTH_TOKEN_PARAM)?;
            self.raw_query = (!kept.is_empty()).then_some(kept);
        }
        if value.is_empty() {
            return Err(CanonError::EmptyAuthToken);
        }
        Ok(Some(Secret::new(value)))
    }
}

/// Canonicalises a request head (R1–R4). Headers are only read here; strip the untrusted
/// ones with [`strip_untrusted_headers`].
pub fn canonicalise(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<CanonicalRequest, CanonError> {
    check_method(method)?;
    headers::refuse_upgrade(headers)?;
    headers::refuse_connection_options(headers)?;
    let raw_path = uri.path();
    let path = path::parse(raw_path)?;
    let raw_query = uri.query();
    let query = match raw_query {
        Some(raw) => query::parse(raw)?,
        None => Query::default(),
    };
    Ok(CanonicalRequest {
        method: method.clone(),
        raw_path: raw_path.to_owned(),
        raw_query: raw_query.map(str::to_owned),
        segments: path.segments,
        trailing_slash: path.trailing_slash,
        query,
    })
}

/// R1 for the request line: over HTTP/1.x the target must be in origin form (`/path?query`;
/// hyper leaves scheme and authority empty then), so absolute-form (`GET http://h/p`) and
/// authority-form targets are refused. Over HTTP/2 and later, scheme and authority come from
/// pseudo-headers and are ignored. [`canonicalise`] refuses `*` and `CONNECT` in every
/// version; call this first with the request's version.
pub fn check_request_target(version: Version, uri: &Uri) -> Result<(), CanonError> {
    let http1 = matches!(
        version,
        Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11
    );
    if http1 && (uri.scheme().is_some() || uri.authority().is_some()) {
        return Err(CanonError::NotOriginForm);
    }
    Ok(())
}

/// R4, and R1's `CONNECT`. A method of another shape is not repeated in the message (it
/// could be anything a client typed).
fn check_method(method: &Method) -> Result<(), CanonError> {
    if !is_plain_method(method) {
        return Err(CanonError::MethodSyntax);
    }
    if *method == Method::CONNECT {
        return Err(CanonError::Method {
            method: method.as_str().to_owned(),
        });
    }
    Ok(())
}

/// R4's shape: upper-case ASCII letters and `-`, at most [`MAX_QUOTED`] of them. Only such
/// methods are quoted in messages and logs.
pub fn is_plain_method(method: &Method) -> bool {
    let name = method.as_str();
    !name.is_empty()
        && name.len() <= MAX_QUOTED
        && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'-')
}

/// Longest request-supplied text quoted in an error message.
const MAX_QUOTED: usize = 64;

/// A request value as quoted in messages (a path segment, a method; never a query or header
/// value): at most [`MAX_QUOTED`] characters, `…` marking a cut. The one such helper.
pub(crate) fn truncated(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
