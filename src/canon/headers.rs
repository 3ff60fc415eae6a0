//! R1 (no protocol upgrades, no `Connection` option that would withhold a classified
//! header from the backend) and R5 (headers a client must not be able to set).

use http::HeaderMap;
use http::header::UPGRADE;

use super::hop_by_hop;

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

/// Refuses a `Connection` option naming a header the request carries, other than a
/// hop-by-hop one. The proxy removes the headers `Connection` names before forwarding
/// (RFC 9110 §7.6.1); naming `X-HgArg-1`, `X-HgArgs-Post`, `Destination` or `Content-Type`
/// would let the classifier read a header the backend never receives.
pub(super) fn refuse_connection_options(headers: &HeaderMap) -> Result<(), CanonError> {
    for token in hop_by_hop::connection_options(headers) {
        // `close` is an option, not a header; hop-by-hop headers are removed anyway and the
        // proxy never classifies on them.
        let hop_by_hop = token.eq_ignore_ascii_case(b"close") || hop_by_hop::is_hop_by_hop(token);
        let present = http::HeaderName::from_bytes(token).is_ok_and(|n| headers.contains_key(n));
        if present && !hop_by_hop {
            return Err(CanonError::ConnectionOption);
        }
    }
    Ok(())
}

/// R1: refuses `Upgrade` (WebSocket, h2c, …) in any form.
pub(super) fn refuse_upgrade(headers: &HeaderMap) -> Result<(), CanonError> {
    if headers.contains_key(UPGRADE) {
        return Err(CanonError::Upgrade);
    }
    let connection_upgrade =
        hop_by_hop::connection_options(headers).any(|token| token.eq_ignore_ascii_case(b"upgrade"));
    if connection_upgrade {
        return Err(CanonError::Upgrade);
    }
    Ok(())
}
