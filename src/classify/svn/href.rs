//! URLs that svn requests carry inside them: the `Destination` of COPY/MOVE (an absolute
//! URL, as mod_dav requires) and the source `href` of a MERGE (an absolute URL or an absolute
//! path). Apache resolves both like a request path, so they pass the same strict rules as one
//! (PROTOCOLS.md R2): no `\`, control bytes, `;`, `?`, `#`, `%2F`, `%5C`, `%00`, `%2E`,
//! bad escapes, empty, `.` or `..` segments.
//!
//! This is a small strict copy of the path rules; when `crate::canon` exposes its path
//! checker, this module should call it instead.

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
    let inner = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    if inner.is_empty() {
        return Ok(Vec::new());
    }
    inner.split('/').map(decode_segment).collect()
}

fn decode_segment(raw: &str) -> Result<String, BadUrl> {
    if raw.is_empty() || raw == "." || raw == ".." {
        return Err(BadUrl("has an empty, '.' or '..' segment"));
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte != b'%' {
            out.push(byte);
            i += 1;
            continue;
        }
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
            return Err(BadUrl("has a bad escape"));
        };
        let decoded = u8::try_from(high * 16 + low).map_err(|_| BadUrl("has a bad escape"))?;
        if matches!(decoded, b'/' | b'\\' | b'.' | 0) || decoded.is_ascii_control() {
            return Err(BadUrl("escapes '/', '\\', '.' or a control byte"));
        }
        out.push(decoded);
        i += 3;
    }
    String::from_utf8(out).map_err(|_| BadUrl("is not UTF-8 after decoding"))
}
