//! Canonicalisation (PROTOCOLS.md §0, R1–R5): the one step every request passes before
//! routing. It refuses every path, query and header form that two parsers could read
//! differently, and hands the router and classifiers decoded segments and a decoded query
//! with unique keys. The raw path that passed is what the backend receives.

use http::{HeaderMap, Method, Uri};

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
                return Err(CanonError::DuplicateParam { name: key.clone() });
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
    #[error("path contains a forbidden character or escape")]
    ForbiddenInPath,
    #[error("path contains an empty, '.' or '..' segment")]
    BadSegment,
    #[error("malformed percent-escape")]
    BadEscape,
    #[error("query contains ';'")]
    SemicolonInQuery,
    #[error("duplicate query parameter {name:?}")]
    DuplicateParam { name: String },
    #[error("query is not valid UTF-8 after decoding")]
    QueryEncoding,
    #[error("path is not valid UTF-8 after decoding")]
    PathEncoding,
    #[error("upgrade requests are not accepted")]
    Upgrade,
}

/// Canonicalises a request head. See the module doc for the rules.
pub fn canonicalise(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<CanonicalRequest, CanonError> {
    let _ = (method, uri, headers);
    Err(CanonError::NotOriginForm)
}

/// Removes method-override headers, client-sent identity headers and header names
/// containing `_` (R5). Called before classifying and before forwarding.
pub fn strip_untrusted_headers(headers: &mut HeaderMap) {
    let _ = headers;
}
