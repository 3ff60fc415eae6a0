//! Throttling failed authentication (DESIGN.md: "401, throttling 429").
//!
//! Failures — a 401 for credentials that were presented — are counted per client
//! ([`ClientKey`]: an IPv4 address or an IPv6 /64) in a governor GCRA bucket: an address
//! may fail `burst` times in a row, then one more time per `refill`. Once its bucket is
//! empty, requests from it whose credentials are not already known to be valid get 429 with
//! `Retry-After`; known-valid tokens are never throttled (the handler asks
//! [`Authenticator::begin`](crate::authn::Authenticator::begin) first), so
//! one stale CI token behind a NAT does not lock out its neighbours. A request without
//! credentials, a 403 and a 503 are not failures ([`counts_as_failure`]). An unknown but
//! well-formed token costs one store lookup and, failing, one cell: that is the per-address
//! limit on store lookups.
//!
//! Memory is bounded: at most `max_tracked` addresses are remembered (plus the requests in
//! flight while room is being made). Reaching the cap first forgets addresses whose bucket
//! has refilled, then the ones closest to refilled, down to 7/8 of the cap; [`Throttle::sweep`]
//! forgets refilled addresses and may be called periodically.
//!
//! Handler sketch:
//! ```text
//! let key = throttle::client_key(peer.ip(), headers.get_all("x-forwarded-for"), &trusted);
//! let attempt = authn.begin(&presented, now);        // memory only
//! if !matches!(attempt, Ok(Attempt::Known(_))) { throttle.check(key)?; }     // 429
//! match attempt?.finish_with_one_store_lookup().await {
//!     Err(e) if throttle::counts_as_failure(&e) => { throttle.record_failure(key); .. } // 401
//!     ..
//! }
//! ```

mod client;
mod store;

#[cfg(test)]
mod tests;

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, TryLockError};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::{Quota, RateLimiter};

use crate::authn::AuthError;
use store::{Map, Probe, Tracked};

pub use client::{Cidr, CidrError, ClientKey, TrustedProxies, client_ip, client_key};

/// Failures an address may have in a row before it is throttled.
pub const DEFAULT_BURST: u32 = 20;
/// After the burst, this many more failures are allowed per minute (`[throttle] per_minute`).
pub const DEFAULT_PER_MINUTE: u32 = 60;
/// The same rate as an interval: one more failure allowed per this interval.
pub const DEFAULT_REFILL: Duration = Duration::from_secs(60 / DEFAULT_PER_MINUTE as u64);
/// Most addresses remembered at once (about 100 bytes each).
pub const DEFAULT_MAX_TRACKED: usize = 65_536;

/// Accepted ranges for the settings.
pub const MAX_BURST: u32 = 100_000;
pub const MIN_REFILL: Duration = Duration::from_millis(1);
pub const MAX_REFILL: Duration = Duration::from_secs(24 * 60 * 60);
pub const MAX_PER_MINUTE: u32 = 60_000;
pub const MIN_TRACKED: usize = 16;
pub const MAX_TRACKED: usize = 16_777_216;

/// Why throttling settings were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("burst must be between 1 and {MAX_BURST}, not {given}")]
    Burst { given: u32 },
    #[error("refill interval must be between {MIN_REFILL:?} and {MAX_REFILL:?}, not {given:?}")]
    Refill { given: Duration },
    #[error("per_minute must be between 1 and {MAX_PER_MINUTE}, not {given}")]
    PerMinute { given: u32 },
    #[error("max_tracked must be between {MIN_TRACKED} and {MAX_TRACKED}, not {given}")]
    MaxTracked { given: usize },
}

/// Validated throttling settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    quota: Quota,
    max_tracked: usize,
}

impl ThrottleConfig {
    pub fn new(burst: u32, refill: Duration, max_tracked: usize) -> Result<Self, ConfigError> {
        let burst = NonZeroU32::new(burst)
            .filter(|b| b.get() <= MAX_BURST)
            .ok_or(ConfigError::Burst { given: burst })?;
        let quota = Some(refill)
            .filter(|r| (MIN_REFILL..=MAX_REFILL).contains(r))
            .and_then(Quota::with_period)
            .ok_or(ConfigError::Refill { given: refill })?
            .allow_burst(burst);
        if !(MIN_TRACKED..=MAX_TRACKED).contains(&max_tracked) {
            return Err(ConfigError::MaxTracked { given: max_tracked });
        }
        Ok(ThrottleConfig { quota, max_tracked })
    }

    /// The config file's form: `burst`, `per_minute`, `max_tracked_clients`.
    pub fn per_minute(
        burst: u32,
        per_minute: u32,
        max_tracked: usize,
    ) -> Result<Self, ConfigError> {
        if !(1..=MAX_PER_MINUTE).contains(&per_minute) {
            return Err(ConfigError::PerMinute { given: per_minute });
        }
        let refill = Duration::from_secs(60) / per_minute;
        ThrottleConfig::new(burst, refill, max_tracked)
    }

    pub fn burst(&self) -> u32 {
        self.quota.burst_size().get()
    }

    pub fn refill(&self) -> Duration {
        self.quota.replenish_interval()
    }

    pub fn max_tracked(&self) -> usize {
        self.max_tracked
    }
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        let burst = NonZeroU32::new(DEFAULT_BURST).unwrap_or(NonZeroU32::MIN);
        ThrottleConfig {
            quota: Quota::with_period(DEFAULT_REFILL)
                .unwrap_or(Quota::per_second(NonZeroU32::MIN))
                .allow_burst(burst),
            max_tracked: DEFAULT_MAX_TRACKED,
        }
    }
}

/// The address has failed too often; answer 429 with `Retry-After: retry_after_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many failed authentications from this address; retry in {retry_after_secs} s")]
pub struct Throttled {
    pub retry_after_secs: u64,
}

/// Whether an authentication error is a failure that counts against the address: presented
/// credentials that are not valid. No credentials (every client's first request) and an
/// unavailable store do not count.
pub fn counts_as_failure(error: &AuthError) -> bool {
    match error {
        AuthError::Credentials(_)
        | AuthError::Format(_)
        | AuthError::Unknown
        | AuthError::Standing(_)
        | AuthError::Oidc(_) => true,
        AuthError::Missing | AuthError::StoreUnavailable => false,
    }
}

/// Failed-authentication throttling, shared by all connections.
#[derive(Debug)]
pub struct Throttle<C: Clock = DefaultClock> {
    limiter: RateLimiter<Probe, Tracked, C, NoOpMiddleware<C::Instant>>,
    map: Arc<Map>,
    max_tracked: usize,
    making_room: Mutex<()>,
}

impl Throttle {
    pub fn new(config: ThrottleConfig) -> Self {
        Throttle::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock> Throttle<C> {
    pub fn with_clock(config: ThrottleConfig, clock: C) -> Self {
        let tracked = Tracked::default();
        let map = Arc::clone(&tracked.map);
        Throttle {
            limiter: RateLimiter::new(config.quota, tracked, clock),
            map,
            max_tracked: config.max_tracked,
            making_room: Mutex::new(()),
        }
    }

    /// Before authenticating credentials that are not known to be valid: refuses an address
    /// whose failure budget is spent. Changes nothing.
    pub fn check(&self, key: ClientKey) -> Result<(), Throttled> {
        self.limiter
            .check_key(&Probe {
                key,
                consume: false,
            })
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Throttled {
                    retry_after_secs: whole_seconds_at_least_one(wait),
                }
            })
    }

    /// After a 401 for presented credentials ([`counts_as_failure`]).
    pub fn record_failure(&self, key: ClientKey) {
        // A refusal here means the budget is already spent: nothing more to record.
        let _ = self.take(key);
    }

    /// Takes one unit of the client's budget before a store lookup, whatever its outcome,
    /// or refuses when the budget is spent. Taking it up front means concurrent requests
    /// from one client cannot look up more tokens than the budget allows (checking first
    /// and charging after the lookup let every request in flight through).
    pub fn reserve(&self, key: ClientKey) -> Result<(), Throttled> {
        self.take(key)
    }

    fn take(&self, key: ClientKey) -> Result<(), Throttled> {
        if self.map.len() >= self.max_tracked && !self.map.contains_key(&key) {
            self.make_room();
        }
        self.limiter
            .check_key(&Probe { key, consume: true })
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(self.limiter.clock().now());
                Throttled {
                    retry_after_secs: whole_seconds_at_least_one(wait),
                }
            })
    }

    /// Forgets addresses whose budget has refilled (call periodically, e.g. every minute).
    pub fn sweep(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }

    /// How many addresses are remembered.
    pub fn tracked(&self) -> usize {
        self.map.len()
    }

    fn make_room(&self) {
        let _guard = match self.making_room.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            // Another request is making room right now.
            Err(TryLockError::WouldBlock) => return,
        };
        if self.map.len() < self.max_tracked {
            return;
        }
        self.limiter.retain_recent();
        let keep = self.max_tracked - self.max_tracked / 8;
        let before = self.map.len();
        if before > keep {
            store::shed_oldest(&self.map, keep);
            tracing::warn!(
                tracked = before,
                kept = self.map.len(),
                "throttle: too many failing addresses; forgot those closest to their refill"
            );
        }
    }
}

fn whole_seconds_at_least_one(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}
