//! Following the store's change feed. The stores append to it in commit order (SQLite
//! serialises writers; PostgreSQL takes an exclusive lock on the feed before appending), so
//! a poll only needs the entries after the highest seen number. As a defence against a
//! writer that did not, each poll still re-reads a small window below it and processes the
//! entries it has not seen yet.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Authenticator;
use crate::names::UserName;
use crate::store::Error;

/// How far below the highest seen sequence number each poll looks again.
const WINDOW: i64 = 64;
/// Page size of one feed query.
const PAGE: i64 = 500;

#[derive(Debug)]
pub struct ChangeFeed {
    authn: Arc<Authenticator>,
    high_water: i64,
    seen: BTreeSet<i64>,
    failing: bool,
}

impl ChangeFeed {
    /// Starts following from the store's current newest change.
    pub async fn start(authn: Arc<Authenticator>) -> Result<Self, Error> {
        let high_water = authn.store().latest_change().await?;
        authn.health().record_ok();
        Ok(ChangeFeed {
            authn,
            high_water,
            seen: BTreeSet::new(),
            failing: false,
        })
    }

    /// One poll: evict users with new changes, record store health.
    pub async fn poll(&mut self) {
        match self.read_new().await {
            Ok(users) => {
                self.authn.evict_users(&users);
                self.authn.health().record_ok();
                if self.failing {
                    tracing::info!("token store reachable again");
                    self.failing = false;
                }
            }
            Err(error) => {
                if !self.failing {
                    tracing::error!(%error, "token store unreachable; remembered decisions stay valid for the grace period");
                    self.failing = true;
                }
            }
        }
    }

    async fn read_new(&mut self) -> Result<Vec<UserName>, Error> {
        let mut cursor = self.high_water.saturating_sub(WINDOW).max(0);
        let mut users = Vec::new();
        loop {
            let page = self.authn.store().changes_since(cursor, PAGE).await?;
            let full = i64::try_from(page.len()).unwrap_or(i64::MAX) >= PAGE;
            for change in page {
                cursor = cursor.max(change.seq);
                if change.seq > self.high_water.saturating_sub(WINDOW)
                    && self.seen.insert(change.seq)
                {
                    if !users.contains(&change.user) {
                        users.push(change.user);
                    }
                    self.high_water = self.high_water.max(change.seq);
                }
            }
            if !full {
                break;
            }
        }
        let floor = self.high_water.saturating_sub(WINDOW);
        self.seen = self.seen.split_off(&floor);
        Ok(users)
    }

    /// Polls forever at [`super::POLL_INTERVAL`], flushing last-use times periodically.
    pub async fn run(mut self) {
        let mut ticker = tokio::time::interval(super::POLL_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_flush = tokio::time::Instant::now();
        loop {
            ticker.tick().await;
            self.poll().await;
            if last_flush.elapsed() >= super::LAST_USED_FLUSH_INTERVAL {
                self.authn.flush_last_used().await;
                last_flush = tokio::time::Instant::now();
            }
        }
    }
}
