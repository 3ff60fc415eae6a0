//! Expiry notices as the store keeps them: one row per token, threshold and channel, created
//! at most once and delivered by whichever server claims it first. A claim is a lease that
//! expires, so a server that dies between claim and delivery only delays the notice; the
//! attempt number fences a late answer from a server whose lease another one has taken over.

use std::fmt;
use std::str::FromStr;

use super::rows::{IntoRecord, parse};
use super::{Error, TokenId};
use crate::names::{Email, TokenName, UserName};
use crate::vocabulary::UnknownWord;

/// Which notice: less than 7 days left, or less than 1 day left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Threshold {
    Week,
    Day,
}

impl Threshold {
    pub fn as_str(self) -> &'static str {
        match self {
            Threshold::Week => "week",
            Threshold::Day => "day",
        }
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Threshold {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "week" => Ok(Threshold::Week),
            "day" => Ok(Threshold::Day),
            other => Err(UnknownWord {
                what: "notice threshold",
                given: other.to_owned(),
                expected: "week, day",
            }),
        }
    }
}

/// How a notice travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Webhook,
    Mail,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Webhook => "webhook",
            Channel::Mail => "mail",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "webhook" => Ok(Channel::Webhook),
            "mail" => Ok(Channel::Mail),
            other => Err(UnknownWord {
                what: "notice channel",
                given: other.to_owned(),
                expected: "webhook, mail",
            }),
        }
    }
}

/// An active token with an expiry, and what a notice about it needs of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiringToken {
    pub id: TokenId,
    pub user: UserName,
    pub name: TokenName,
    pub expires_at: i64,
    pub email: Option<Email>,
    /// Whether the user is enabled (a disabled user's tokens are refused anyway).
    pub user_active: bool,
}

/// A notice to create (a no-op when it exists already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewNotice {
    pub token: TokenId,
    pub threshold: Threshold,
    pub channel: Channel,
}

/// A notice this server holds the lease of, with what its message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedNotice {
    pub id: i64,
    /// The attempt this claim is (1 for the first); fences the answer to the claim.
    pub attempt: i64,
    pub threshold: Threshold,
    pub channel: Channel,
    pub token: TokenId,
    pub user: UserName,
    pub token_name: TokenName,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub email: Option<Email>,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeOutcome {
    Delivered,
    /// Not sent and never will be (the token was revoked or expired meanwhile, or the user
    /// has no email any more), with the reason.
    Skipped {
        reason: String,
    },
    /// Not delivered: try again at `retry_at`.
    Failed {
        retry_at: i64,
        reason: String,
    },
}

/// A notice row as [`super::sql::CLAIM_NOTICE`] returns it.
#[derive(sqlx::FromRow)]
pub struct ClaimRow {
    pub id: i64,
    pub token_id: i64,
    pub threshold: String,
    pub channel: String,
    pub attempts: i64,
}

/// The token and user behind a claimed notice ([`super::sql::NOTICE_TOKEN`]).
#[derive(sqlx::FromRow)]
pub struct NoticeTokenRow {
    pub user_name: String,
    pub name: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub email: Option<String>,
}

impl ClaimRow {
    pub fn with_token(self, token: NoticeTokenRow) -> Result<ClaimedNotice, Error> {
        Ok(ClaimedNotice {
            id: self.id,
            attempt: self.attempts,
            threshold: parse("notice threshold", &self.threshold)?,
            channel: parse("notice channel", &self.channel)?,
            token: TokenId(self.token_id),
            user: parse("user name", &token.user_name)?,
            token_name: parse("token name", &token.name)?,
            expires_at: token.expires_at,
            revoked_at: token.revoked_at,
            email: token
                .email
                .as_deref()
                .map(|e| parse("email", e))
                .transpose()?,
        })
    }
}

/// An expiring token as [`super::sql::EXPIRING_TOKENS`] returns it.
#[derive(sqlx::FromRow)]
pub struct ExpiringRow {
    id: i64,
    user_name: String,
    name: String,
    expires_at: i64,
    email: Option<String>,
    active: bool,
}

impl IntoRecord for ExpiringRow {
    type Record = ExpiringToken;
    fn into_record(self) -> Result<ExpiringToken, Error> {
        Ok(ExpiringToken {
            id: TokenId(self.id),
            user: parse("user name", &self.user_name)?,
            name: parse("token name", &self.name)?,
            expires_at: self.expires_at,
            email: self
                .email
                .as_deref()
                .map(|e| parse("email", e))
                .transpose()?,
            user_active: self.active,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn words_round_trip() {
        for t in [Threshold::Week, Threshold::Day] {
            assert_eq!(t.as_str().parse::<Threshold>().unwrap(), t);
        }
        for c in [Channel::Webhook, Channel::Mail] {
            assert_eq!(c.as_str().parse::<Channel>().unwrap(), c);
        }
        assert!("month".parse::<Threshold>().is_err());
        assert!("sms".parse::<Channel>().is_err());
    }
}
