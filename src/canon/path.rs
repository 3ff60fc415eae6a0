//! R2: the raw path. Everything two parsers could read differently is refused on the raw
//! bytes; what is left is split on `/` and each segment percent-decoded once.

use super::CanonError;
use super::percent::{self, TextError, Unit};

/// The decoded form of an accepted raw path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Path {
    pub(super) segments: Vec<String>,
    pub(super) trailing_slash: bool,
}

/// Bytes refused anywhere in the raw path, written as is.
const FORBIDDEN_LITERAL: &[u8] = b"\\;";

/// Bytes refused when written as an escape: `%2F` (`/`), `%5C` (`\`), `%00`, `%2E` (`.`).
/// A decoded `/` would split differently in a decoding backend, `\` is a separator on
/// Windows and in some forges, NUL ends C strings, and an escaped dot can form a dot segment
/// after decoding. Files whose names contain `\` (or start with `.` and need escaping) are
/// therefore unreachable through vcsgate.
const FORBIDDEN_ESCAPED: &[u8] = b"/\\\0.";

/// Checks and decodes `raw` (which must start with `/`). `/` alone gives no segments and no
/// trailing slash.
pub(super) fn parse(raw: &str) -> Result<Path, CanonError> {
    let Some(rest) = raw.strip_prefix('/') else {
        return Err(CanonError::NotOriginForm);
    };
    if raw
        .bytes()
        .any(|b| b.is_ascii_control() || !b.is_ascii() || FORBIDDEN_LITERAL.contains(&b))
    {
        return Err(CanonError::ForbiddenInPath);
    }
    let units = percent::units(rest).map_err(|_| CanonError::BadEscape)?;
    if units
        .iter()
        .any(|u| matches!(u, Unit::Escaped(b) if FORBIDDEN_ESCAPED.contains(b)))
    {
        return Err(CanonError::ForbiddenInPath);
    }
    if rest.is_empty() {
        return Ok(Path {
            segments: Vec::new(),
            trailing_slash: false,
        });
    }
    let (body, trailing_slash) = match rest.strip_suffix('/') {
        Some(body) => (body, true),
        None => (rest, false),
    };
    let segments = body
        .split('/')
        .map(segment)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Path {
        segments,
        trailing_slash,
    })
}

fn segment(raw: &str) -> Result<String, CanonError> {
    if raw.is_empty() || raw == "." || raw == ".." {
        return Err(CanonError::BadSegment);
    }
    percent::decode_text(raw).map_err(|e| match e {
        TextError::BadEscape => CanonError::BadEscape,
        TextError::NotUtf8 => CanonError::PathEncoding,
        TextError::Control => CanonError::ForbiddenInPath,
    })
}
