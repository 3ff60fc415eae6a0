//! Who a request comes from, for throttling: the peer address, or — when the peer is a trusted
//! proxy — the rightmost address in `X-Forwarded-For` that is not a trusted proxy. IPv6
//! clients are grouped by /64 (one subscriber's network); IPv4-mapped IPv6 counts as IPv4.
//! Pure functions, no IO.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use http::HeaderValue;

/// The unit failures are counted against: one IPv4 address or one IPv6 /64 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientKey {
    V4(Ipv4Addr),
    /// The upper 64 bits of an IPv6 address.
    V6Net(u64),
}

impl ClientKey {
    pub fn of(addr: IpAddr) -> Self {
        match normalise(addr) {
            IpAddr::V4(v4) => ClientKey::V4(v4),
            IpAddr::V6(v6) => {
                let prefix = u64::try_from(u128::from(v6) >> 64).unwrap_or(u64::MAX);
                ClientKey::V6Net(prefix)
            }
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::V4(v4) => write!(f, "{v4}"),
            ClientKey::V6Net(prefix) => {
                write!(f, "{}/64", Ipv6Addr::from(u128::from(*prefix) << 64))
            }
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 address it maps.
fn normalise(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        IpAddr::V4(_) => addr,
    }
}

/// Why a trusted-proxy entry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("{given:?} is not an IP address or ADDRESS/PREFIX network")]
    Address { given: String },
    #[error("{given:?}: prefix length must be at most {max}")]
    Prefix { given: String, max: u8 },
}

/// One address or network, e.g. `10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, normalise(addr)) {
            (IpAddr::V4(net), IpAddr::V4(a)) => same_prefix(
                u128::from(u32::from(net)),
                u128::from(u32::from(a)),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                same_prefix(u128::from(net), u128::from(a), 128, self.prefix)
            }
            (IpAddr::V4(_), IpAddr::V6(_)) | (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

/// Whether the top `prefix` bits of two `width`-bit numbers agree.
fn same_prefix(a: u128, b: u128, width: u8, prefix: u8) -> bool {
    let shift = u32::from(width.saturating_sub(prefix));
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Self, CidrError> {
        let address_error = || CidrError::Address {
            given: crate::canon::truncated(text),
        };
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let parsed: IpAddr = addr_text.parse().map_err(|_| address_error())?;
        let network = normalise(parsed);
        if network != parsed && prefix_text.is_some() {
            // `::ffff:10.0.0.0/8`: IPv4 or IPv6 prefix bits? Ambiguous, so refused.
            return Err(address_error());
        }
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| CidrError::Prefix {
                    given: crate::canon::truncated(text),
                    max,
                })?,
            Some(_) => return Err(address_error()),
        };
        Ok(Cidr { network, prefix })
    }
}

/// Proxies whose `X-Forwarded-For` is believed. Empty (the default) believes nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Cidr>,
}

impl TrustedProxies {
    pub fn new(networks: Vec<Cidr>) -> Self {
        TrustedProxies { networks }
    }

    /// Parses config entries such as `["10.0.0.0/8", "::1"]`.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, CidrError> {
        let networks = entries
            .iter()
            .map(|e| e.as_ref().parse())
            .collect::<Result<Vec<Cidr>, CidrError>>()?;
        Ok(TrustedProxies { networks })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        self.networks.iter().any(|net| net.contains(addr))
    }
}

/// The throttling key of a request from `peer` carrying these `X-Forwarded-For` values (in
/// the order received; pass `headers.get_all("x-forwarded-for")`).
///
/// Only a trusted peer's header is read. Walking from the right, each trusted hop vouches
/// for the entry to its left; the first address that is not a trusted proxy is the client.
/// An entry that is not a bare IP address (malformed, `unknown`, with a port) ends the walk
/// and the nearest address already vouched for is used (a trusted proxy — stricter, never
/// looser). A header made only of trusted addresses yields its leftmost one.
pub fn client_key<'a, I>(peer: IpAddr, xff: I, trusted: &TrustedProxies) -> ClientKey
where
    I: IntoIterator<Item = &'a HeaderValue>,
{
    ClientKey::of(client_ip(peer, xff, trusted))
}

/// The client's address: the peer, or the nearest `X-Forwarded-For` entry not itself a
/// trusted proxy, walking back from the peer (see [`client_key`]).
pub fn client_ip<'a, I>(peer: IpAddr, xff: I, trusted: &TrustedProxies) -> IpAddr
where
    I: IntoIterator<Item = &'a HeaderValue>,
{
    let mut nearest = normalise(peer);
    if !trusted.contains(nearest) {
        return nearest;
    }
    let values: Vec<&HeaderValue> = xff.into_iter().collect();
    for value in values.iter().rev() {
        let Ok(text) = value.to_str() else {
            return nearest;
        };
        for entry in text.rsplit(',') {
            let entry = entry.trim_matches([' ', '\t']);
            let Ok(addr) = entry.parse::<IpAddr>() else {
                return nearest;
            };
            nearest = normalise(addr);
            if !trusted.contains(nearest) {
                return nearest;
            }
        }
    }
    nearest
}
