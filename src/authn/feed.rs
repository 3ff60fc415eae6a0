//! Following the store's change feed. The stores append to it in commit order (SQLite
//! serialises writers; PostgreSQL takes an exclusive lock on the feed before appending), so
//! a poll only needs the entries after the highest seen number. As a defence against a
//! writer that did not, each poll still re-reads a small window below it and processes the
//! entries it has not seen yet.
//!
//! On PostgreSQL every change also sends a `NOTIFY`; the feed `LISTEN`s on a connection of
//! its own, evicts the named user at once and reads the feed. The `changes` table stays
//! the source of truth: it is still read every [`listening_poll_interval`] (which is also
//! the store's health check), after the listening connection was re-made, and every
//! [`super::POLL_INTERVAL`] while there is no listening connection.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Authenticator;
use crate::admin::metrics::Metrics;
use crate::names::UserName;
use crate::secret::Secret;
use crate::store::Error;
use crate::store::postgres::{ChangeListener, Notice};

/// How far below the highest seen sequence number each poll looks again.
const WINDOW: i64 = 64;
/// Page size of one feed query.
const PAGE: i64 = 500;
/// The longest time between two reads of the feed while notifications arrive.
const LISTENING_POLL_MAX: Duration = Duration::from_secs(5);
/// How long to wait before making the listening connection again.
const LISTEN_RETRY: Duration = Duration::from_secs(1);

/// How often the feed is read while a listening connection stands: often enough to be the
/// store's health check within the outage grace, at most every [`LISTENING_POLL_MAX`].
pub fn listening_poll_interval(grace: Duration) -> Duration {
    (grace / 3).clamp(super::POLL_INTERVAL, LISTENING_POLL_MAX)
}

/// The `LISTEN` side (PostgreSQL only).
#[derive(Debug)]
struct Listening {
    url: Secret,
    listener: Option<ChangeListener>,
    retry_at: Instant,
}

#[derive(Debug)]
pub struct ChangeFeed {
    authn: Arc<Authenticator>,
    metrics: Arc<Metrics>,
    high_water: i64,
    seen: BTreeSet<i64>,
    failing: bool,
    listening: Option<Listening>,
}

enum Event {
    Tick,
    Notice(Result<Notice, Error>),
}

impl ChangeFeed {
    /// Starts following from the store's current newest change; given the URL of a
    /// `postgres://` store, also listens for notifications.
    pub async fn start(
        authn: Arc<Authenticator>,
        listen_url: Option<&str>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, Error> {
        let high_water = authn.store().latest_change().await?;
        authn.health().record_ok();
        let listening = listen_url
            .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
            .map(|store_url| Listening {
                url: Secret::new(store_url.to_owned()),
                listener: None,
                retry_at: Instant::now(),
            });
        let mut feed = ChangeFeed {
            authn,
            metrics,
            high_water,
            seen: BTreeSet::new(),
            failing: false,
            listening,
        };
        feed.connect_listener().await;
        Ok(feed)
    }

    /// Whether notifications are arriving (a listening connection stands).
    pub fn is_listening(&self) -> bool {
        self.listening
            .as_ref()
            .is_some_and(|l| l.listener.is_some())
    }

    /// Makes the listening connection if there is none and it is time to try; after
    /// making it, reads the feed (changes made meanwhile sent no notification it saw).
    async fn connect_listener(&mut self) {
        let Some(listening) = self.listening.as_mut() else {
            return;
        };
        if listening.listener.is_some() || Instant::now() < listening.retry_at {
            return;
        }
        match ChangeListener::connect(listening.url.expose()).await {
            Ok(listener) => {
                listening.listener = Some(listener);
                tracing::info!("listening for store change notifications");
                self.poll().await;
            }
            Err(error) => {
                listening.retry_at = Instant::now() + LISTEN_RETRY;
                tracing::debug!(%error, "cannot listen for change notifications; polling");
            }
        }
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
                self.authn.health().record_failure();
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
            self.metrics.feed_queries.inc();
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

    /// Waits for the next notification (forever when not listening).
    async fn notice(listening: &mut Option<Listening>) -> Result<Notice, Error> {
        match listening.as_mut().and_then(|l| l.listener.as_mut()) {
            Some(listener) => listener.next().await,
            None => std::future::pending().await,
        }
    }

    fn handle_notice(&mut self, notice: Result<Notice, Error>) -> bool {
        match notice {
            Ok(Notice::Changed(user)) => {
                if let Ok(user) = UserName::parse(&user) {
                    self.authn.evict_users(&[user]);
                }
                true
            }
            Ok(Notice::Reconnected) => true,
            Err(error) => {
                tracing::warn!(%error, "lost the change notification connection; polling until it is back");
                if let Some(listening) = self.listening.as_mut() {
                    listening.listener = None;
                    listening.retry_at = Instant::now() + LISTEN_RETRY;
                }
                true
            }
        }
    }

    /// Follows the feed forever, flushing last-use times periodically.
    pub async fn run(mut self) {
        let mut ticker = tokio::time::interval(super::POLL_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let slow = listening_poll_interval(self.authn.health().grace());
        let mut last_poll = Instant::now();
        let mut last_flush = Instant::now();
        loop {
            let event = tokio::select! {
                _ = ticker.tick() => Event::Tick,
                notice = Self::notice(&mut self.listening) => Event::Notice(notice),
            };
            let due = match event {
                Event::Tick => {
                    self.connect_listener().await;
                    !self.is_listening() || last_poll.elapsed() >= slow
                }
                Event::Notice(notice) => self.handle_notice(notice),
            };
            if due {
                self.poll().await;
                last_poll = Instant::now();
            }
            if last_flush.elapsed() >= super::LAST_USED_FLUSH_INTERVAL {
                self.authn.flush_last_used().await;
                last_flush = Instant::now();
            }
        }
    }
}
