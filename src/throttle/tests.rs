#![allow(clippy::unwrap_used)]

use std::net::IpAddr;
use std::time::Duration;

use governor::clock::FakeRelativeClock;
use http::{HeaderMap, HeaderValue};

use super::*;
use crate::authorize::Denial;
use crate::credentials::CredentialError;
use crate::token::FormatError;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn key(text: &str) -> ClientKey {
    ClientKey::of(ip(text))
}

fn throttle(
    burst: u32,
    refill_secs: u64,
    max_tracked: usize,
) -> (Throttle<FakeRelativeClock>, FakeRelativeClock) {
    let clock = FakeRelativeClock::default();
    let config = ThrottleConfig::new(burst, Duration::from_secs(refill_secs), max_tracked).unwrap();
    (Throttle::with_clock(config, clock.clone()), clock)
}

#[test]
fn limit_reached_throttles_with_a_sane_retry_after() {
    let (throttle, clock) = throttle(3, 2, 1000);
    let attacker = key("203.0.113.9");
    for attempt in 0..3 {
        assert_eq!(throttle.check(attacker), Ok(()), "attempt {attempt}");
        throttle.record_failure(attacker);
    }
    assert_eq!(
        throttle.check(attacker),
        Err(Throttled {
            retry_after_secs: 2
        })
    );
    // Checking is free: asking again does not extend the wait.
    clock.advance(Duration::from_millis(500));
    assert_eq!(
        throttle.check(attacker),
        Err(Throttled {
            retry_after_secs: 2
        }),
        "1.5 s left rounds up to 2"
    );
    clock.advance(Duration::from_millis(1500));
    assert_eq!(throttle.check(attacker), Ok(()), "one cell refilled");
    throttle.record_failure(attacker);
    assert_eq!(
        throttle.check(attacker),
        Err(Throttled {
            retry_after_secs: 2
        }),
        "after the burst, one failure per refill"
    );
}

#[test]
fn checks_alone_never_throttle() {
    let (throttle, _clock) = throttle(1, 60, 1000);
    let client = key("198.51.100.1");
    for _ in 0..100 {
        assert_eq!(throttle.check(client), Ok(()));
    }
    assert_eq!(throttle.tracked(), 0, "a check records nothing");
}

#[test]
fn default_settings_allow_the_burst_then_throttle_for_about_a_second() {
    let clock = FakeRelativeClock::default();
    let throttle = Throttle::with_clock(ThrottleConfig::default(), clock);
    let client = key("192.0.2.1");
    for _ in 0..DEFAULT_BURST {
        assert_eq!(throttle.check(client), Ok(()));
        throttle.record_failure(client);
    }
    assert_eq!(
        throttle.check(client),
        Err(Throttled {
            retry_after_secs: 1
        })
    );
}

#[test]
fn a_different_address_is_unaffected() {
    let (throttle, _clock) = throttle(2, 60, 1000);
    let attacker = key("203.0.113.9");
    for _ in 0..5 {
        throttle.record_failure(attacker);
    }
    assert!(throttle.check(attacker).is_err());
    assert_eq!(throttle.check(key("203.0.113.10")), Ok(()));
    assert_eq!(throttle.check(key("2001:db8::1")), Ok(()));
}

#[test]
fn ipv6_is_grouped_by_64() {
    let (throttle, _clock) = throttle(2, 60, 1000);
    throttle.record_failure(key("2001:db8:1:2::1"));
    throttle.record_failure(key("2001:db8:1:2:ffff:ffff:ffff:ffff"));
    assert!(
        throttle.check(key("2001:db8:1:2:abcd::7")).is_err(),
        "same /64"
    );
    assert_eq!(throttle.check(key("2001:db8:1:3::1")), Ok(()), "next /64");
    assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:8000::"));
    assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    assert_eq!(key("2001:db8:1:2::1").to_string(), "2001:db8:1:2::/64");
}

#[test]
fn ipv4_mapped_ipv6_is_ipv4() {
    assert_eq!(key("::ffff:192.0.2.1"), key("192.0.2.1"));
    assert_eq!(key("::ffff:192.0.2.1").to_string(), "192.0.2.1");
    // IPv4-compatible (deprecated) addresses are not mapped: they stay IPv6.
    assert_ne!(key("::192.0.2.1"), key("192.0.2.1"));
    let (throttle, _clock) = throttle(1, 60, 1000);
    throttle.record_failure(key("::ffff:192.0.2.1"));
    assert!(throttle.check(key("192.0.2.1")).is_err());
}

#[test]
fn memory_stays_bounded_under_100k_addresses() {
    let cap = 4096;
    let (throttle, clock) = throttle(5, 60, cap);
    let heavy = key("198.51.100.200");
    for _ in 0..5 {
        throttle.record_failure(heavy);
    }
    for i in 0u32..100_000 {
        if i % 1000 == 0 {
            clock.advance(Duration::from_millis(10));
        }
        let addr = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
        throttle.record_failure(ClientKey::of(addr));
        assert!(
            throttle.tracked() <= cap,
            "tracked {} at {i}",
            throttle.tracked()
        );
    }
    assert!(throttle.tracked() >= cap - cap / 8 - 1);
    // The address deepest in debt survived the shedding and is still throttled.
    assert!(throttle.check(heavy).is_err());
}

#[test]
fn default_cap_holds_after_100k_ipv6_networks() {
    let throttle = Throttle::with_clock(ThrottleConfig::default(), FakeRelativeClock::default());
    for i in 0u64..100_000 {
        throttle.record_failure(ClientKey::V6Net(0x2001_0db8_0000_0000 + i));
    }
    assert!(throttle.tracked() <= DEFAULT_MAX_TRACKED);
}

#[test]
fn sweep_forgets_refilled_addresses() {
    let (throttle, clock) = throttle(3, 1, 1000);
    throttle.record_failure(key("192.0.2.1"));
    throttle.record_failure(key("192.0.2.2"));
    for _ in 0..3 {
        throttle.record_failure(key("192.0.2.3"));
    }
    assert_eq!(throttle.tracked(), 3);
    clock.advance(Duration::from_secs(2));
    throttle.sweep();
    assert_eq!(
        throttle.tracked(),
        1,
        "only the address still in debt remains"
    );
    clock.advance(Duration::from_secs(5));
    throttle.sweep();
    assert_eq!(throttle.tracked(), 0);
}

#[test]
fn config_bounds() {
    let secs = Duration::from_secs;
    assert_eq!(
        ThrottleConfig::new(0, secs(1), 100),
        Err(ConfigError::Burst { given: 0 })
    );
    assert!(ThrottleConfig::new(MAX_BURST + 1, secs(1), 100).is_err());
    assert_eq!(
        ThrottleConfig::new(1, Duration::ZERO, 100),
        Err(ConfigError::Refill {
            given: Duration::ZERO
        })
    );
    assert!(ThrottleConfig::new(1, secs(1_000_000), 100).is_err());
    assert!(ThrottleConfig::new(1, secs(1), 1).is_err());
    let config = ThrottleConfig::new(7, secs(3), 100).unwrap();
    assert_eq!(
        (config.burst(), config.refill(), config.max_tracked()),
        (7, secs(3), 100)
    );
    let per_minute = ThrottleConfig::per_minute(5, 6, 1000).unwrap();
    assert_eq!((per_minute.burst(), per_minute.refill()), (5, secs(10)));
    assert_eq!(
        ThrottleConfig::per_minute(5, 0, 1000),
        Err(ConfigError::PerMinute { given: 0 })
    );
    assert!(ThrottleConfig::per_minute(5, MAX_PER_MINUTE + 1, 1000).is_err());
    assert_eq!(
        ThrottleConfig::per_minute(DEFAULT_BURST, DEFAULT_PER_MINUTE, DEFAULT_MAX_TRACKED),
        Ok(ThrottleConfig::default())
    );
    let default = ThrottleConfig::default();
    assert_eq!(
        (default.burst(), default.refill(), default.max_tracked()),
        (DEFAULT_BURST, DEFAULT_REFILL, DEFAULT_MAX_TRACKED)
    );
}

#[test]
fn only_presented_invalid_credentials_count() {
    assert!(!counts_as_failure(&AuthError::Missing));
    assert!(!counts_as_failure(&AuthError::StoreUnavailable));
    assert!(counts_as_failure(&AuthError::Unknown));
    assert!(counts_as_failure(&AuthError::Format(FormatError::Checksum)));
    assert!(counts_as_failure(&AuthError::Credentials(
        CredentialError::Scheme
    )));
    assert!(counts_as_failure(&AuthError::Standing(Denial::Expired)));
}

fn xff(values: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for v in values {
        headers.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
    }
    headers
}

fn via(peer: &str, values: &[&str], trusted: &TrustedProxies) -> ClientKey {
    client_key(ip(peer), xff(values).get_all("x-forwarded-for"), trusted)
}

#[test]
fn forwarded_for_is_ignored_unless_the_peer_is_trusted() {
    let none = TrustedProxies::default();
    assert_eq!(
        via("192.0.2.50", &["203.0.113.1"], &none),
        key("192.0.2.50")
    );
    let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
    assert_eq!(
        via("192.0.2.50", &["203.0.113.1"], &trusted),
        key("192.0.2.50"),
        "untrusted peer"
    );
    assert_eq!(via("10.1.2.3", &[], &trusted), key("10.1.2.3"), "no header");
}

#[test]
fn rightmost_untrusted_address_is_the_client() {
    let trusted = TrustedProxies::parse(&["10.0.0.0/8", "2001:db8:ffff::/48", "::1"]).unwrap();
    // The client forged the first entry; the proxy appended the real one.
    assert_eq!(
        via("10.0.0.1", &["1.1.1.1, 203.0.113.7"], &trusted),
        key("203.0.113.7")
    );
    // Two trusted hops, spaces and tabs around entries.
    assert_eq!(
        via("10.0.0.1", &["1.1.1.1 ,\t203.0.113.7 , 10.9.9.9"], &trusted),
        key("203.0.113.7")
    );
    // Several header lines read as one list, first line leftmost.
    assert_eq!(
        via("10.0.0.1", &["203.0.113.7", "10.2.2.2"], &trusted),
        key("203.0.113.7")
    );
    assert_eq!(
        via("::1", &["1.1.1.1", "2001:db8:1:2::9"], &trusted),
        key("2001:db8:1:2::")
    );
    // A mapped peer matches an IPv4 network.
    assert_eq!(
        via("::ffff:10.0.0.1", &["203.0.113.7"], &trusted),
        key("203.0.113.7")
    );
    // Only trusted addresses: the leftmost one.
    assert_eq!(
        via("10.0.0.1", &["10.3.3.3, 10.2.2.2"], &trusted),
        key("10.3.3.3")
    );
}

#[test]
fn malformed_forwarded_for_stops_at_the_nearest_vouched_address() {
    let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
    for bad in [
        "unknown",
        "",
        "203.0.113.7:8080",
        "[2001:db8::1]",
        "203.0.113.7,",
        "not an ip",
    ] {
        assert_eq!(
            via("10.0.0.1", &[bad], &trusted),
            key("10.0.0.1"),
            "{bad:?}"
        );
    }
    // Garbage left of the client is never reached.
    assert_eq!(
        via("10.0.0.1", &["garbage, 203.0.113.7"], &trusted),
        key("203.0.113.7")
    );
    // Garbage between trusted hops: the trusted hop that wrote it.
    assert_eq!(
        via("10.0.0.1", &["203.0.113.7, junk, 10.5.5.5"], &trusted),
        key("10.5.5.5")
    );
    let opaque = HeaderValue::from_bytes(b"203.0.113.7\xff").unwrap();
    assert_eq!(
        client_key(ip("10.0.0.1"), Some(&opaque), &trusted),
        key("10.0.0.1")
    );
}

#[test]
fn cidr_parsing() {
    let cidr = |s: &str| s.parse::<Cidr>();
    assert!(cidr("10.0.0.0/8").unwrap().contains(ip("10.255.0.1")));
    assert!(!cidr("10.0.0.0/8").unwrap().contains(ip("11.0.0.1")));
    assert!(cidr("192.0.2.7").unwrap().contains(ip("192.0.2.7")));
    assert!(!cidr("192.0.2.7").unwrap().contains(ip("192.0.2.8")));
    assert!(cidr("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    assert!(!cidr("0.0.0.0/0").unwrap().contains(ip("2001:db8::1")));
    assert!(cidr("::/0").unwrap().contains(ip("2001:db8::1")));
    assert!(
        cidr("2001:db8::/32")
            .unwrap()
            .contains(ip("2001:db8:ffff::1"))
    );
    assert!(!cidr("2001:db8::/32").unwrap().contains(ip("2001:db9::1")));
    // A mapped address with a prefix is ambiguous (IPv4 or IPv6 bits?): refused.
    assert!(matches!(
        cidr("::ffff:10.0.0.0/8"),
        Err(CidrError::Address { .. })
    ));
    assert!(cidr("::ffff:10.0.0.1").unwrap().contains(ip("10.0.0.1")));
    assert!(matches!(
        cidr("10.0.0.0/33"),
        Err(CidrError::Prefix { max: 32, .. })
    ));
    assert!(matches!(
        cidr("::/129"),
        Err(CidrError::Prefix { max: 128, .. })
    ));
    for bad in [
        "",
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0/8",
        "host",
        "10.0.0.0/8/8",
        " 10.0.0.1",
    ] {
        assert!(cidr(bad).is_err(), "{bad:?}");
    }
    assert!(TrustedProxies::parse(&["10.0.0.0/8", "nope"]).is_err());
    assert!(TrustedProxies::default().is_empty());
}

/// Store lookups take their unit before they run: lookups in flight together (each passed
/// `check` while the others had not failed yet) can no longer exceed the burst.
#[test]
fn reservations_bound_lookups_in_flight_together() {
    let (throttle, clock) = throttle(5, 10, 1000);
    let client = key("203.0.113.7");
    let granted = (0..20).filter(|_| throttle.reserve(client).is_ok()).count();
    assert_eq!(granted, 5, "the burst, however many arrive at once");
    assert!(
        throttle.check(client).is_err(),
        "spent budget is visible to check"
    );
    clock.advance(Duration::from_secs(10));
    assert_eq!(throttle.reserve(client), Ok(()), "one unit refilled");
    assert!(throttle.reserve(client).is_err());
    // Other clients keep their own budget.
    assert_eq!(throttle.reserve(key("198.51.100.1")), Ok(()));
}
