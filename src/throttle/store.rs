//! The state behind governor's rate limiter: one theoretical arrival time (GCRA state,
//! nanoseconds since the limiter started) per [`ClientKey`], in a map this module owns so
//! that it can be bounded. A [`Probe`] either consumes a cell (a failure happened) or only
//! asks whether one is available (is this address throttled?) without changing anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use dashmap::DashMap;
use governor::nanos::Nanos;
use governor::state::StateStore;
use governor::state::keyed::ShrinkableKeyedStateStore;

use super::ClientKey;

/// A rate-limiter key: the client, and whether the decision is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Probe {
    pub key: ClientKey,
    pub consume: bool,
}

pub(super) type Map = DashMap<ClientKey, AtomicU64>;

/// The limiter's view of the shared map.
#[derive(Debug, Clone, Default)]
pub(super) struct Tracked {
    pub map: Arc<Map>,
}

impl StateStore for Tracked {
    type Key = Probe;

    fn measure_and_replace<T, F, E>(&self, probe: &Probe, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        if !probe.consume {
            let tat = self
                .map
                .get(&probe.key)
                .map(|state| state.load(Ordering::Acquire));
            return f(stored(tat)).map(|(outcome, _)| outcome);
        }
        if let Some(state) = self.map.get(&probe.key) {
            return replace(&state, f);
        }
        let state = self.map.entry(probe.key).or_default();
        replace(&state, f)
    }
}

impl ShrinkableKeyedStateStore<Probe> for Tracked {
    fn retain_recent(&self, drop_below: Nanos) {
        let below = drop_below.as_u64();
        self.map
            .retain(|_, state| state.load(Ordering::Relaxed) > below);
    }

    fn shrink_to_fit(&self) {
        self.map.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Zero means "no state yet" (a recorded time is never zero: it is at least one refill).
fn stored(tat: Option<u64>) -> Option<Nanos> {
    tat.filter(|t| *t != 0).map(Nanos::new)
}

/// Applies `f` to the state, retrying if another thread changed it meanwhile.
fn replace<T, F, E>(state: &AtomicU64, f: F) -> Result<T, E>
where
    F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
{
    let mut previous = state.load(Ordering::Acquire);
    loop {
        let (outcome, next) = f(stored(Some(previous)))?;
        match state.compare_exchange_weak(
            previous,
            next.as_u64(),
            Ordering::Release,
            Ordering::Acquire,
        ) {
            Ok(_) => return Ok(outcome),
            Err(current) => previous = current,
        }
    }
}

/// Removes the entries with the earliest arrival times (the addresses closest to being
/// forgiven anyway) until at most `keep` remain. One pass to choose a threshold, one to
/// remove: O(n), run once per `capacity / 8` new addresses at most.
pub(super) fn shed_oldest(map: &Map, keep: usize) {
    let mut times: Vec<u64> = map
        .iter()
        .map(|entry| entry.value().load(Ordering::Relaxed))
        .collect();
    let Some(excess) = times.len().checked_sub(keep).filter(|n| *n > 0) else {
        return;
    };
    let (_, threshold, _) = times.select_nth_unstable(excess - 1);
    let threshold = *threshold;
    let earlier = times.iter().filter(|t| **t < threshold).count();
    let mut ties = excess.saturating_sub(earlier);
    map.retain(|_, state| {
        let tat = state.load(Ordering::Relaxed);
        if tat < threshold {
            false
        } else if tat == threshold && ties > 0 {
            ties -= 1;
            false
        } else {
            true
        }
    });
}
