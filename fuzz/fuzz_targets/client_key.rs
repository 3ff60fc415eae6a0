//! Trusted-proxy parsing and the client key from `X-Forwarded-For` never panic; the key is
//! the peer's unless the peer is trusted, and otherwise an address the header or peer named.
//! Input: first line a CIDR to parse, then one `X-Forwarded-For` value per line; the first
//! byte picks the peer.
#![no_main]

use std::net::IpAddr;

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use vcsgate::throttle::{Cidr, ClientKey, TrustedProxies, client_key};

const PEERS: &[&str] = &["10.0.0.1", "::ffff:10.0.0.2", "2001:db8::1", "192.0.2.1"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|b| *b == b'\n');
    if let Some(Ok(text)) = lines.next().map(std::str::from_utf8) {
        let _ = text.parse::<Cidr>();
    }
    let values: Vec<HeaderValue> = lines
        .filter_map(|l| HeaderValue::from_bytes(l).ok())
        .collect();
    let Ok(trusted) = TrustedProxies::parse(&["10.0.0.0/8", "2001:db8::/32"]) else {
        panic!("fixed trusted list does not parse");
    };
    let Ok(peer) = PEERS[usize::from(pick) % PEERS.len()].parse::<IpAddr>() else {
        return;
    };
    let key = client_key(peer, &values, &trusted);
    if !trusted.contains(peer) {
        assert_eq!(key, ClientKey::of(peer));
        return;
    }
    let named = values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|e| e.trim_matches([' ', '\t']).parse::<IpAddr>().ok())
        .chain(std::iter::once(peer))
        .any(|a| ClientKey::of(a) == key);
    assert!(named, "key {key} names no address in the request");
});
