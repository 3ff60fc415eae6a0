//! Store health as the change-feed poll sees it: the store counts as available until the
//! grace has passed since the last successful poll.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

// tokio's clock (the system's monotonic clock unless a test paused it).
use tokio::time::Instant;

#[derive(Debug)]
pub struct Health {
    origin: Instant,
    last_ok_ms: AtomicU64,
    grace: Duration,
    /// Whether the latest check succeeded.
    up: AtomicBool,
}

impl Health {
    pub fn new(grace: Duration) -> Self {
        Health {
            origin: Instant::now(),
            last_ok_ms: AtomicU64::new(0),
            grace,
            up: AtomicBool::new(false),
        }
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub fn record_ok(&self) {
        self.last_ok_ms.store(self.elapsed_ms(), Ordering::Release);
        self.up.store(true, Ordering::Release);
    }

    pub fn record_failure(&self) {
        self.up.store(false, Ordering::Release);
    }

    /// Whether the latest check of the store succeeded, and within the grace (a check
    /// still waiting for an unreachable store does not count as up): `vcsgate_store_up`.
    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire) && self.is_available()
    }

    /// Time since the store last answered.
    pub fn since_last_ok(&self) -> Duration {
        Duration::from_millis(
            self.elapsed_ms()
                .saturating_sub(self.last_ok_ms.load(Ordering::Acquire)),
        )
    }

    /// The configured outage grace.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    pub fn is_available(&self) -> bool {
        self.since_last_ok() <= self.grace
    }
}
