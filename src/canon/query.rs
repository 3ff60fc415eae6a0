//! R3: the query. Split on `&` only (never `;`), decode names and values once, refuse
//! duplicates so that "first wins" and "last wins" parsers cannot disagree.

use super::percent::{self, TextError};
use super::{CanonError, Query};

/// Parses a raw query. An empty query (`/path?`) has no pairs.
pub(super) fn parse(raw: &str) -> Result<Query, CanonError> {
    if raw.contains(';') {
        return Err(CanonError::SemicolonInQuery);
    }
    if raw.bytes().any(|b| b.is_ascii_control() || !b.is_ascii()) {
        return Err(CanonError::ForbiddenInQuery);
    }
    if raw.is_empty() {
        return Ok(Query::default());
    }
    let mut pairs = Vec::new();
    for item in raw.split('&') {
        let (name, value) = item.split_once('=').unwrap_or((item, ""));
        if name.is_empty() {
            return Err(CanonError::EmptyQueryItem);
        }
        pairs.push((text(name)?, text(value)?));
    }
    Query::from_pairs(pairs)
}

fn text(raw: &str) -> Result<String, CanonError> {
    percent::decode_text(raw).map_err(|e| match e {
        TextError::BadEscape => CanonError::BadEscape,
        TextError::NotUtf8 => CanonError::QueryEncoding,
        TextError::Control => CanonError::ForbiddenInQuery,
    })
}

/// `raw` (a query [`parse`] accepted) without the items whose decoded name is `name`; the
/// other items are kept exactly as they were, in order.
pub(super) fn without_param(raw: &str, name: &str) -> Result<String, CanonError> {
    let mut kept = Vec::new();
    for item in raw.split('&').filter(|item| !item.is_empty()) {
        let (key, _) = item.split_once('=').unwrap_or((item, ""));
        if text(key)? != name {
            kept.push(item);
        }
    }
    Ok(kept.join("&"))
}
