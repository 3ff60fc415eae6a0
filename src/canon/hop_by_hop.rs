//! Hop-by-hop headers (RFC 9110 §7.6.1): the one list and the one `Connection` parser that
//! canonicalisation, forwarding and the CGI backend share.

use http::HeaderMap;
use http::header::{self, HeaderName};

/// Headers that describe one connection, never forwarded in either direction.
pub const HEADERS: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// Whether `name` (any case) is a hop-by-hop header.
pub fn is_hop_by_hop(name: &[u8]) -> bool {
    HEADERS
        .iter()
        .any(|known| known.as_str().as_bytes().eq_ignore_ascii_case(name))
}

/// The options listed in every `Connection` header, trimmed, empty ones skipped.
pub fn connection_options(headers: &HeaderMap) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|option| !option.is_empty())
}

/// Removes the hop-by-hop headers and every header a `Connection` option names.
pub fn remove(headers: &mut HeaderMap) {
    remove_with(headers, &[]);
}

/// Like [`remove`], and also the headers in `also`: one pass over the names present, so a
/// request carrying few headers costs few lookups.
pub fn remove_with(headers: &mut HeaderMap, also: &[HeaderName]) {
    // Options that are hop-by-hop anyway (`keep-alive`) or no header (`close`) name nothing
    // more to remove.
    let named: Vec<HeaderName> = connection_options(headers)
        .filter(|option| !option.eq_ignore_ascii_case(b"close") && !is_hop_by_hop(option))
        .filter_map(|option| HeaderName::from_bytes(option).ok())
        .collect();
    let doomed =
        |name: &&HeaderName| HEADERS.contains(name) || also.contains(name) || named.contains(name);
    // One removal per scan, without a list of the doomed: requests carry few headers, and
    // most carry none or one of these.
    while let Some(name) = headers.keys().find(doomed).cloned() {
        headers.remove(&name);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn options_are_split_trimmed_and_gathered_from_every_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::CONNECTION, " close , X-A,,".parse().unwrap());
        headers.append(header::CONNECTION, "Keep-Alive".parse().unwrap());
        let options: Vec<&[u8]> = connection_options(&headers).collect();
        assert_eq!(options, [&b"close"[..], b"X-A", b"Keep-Alive"]);
    }

    #[test]
    fn remove_drops_the_list_and_the_named_headers_only() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONNECTION, "x-named".parse().unwrap());
        headers.insert("x-named", "1".parse().unwrap());
        headers.insert("keep-alive", "timeout=5".parse().unwrap());
        headers.insert(header::TE, "trailers".parse().unwrap());
        headers.insert(header::UPGRADE, "h2c".parse().unwrap());
        headers.insert("x-kept", "1".parse().unwrap());
        remove(&mut headers);
        let left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["x-kept"]);
    }

    #[test]
    fn hop_by_hop_names_match_in_any_case() {
        assert!(is_hop_by_hop(b"Transfer-Encoding"));
        assert!(is_hop_by_hop(b"upgrade"));
        assert!(!is_hop_by_hop(b"content-length"));
    }
}
