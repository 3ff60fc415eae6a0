//! Following the store's change feed. The stores append to it in commit order (SQLite
//! serialises writers; PostgreSQL takes an exclusive lock on the feed before appending), so
//! a poll only needs the entries after the highest seen number. As a defence against a
//! writer that did not, each poll still re-reads a small window below it and processes the
//! entries it has not seen yet.
//!
//! On PostgreSQL every change also sends a `NOTIFY`; the feed `LISTEN`s on a connection of
//! its own and evicts the named user at once. The `changes` table stays the source of
//! truth: it is read within [`CATCH_UP_DELAY`] after notifications (one read for any
//! number of them), every [`listening_poll_interval`] (which is also the store's health
//! check), at once after the listening connection was (re-)made, and every
//! [`super::POLL_INTERVAL`] while there is no listening connection.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
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
/// After a notification (its user already evicted), how soon the feed itself is read: at
/// most one read per instance per this interval, however many changes are made.
const CATCH_UP_DELAY: Duration = Duration::from_secs(1);
/// Notifications heard but not yet taken in by the feed.
const HEARD_QUEUE: usize = 1024;

/// How often the feed is read while a listening connection stands: often enough to be the
/// store's health check within the outage grace, at most every [`LISTENING_POLL_MAX`].
pub fn listening_poll_interval(grace: Duration) -> Duration {
    (grace / 3).clamp(super::POLL_INTERVAL, LISTENING_POLL_MAX)
}

/// What the listening task tells the feed.
#[derive(Debug)]
enum Heard {
    /// Listening (again): changes made before may have sent no notification it saw.
    Up,
    /// A change about this user was committed.
    Changed(String),
    /// The listening connection failed; the task makes it again after [`LISTEN_RETRY`].
    Lost,
}

/// The `LISTEN` side (PostgreSQL only): a task of its own owns the connection (so waiting
/// for a notification is never cancelled halfway) and forwards what it hears.
#[derive(Debug)]
struct Listening {
    heard: mpsc::Receiver<Heard>,
    up: bool,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Holds a listening connection, making it again whenever it fails.
async fn listen(url: Secret, heard: mpsc::Sender<Heard>) {
    loop {
        match ChangeListener::connect(url.expose()).await {
            Ok(mut listener) => {
                tracing::info!("listening for store change notifications");
                if heard.send(Heard::Up).await.is_err() {
                    return;
                }
                loop {
                    let next = match listener.next().await {
                        Ok(Notice::Changed(user)) => Heard::Changed(user),
                        Ok(Notice::Reconnected) => {
                            tracing::info!("listening for store change notifications");
                            Heard::Up
                        }
                        Err(error) => {
                            tracing::warn!(%error, "lost the change notification connection; polling until it is back");
                            let _ = heard.send(Heard::Lost).await;
                            break;
                        }
                    };
                    if heard.send(next).await.is_err() {
                        return;
                    }
                }
            }
            Err(error) => {
                tracing::debug!(%error, "cannot listen for change notifications; polling");
            }
        }
        tokio::time::sleep(LISTEN_RETRY).await;
    }
}

#[derive(Debug)]
pub struct ChangeFeed {
    authn: Arc<Authenticator>,
    metrics: Arc<Metrics>,
    high_water: i64,
    seen: BTreeSet<i64>,
    failing: bool,
    listening: Option<Listening>,
    /// Notified changes not yet read from the feed.
    behind: bool,
}

enum Event {
    Tick,
    Heard(Option<Heard>),
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
            .map(|url| {
                let (send, heard) = mpsc::channel(HEARD_QUEUE);
                Listening {
                    heard,
                    up: false,
                    task: tokio::spawn(listen(Secret::new(url.to_owned()), send)),
                }
            });
        Ok(ChangeFeed {
            authn,
            metrics,
            high_water,
            seen: BTreeSet::new(),
            failing: false,
            listening,
            behind: false,
        })
    }

    /// Whether notifications are arriving (a listening connection stands).
    pub fn is_listening(&self) -> bool {
        self.listening.as_ref().is_some_and(|l| l.up)
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

    /// Waits for what the listening task heard (forever when not listening).
    async fn heard(listening: &mut Option<Listening>) -> Option<Heard> {
        match listening.as_mut() {
            Some(listening) => listening.heard.recv().await,
            None => std::future::pending().await,
        }
    }

    /// Takes in what the listening task heard: a change evicts its user at once (the feed
    /// catches up within [`CATCH_UP_DELAY`], one read for any number of changes); anything
    /// else means the feed must be read now. Returns whether it must.
    fn take_in(&mut self, heard: Option<Heard>) -> bool {
        let Some(listening) = self.listening.as_mut() else {
            return false;
        };
        match heard {
            Some(Heard::Changed(user)) => {
                match UserName::parse(&user) {
                    Ok(user) => self.authn.evict_users(&[user]),
                    // Not a name this store writes: read the feed instead.
                    Err(_) => return true,
                }
                self.behind = true;
                false
            }
            Some(Heard::Up) => {
                listening.up = true;
                true
            }
            Some(Heard::Lost) => {
                listening.up = false;
                true
            }
            // The task ended (it never does by itself): poll from now on.
            None => {
                self.listening = None;
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
                heard = Self::heard(&mut self.listening) => Event::Heard(heard),
            };
            let due = match event {
                Event::Tick => {
                    let since = last_poll.elapsed();
                    !self.is_listening()
                        || since >= slow
                        || (self.behind && since >= CATCH_UP_DELAY)
                }
                Event::Heard(heard) => self.take_in(heard),
            };
            if due {
                self.behind = false;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_reads_the_feed_within_a_third_of_the_grace_and_at_most_every_5_s() {
        assert_eq!(
            listening_poll_interval(Duration::from_secs(30)),
            Duration::from_secs(5)
        );
        assert_eq!(
            listening_poll_interval(Duration::from_secs(3)),
            Duration::from_secs(1)
        );
        assert_eq!(
            listening_poll_interval(Duration::ZERO),
            super::super::POLL_INTERVAL
        );
    }
}
