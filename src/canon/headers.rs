//! R1 (no protocol upgrades) and R5 (headers a client must not be able to set).

use http::HeaderMap;
use http::header::{CONNECTION, UPGRADE};

use super::CanonError;

/// Every header name removed by [`strip_untrusted_headers`], in lower case (names are
/// case-insensitive). Names containing `_` are removed as well, whatever they are.
pub const UNTRUSTED_HEADERS: &[&str] = &[
    // Method overrides: a backend honouring one would run another method than the one
    // classified.
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    // Identity headers that reverse proxies set for their backends: a client-sent one would
    // be believed by a backend configured to trust them.
    "remote-user",
    "x-remote-user",
    "x-forwarded-user",
    "x-remote-username",
    "x-auth-user",
    "x-user",
    "auth-user",
    "x-forwarded-email",
    "x-forwarded-preferred-username",
    "x-auth-request-user",
    "x-auth-request-email",
];

/// Whether [`strip_untrusted_headers`] removes a header of this name.
pub fn is_untrusted_header(name: &str) -> bool {
    name.contains('_')
        || UNTRUSTED_HEADERS
            .iter()
            .any(|listed| listed.eq_ignore_ascii_case(name))
}

/// Removes method-override headers, client-sent identity headers and header names
/// containing `_` (R5): CGI and WSGI map `X_Foo` and `X-Foo` to the same variable, as nginx
/// knows when it drops them. Called before classifying and before forwarding.
pub fn strip_untrusted_headers(headers: &mut HeaderMap) {
    let doomed: Vec<_> = headers
        .keys()
        .filter(|name| is_untrusted_header(name.as_str()))
        .cloned()
        .collect();
    for name in doomed {
        headers.remove(&name);
    }
}

/// R1: refuses `Upgrade` (WebSocket, h2c, …) in any form.
pub(super) fn refuse_upgrade(headers: &HeaderMap) -> Result<(), CanonError> {
    if headers.contains_key(UPGRADE) {
        return Err(CanonError::Upgrade);
    }
    let connection_upgrade = headers
        .get_all(CONNECTION)
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .any(|token| token.trim_ascii().eq_ignore_ascii_case(b"upgrade"));
    if connection_upgrade {
        return Err(CanonError::Upgrade);
    }
    Ok(())
}
