//! Token expiry notices (API.md "Lifecycle policy"): every `[notify] scan_interval_secs` a
//! server looks for active tokens that have crossed a threshold (less than 7 days left, less
//! than 1 day left), creates the notices they are due in the store (once: a second insert is
//! a no-op), then claims due notices one at a time and delivers them by webhook or mail.
//!
//! A claim is a lease in the store: several servers sharing a store never deliver one notice
//! twice, and a server that dies between claim and delivery only delays it until the lease
//! runs out. A failed delivery is logged with its reason and retried with backoff.
//!
//! - [`schedule`]: the pure decisions (threshold, days left, skip, backoff);
//! - [`webhook`]: the signed JSON `POST`; [`smtp`]: the mail.

pub mod schedule;
pub mod smtp;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use crate::config::NotifyConfig;
use crate::names::{TokenName, UserName};
use crate::proxy::gate::unix_now;
use crate::store::{Channel, ClaimedNotice, NoticeOutcome, Store};
use schedule::{Channels, DAY, WEEK_DAYS};

/// How long a claim keeps other servers off a notice. Longer than any delivery may take.
pub const LEASE: Duration = Duration::from_secs(300);
/// How long one delivery may take before it counts as failed.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(60);

/// What a notice says, whatever the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub user: UserName,
    pub token_name: TokenName,
    pub token_id: i64,
    pub expires_at: i64,
    pub days_left: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Webhook(#[from] webhook::Error),
    #[error(transparent)]
    Smtp(#[from] smtp::Error),
}

/// The channels and the store; [`Notifier::run`] is the server's notice task.
#[derive(Debug)]
pub struct Notifier {
    store: Arc<dyn Store>,
    webhook: Option<webhook::Webhook>,
    mailer: Option<smtp::Mailer>,
    scan_interval: Duration,
    retry_initial: Duration,
    /// Counts outcomes (`vcsgate_token_expiry_notices_total`) when set.
    metrics: Option<Arc<crate::admin::metrics::Metrics>>,
}

/// Why one delivery failed.
#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("webhook {origin}: {source}")]
    Webhook {
        origin: String,
        #[source]
        source: webhook::SendError,
    },
    #[error("SMTP {server}: {source}")]
    Smtp {
        server: String,
        #[source]
        source: smtp::SendError,
    },
    #[error("no {channel} channel is configured on this server")]
    NoChannel { channel: Channel },
    #[error("timed out after {DELIVERY_TIMEOUT:?}")]
    Timeout,
}

impl Notifier {
    /// The notifier for `config`, or `None` when no channel is configured.
    pub fn new(config: &NotifyConfig, store: Arc<dyn Store>) -> Result<Option<Self>, Error> {
        if !config.enabled() {
            return Ok(None);
        }
        let webhook = config
            .webhook
            .as_ref()
            .map(webhook::Webhook::new)
            .transpose()?;
        let mailer = config.smtp.as_ref().map(smtp::Mailer::new).transpose()?;
        Ok(Some(Notifier {
            store,
            webhook,
            mailer,
            scan_interval: config.scan_interval,
            retry_initial: config.retry_initial,
            metrics: None,
        }))
    }

    /// Counts every outcome in `metrics` (`vcsgate_token_expiry_notices_total`).
    pub fn with_metrics(mut self, metrics: Arc<crate::admin::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Scans and delivers every scan interval until `stop` turns true (a delivery under way
    /// is finished first).
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        tracing::info!(
            webhook = self.webhook.as_ref().map(webhook::Webhook::origin),
            smtp = self.mailer.as_ref().map(smtp::Mailer::server),
            scan_interval_secs = self.scan_interval.as_secs(),
            "expiry notices enabled"
        );
        loop {
            self.scan(unix_now()).await;
            self.deliver_due(&stop).await;
            tokio::select! {
                () = tokio::time::sleep(self.scan_interval) => {}
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }

    fn channels(&self) -> Channels {
        Channels {
            webhook: self.webhook.is_some(),
            mail: self.mailer.is_some(),
        }
    }

    /// Creates the notices tokens are due at `now`.
    pub async fn scan(&self, now: i64) {
        let tokens = match self.store.expiring_tokens(now, now + WEEK_DAYS * DAY).await {
            Ok(tokens) => tokens,
            Err(error) => {
                tracing::warn!(%error, "cannot look for expiring tokens; trying again later");
                return;
            }
        };
        let due: Vec<_> = tokens
            .iter()
            .flat_map(|token| schedule::notices_for(token, now, self.channels()))
            .collect();
        if due.is_empty() {
            return;
        }
        match self.store.add_notices(&due, now).await {
            Ok(0) => {}
            Ok(created) => tracing::debug!(created, "expiry notices due"),
            Err(error) => {
                tracing::warn!(%error, "cannot record due expiry notices; trying again later");
            }
        }
    }

    /// Claims and delivers due notices until none is left or `stop` turns true.
    pub async fn deliver_due(&self, stop: &tokio::sync::watch::Receiver<bool>) {
        // Only what this server can deliver: servers with other channels take the rest.
        let channels: Vec<Channel> = [
            (Channel::Webhook, self.webhook.is_some()),
            (Channel::Mail, self.mailer.is_some()),
        ]
        .into_iter()
        .filter_map(|(channel, here)| here.then_some(channel))
        .collect();
        while !*stop.borrow() {
            let now = unix_now();
            let lease_until = now + i64::try_from(LEASE.as_secs()).unwrap_or(i64::MAX);
            let claim = match self.store.claim_notice(now, lease_until, &channels).await {
                Ok(Some(claim)) => claim,
                Ok(None) => return,
                Err(error) => {
                    tracing::warn!(%error, "cannot claim expiry notices; trying again later");
                    return;
                }
            };
            self.attempt(&claim).await;
        }
    }

    /// One attempt at a claimed notice, its outcome recorded in the store.
    async fn attempt(&self, claim: &ClaimedNotice) {
        let now = unix_now();
        let outcome = match schedule::skip_reason(claim, now) {
            Some(reason) => NoticeOutcome::Skipped {
                reason: reason.to_owned(),
            },
            None => match self.send(claim, now).await {
                Ok(()) => NoticeOutcome::Delivered,
                Err(error) => {
                    let wait = schedule::backoff(claim.attempt, self.retry_initial);
                    NoticeOutcome::Failed {
                        retry_at: unix_now() + i64::try_from(wait.as_secs()).unwrap_or(i64::MAX),
                        reason: error.to_string(),
                    }
                }
            },
        };
        log_outcome(claim, &outcome, now);
        if let Some(metrics) = &self.metrics {
            let outcome = match outcome {
                NoticeOutcome::Delivered => "delivered",
                NoticeOutcome::Skipped { .. } => "skipped",
                NoticeOutcome::Failed { .. } => "failed",
            };
            let labels = crate::admin::metrics::NoticeLabels {
                channel: claim.channel.as_str(),
                outcome,
            };
            metrics.expiry_notices.get_or_create(&labels).inc();
        }
        match self.store.finish_notice(claim, &outcome, unix_now()).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                notice = claim.id,
                "the lease of an expiry notice ran out before its outcome was recorded; \
                 another server has taken it over"
            ),
            Err(error) => tracing::warn!(
                notice = claim.id,
                %error,
                "cannot record the outcome of an expiry notice; it is retried when its lease runs out"
            ),
        }
    }

    async fn send(&self, claim: &ClaimedNotice, now: i64) -> Result<(), SendError> {
        let expires_at = claim.expires_at.unwrap_or(now);
        let notice = Notice {
            user: claim.user.clone(),
            token_name: claim.token_name.clone(),
            token_id: claim.token.0,
            expires_at,
            days_left: schedule::days_left(expires_at, now),
        };
        let channel = claim.channel;
        let sending = async {
            match (channel, &self.webhook, &self.mailer, &claim.email) {
                (Channel::Webhook, Some(hook), _, _) => {
                    hook.send(&notice)
                        .await
                        .map_err(|source| SendError::Webhook {
                            origin: hook.origin().to_owned(),
                            source,
                        })
                }
                (Channel::Mail, _, Some(mailer), Some(to)) => mailer
                    .send(&notice, to)
                    .await
                    .map_err(|source| SendError::Smtp {
                        server: mailer.server().to_owned(),
                        source,
                    }),
                _ => Err(SendError::NoChannel { channel }),
            }
        };
        tokio::time::timeout(DELIVERY_TIMEOUT, sending)
            .await
            .map_err(|_| SendError::Timeout)?
    }
}

fn log_outcome(claim: &ClaimedNotice, outcome: &NoticeOutcome, now: i64) {
    let (user, token, channel, threshold) = (
        claim.user.as_str(),
        claim.token_name.as_str(),
        claim.channel.as_str(),
        claim.threshold.as_str(),
    );
    match outcome {
        NoticeOutcome::Delivered => tracing::info!(
            user,
            token,
            channel,
            threshold,
            attempt = claim.attempt,
            "expiry notice delivered"
        ),
        NoticeOutcome::Skipped { reason } => tracing::info!(
            user,
            token,
            channel,
            threshold,
            reason = reason.as_str(),
            "expiry notice dropped"
        ),
        NoticeOutcome::Failed { retry_at, reason } => tracing::warn!(
            user,
            token,
            channel,
            threshold,
            attempt = claim.attempt,
            retry_in_secs = retry_at - now,
            reason = reason.as_str(),
            "expiry notice not delivered; will retry"
        ),
    }
}
