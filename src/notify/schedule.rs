//! The pure decisions behind expiry notices: which threshold a token has crossed, how many
//! whole days are left, whether a claimed notice should still go out, and how long to wait
//! before retrying a failed delivery. No clock, no IO: `now` is a parameter.

use std::time::Duration;

use crate::store::{Channel, ClaimedNotice, ExpiringToken, NewNotice, Threshold};

/// Seconds in a day.
pub const DAY: i64 = 86_400;
/// The first notice goes out once fewer than this many days are left.
pub const WEEK_DAYS: i64 = 7;
/// The longest wait between two attempts at one notice.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// The notice a token expiring at `expires_at` is due at `now`: the last-day one once less
/// than a day is left, else the week one once less than seven days are left; none when more
/// are left or it has expired.
pub fn due(expires_at: i64, now: i64) -> Option<Threshold> {
    let left = expires_at.saturating_sub(now);
    if left <= 0 {
        None
    } else if left < DAY {
        Some(Threshold::Day)
    } else if left < WEEK_DAYS * DAY {
        Some(Threshold::Week)
    } else {
        None
    }
}

/// Whole days left until `expires_at`, rounded down (0 inside the last day or after).
pub fn days_left(expires_at: i64, now: i64) -> i64 {
    expires_at.saturating_sub(now).max(0) / DAY
}

/// Which channels deliver notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    pub webhook: bool,
    pub mail: bool,
}

/// The notices `token` is due at `now`: one per channel for the threshold it has crossed
/// (mail only when its user has an address); none for a disabled user.
pub fn notices_for(token: &ExpiringToken, now: i64, channels: Channels) -> Vec<NewNotice> {
    let Some(threshold) = due(token.expires_at, now) else {
        return Vec::new();
    };
    if !token.user_active {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(2);
    if channels.webhook {
        out.push(NewNotice {
            token: token.id,
            threshold,
            channel: Channel::Webhook,
        });
    }
    if channels.mail && token.email.is_some() {
        out.push(NewNotice {
            token: token.id,
            threshold,
            channel: Channel::Mail,
        });
    }
    out
}

/// Why a claimed notice should not go out any more, or `None` to send it.
pub fn skip_reason(notice: &ClaimedNotice, now: i64) -> Option<&'static str> {
    if notice.revoked_at.is_some() {
        return Some("the token was revoked");
    }
    let Some(expires_at) = notice.expires_at else {
        return Some("the token no longer expires");
    };
    if expires_at <= now {
        return Some("the token has expired");
    }
    if notice.threshold == Threshold::Week && due(expires_at, now) == Some(Threshold::Day) {
        return Some("the last-day notice replaces it");
    }
    if notice.channel == Channel::Mail && notice.email.is_none() {
        return Some("the user has no email address");
    }
    None
}

/// How long to wait after failed attempt number `attempt` (1 for the first): `initial`,
/// doubling per attempt, at most [`MAX_BACKOFF`] (and never less than `initial`).
pub fn backoff(attempt: i64, initial: Duration) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    let wait = initial.saturating_mul(1u32 << doublings);
    wait.min(MAX_BACKOFF).max(initial)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::names::{Email, TokenName, UserName};
    use crate::store::TokenId;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn thresholds_are_crossed_below_seven_days_and_below_one_day() {
        let cases = [
            (WEEK_DAYS * DAY + 1, None),
            (WEEK_DAYS * DAY, None),
            (WEEK_DAYS * DAY - 1, Some(Threshold::Week)),
            (3 * DAY, Some(Threshold::Week)),
            (DAY, Some(Threshold::Week)),
            (DAY - 1, Some(Threshold::Day)),
            (1, Some(Threshold::Day)),
            (0, None),
            (-DAY, None),
        ];
        for (left, expected) in cases {
            assert_eq!(due(NOW + left, NOW), expected, "{left} s left");
        }
    }

    #[test]
    fn days_left_round_down() {
        assert_eq!(days_left(NOW + 7 * DAY - 1, NOW), 6);
        assert_eq!(days_left(NOW + 6 * DAY, NOW), 6);
        assert_eq!(days_left(NOW + DAY, NOW), 1);
        assert_eq!(days_left(NOW + DAY - 1, NOW), 0);
        assert_eq!(days_left(NOW + 1, NOW), 0);
        assert_eq!(days_left(NOW - 5, NOW), 0);
    }

    fn token(left: i64, email: bool, active: bool) -> ExpiringToken {
        ExpiringToken {
            id: TokenId(7),
            user: UserName::parse("alice").unwrap(),
            name: TokenName::parse("ci").unwrap(),
            expires_at: NOW + left,
            email: email.then(|| Email::parse("alice@example.com").unwrap()),
            user_active: active,
        }
    }

    #[test]
    fn notices_go_per_channel_and_mail_only_with_an_address() {
        let both = Channels {
            webhook: true,
            mail: true,
        };
        let kinds = |t: &ExpiringToken, channels| -> Vec<(Threshold, Channel)> {
            notices_for(t, NOW, channels)
                .iter()
                .map(|n| (n.threshold, n.channel))
                .collect()
        };
        assert_eq!(
            kinds(&token(3 * DAY, true, true), both),
            [
                (Threshold::Week, Channel::Webhook),
                (Threshold::Week, Channel::Mail)
            ]
        );
        assert_eq!(
            kinds(&token(3600, false, true), both),
            [(Threshold::Day, Channel::Webhook)]
        );
        let mail_only = Channels {
            webhook: false,
            mail: true,
        };
        assert_eq!(
            kinds(&token(3600, true, true), mail_only),
            [(Threshold::Day, Channel::Mail)]
        );
        assert!(kinds(&token(3600, true, false), both).is_empty());
        assert!(kinds(&token(8 * DAY, true, true), both).is_empty());
    }

    fn claimed(threshold: Threshold, channel: Channel, left: i64) -> ClaimedNotice {
        ClaimedNotice {
            id: 1,
            attempt: 1,
            threshold,
            channel,
            token: TokenId(7),
            user: UserName::parse("alice").unwrap(),
            token_name: TokenName::parse("ci").unwrap(),
            expires_at: Some(NOW + left),
            revoked_at: None,
            email: None,
        }
    }

    #[test]
    fn stale_notices_are_skipped_with_a_reason() {
        assert_eq!(
            skip_reason(&claimed(Threshold::Week, Channel::Webhook, 3 * DAY), NOW),
            None
        );
        assert_eq!(
            skip_reason(&claimed(Threshold::Day, Channel::Webhook, 60), NOW),
            None
        );
        let mut revoked = claimed(Threshold::Week, Channel::Webhook, 3 * DAY);
        revoked.revoked_at = Some(NOW - 1);
        assert!(skip_reason(&revoked, NOW).is_some());
        assert!(skip_reason(&claimed(Threshold::Day, Channel::Webhook, 0), NOW).is_some());
        assert!(skip_reason(&claimed(Threshold::Week, Channel::Webhook, 60), NOW).is_some());
        assert!(skip_reason(&claimed(Threshold::Week, Channel::Mail, 3 * DAY), NOW).is_some());
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let initial = Duration::from_secs(30);
        let waits: Vec<u64> = (1..=9).map(|a| backoff(a, initial).as_secs()).collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(backoff(0, initial), initial);
        assert_eq!(backoff(i64::MAX, initial), MAX_BACKOFF);
        assert_eq!(backoff(3, Duration::from_secs(1)), Duration::from_secs(4));
        // An initial wait above the cap is kept as configured.
        let long = Duration::from_secs(7200);
        assert_eq!(backoff(5, long), long);
    }
}
