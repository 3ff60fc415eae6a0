//! Header hygiene towards the backend and back (DESIGN.md "HTTP behaviour"): credentials,
//! cookies, hop-by-hop headers and those named in `Connection` never cross; `X-Forwarded-*`
//! and `Forwarded` are set by vcsgate; the backend learns the user only the way the route
//! says; `Location` pointing at the backend is rewritten to the public URL.

use std::fmt::Write as _;
use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::{self, HeaderName};
use http::{HeaderMap, HeaderValue};

use crate::config::BackendIdentity;
use crate::names::UserName;

/// Headers a client may not pass to the backend at all.
const CLIENT_ONLY: [HeaderName; 9] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::HOST,
    header::UPGRADE,
    header::FORWARDED,
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-forwarded-proto"),
    HeaderName::from_static("x-forwarded-host"),
    HeaderName::from_static("x-real-ip"),
];

pub use crate::canon::hop_by_hop::remove as remove_hop_by_hop;

/// What the proxy tells the backend about the client.
#[derive(Debug)]
pub struct ForwardedFor<'a> {
    pub peer: SocketAddr,
    pub tls: bool,
    /// The host the client asked for (`Host` or `:authority`), if any.
    pub host: Option<&'a str>,
}

/// Prepares request headers for the backend. `user` is set once the request is authorized.
pub fn to_backend(
    headers: &mut HeaderMap,
    forwarded: &ForwardedFor<'_>,
    identity: &BackendIdentity,
    user: &UserName,
) {
    crate::canon::hop_by_hop::remove_with(headers, &CLIENT_ONLY);
    if let BackendIdentity::Header(name) = identity {
        headers.remove(name);
    }
    let proto = if forwarded.tls { "https" } else { "http" };
    let ip = forwarded.peer.ip();
    let mut forwarded_value = String::with_capacity(96);
    forwarded_value.push_str("for=");
    match ip {
        std::net::IpAddr::V4(v4) => {
            let _ = write!(forwarded_value, "{v4}");
            insert(headers, "x-forwarded-for", forwarded_value[4..].to_owned());
        }
        std::net::IpAddr::V6(v6) => {
            insert(headers, "x-forwarded-for", v6.to_string());
            let _ = write!(forwarded_value, "\"[{v6}]\"");
        }
    }
    let _ = write!(forwarded_value, ";proto={proto}");
    headers.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static(proto),
    );
    if let Some(host) = forwarded.host.filter(|h| is_plain_host(h)) {
        insert(headers, "x-forwarded-host", host.to_owned());
        let _ = write!(forwarded_value, ";host=\"{host}\"");
    }
    insert(headers, "forwarded", forwarded_value);
    match identity {
        BackendIdentity::None => {}
        BackendIdentity::Header(name) => {
            if let Ok(value) = HeaderValue::from_str(user.as_str()) {
                headers.insert(name.clone(), value);
            }
        }
        BackendIdentity::Basic(secret) => {
            let credentials = STANDARD.encode(format!("{}:{}", user, secret.expose()));
            if let Ok(mut value) = HeaderValue::from_str(&format!("Basic {credentials}")) {
                value.set_sensitive(true);
                headers.insert(header::AUTHORIZATION, value);
            }
        }
    }
}

/// Inserts `value` as built (its buffer becomes the header's: no copy).
fn insert(headers: &mut HeaderMap, name: &'static str, value: String) {
    if let Ok(value) = HeaderValue::from_maybe_shared(bytes::Bytes::from(value)) {
        headers.insert(HeaderName::from_static(name), value);
    }
}

/// Appends `name: value` lines (CRLF-terminated) for every field of `headers`, as an
/// HTTP/1.1 head carries them (the lane's answers and the lean exchange's requests).
pub fn write_fields(out: &mut Vec<u8>, headers: &HeaderMap) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
}

/// A host[:port] without anything that could break out of a header parameter.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// Where the backend lives and where the public sees it, for rewriting `Location`.
#[derive(Debug)]
pub struct LocationRewrite<'a> {
    /// `scheme://authority` of the backend.
    pub backend_origin: &'a str,
    /// The backend URL's path for this route (no trailing `/`).
    pub backend_base: &'a str,
    /// `scheme://host` the client used, when known.
    pub public_origin: Option<&'a str>,
    /// The route prefix (no trailing `/`, `""` for the root route).
    pub prefix: &'a str,
}

/// Cleans response headers and rewrites a `Location` that points at the backend.
pub fn from_backend(headers: &mut HeaderMap, rewrite: &LocationRewrite<'_>) {
    remove_hop_by_hop(headers);
    headers.remove(header::UPGRADE);
    let Some(location) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
        return;
    };
    let path = match location.strip_prefix(rewrite.backend_origin) {
        Some(rest) if rest.starts_with('/') || rest.is_empty() => Some((rest, true)),
        Some(_) => None,
        None if location.starts_with('/') => Some((location, false)),
        None => None,
    };
    let Some((path, absolute)) = path else {
        return;
    };
    let Some(below) = strip_base(path, rewrite.backend_base) else {
        return;
    };
    let public_path = format!("{}{}", rewrite.prefix, below);
    let new = match (absolute, rewrite.public_origin) {
        (true, Some(origin)) => format!("{origin}{public_path}"),
        _ => public_path,
    };
    if let Ok(value) = HeaderValue::from_str(&new) {
        headers.insert(header::LOCATION, value);
    }
}

fn strip_base<'p>(path: &'p str, base: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(base)?;
    (rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')).then_some(rest)
}

#[cfg(test)]
mod tests;
