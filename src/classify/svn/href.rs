//! URLs that svn requests carry inside them: the `Destination` of COPY/MOVE (an absolute
//! URL, as mod_dav requires) and the source `href` of a MERGE (an absolute URL or an absolute
//! path). Apache resolves both like a request path, so their path passes the request line's
//! own checker ([`crate::canon::parse_path`], PROTOCOLS.md R2), after a stricter character
//! check: only RFC 3986 path characters may appear unescaped (no `?`, `#`, spaces…).

use crate::canon::CanonError;

/// Why a URL was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BadUrl(pub(super) &'static str);

/// An absolute URL or path, reduced to what routing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPath<'a> {
    /// The path as written (starts with `/`), to rewrite or forward.
    pub raw_path: &'a str,
    /// Its decoded, non-empty segments.
    pub segments: Vec<String>,
}

/// Whether a bare absolute path (`/svn/repo/…`) is accepted besides `http(s)://host/…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Form {
    AbsoluteUrl,
    UrlOrPath,
}

/// Parses `value` as an absolute `http`/`https` URL (scheme in lower case, no user info) or,
/// when `form` allows it, an absolute path.
pub(super) fn parse(value: &str, form: Form) -> Result<UrlPath<'_>, BadUrl> {
    let raw_path = if let Some(rest) = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
    {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        check_authority(authority)?;
        path
    } else if form == Form::UrlOrPath && value.starts_with('/') {
        value
    } else {
        return Err(BadUrl("is not an absolute http(s) URL"));
    };
    if !raw_path.starts_with('/') {
        return Err(BadUrl("has no path"));
    }
    Ok(UrlPath {
        raw_path,
        segments: segments(raw_path)?,
    })
}

fn check_authority(authority: &str) -> Result<(), BadUrl> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b);
    if authority.is_empty() || !authority.bytes().all(allowed) {
        return Err(BadUrl("has an unusual host"));
    }
    Ok(())
}

/// Bytes a path may carry unescaped: RFC 3986 `pchar` and `/`, without `;`.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/%".contains(&b)
}

fn segments(raw_path: &str) -> Result<Vec<String>, BadUrl> {
    if !raw_path.bytes().all(is_path_byte) {
        return Err(BadUrl("contains a character that must be escaped"));
    }
    crate::canon::parse_path(raw_path)
        .map(|(segments, _trailing_slash)| segments)
        .map_err(|error| {
            BadUrl(match error {
                CanonError::BadSegment => "has an empty, '.' or '..' segment",
                CanonError::BadEscape => "has a bad escape",
                CanonError::PathEncoding => "is not UTF-8 after decoding",
                CanonError::ForbiddenInPath => {
                    "contains a forbidden character or escape ('/', '\\', '.', NUL or a control)"
                }
                _ => "is not a plain path",
            })
        })
}
