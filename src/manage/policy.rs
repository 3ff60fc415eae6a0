//! The token lifetime policy (`[tokens]` in proxy.toml): a default expiry for tokens asked
//! for without one, and a maximum lifetime that creating and rotating must respect. One
//! function, [`TokenPolicy::expiry`], decides for the CLI and the API alike.

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Validated `[tokens]` settings; both unset by default (no default expiry, no maximum).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenPolicy {
    pub max_lifetime_days: Option<u32>,
    pub default_lifetime_days: Option<u32>,
}

/// Why a token's expiry was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "a token must expire within {max_days} days ([tokens] max_lifetime_days = {max_days}); give --expires no later than that"
    )]
    NeverExpires { max_days: u32 },
    #[error(
        "the expiry lies beyond the maximum token lifetime of {max_days} days ([tokens] max_lifetime_days = {max_days})"
    )]
    TooLong { max_days: u32 },
}

impl TokenPolicy {
    /// The expiry a token created (or rotated) at `now` gets when `requested` is asked for:
    /// the default lifetime when none is asked for, refused past the maximum (or never, when
    /// a maximum is set).
    pub fn expiry(&self, requested: Option<i64>, now: i64) -> Result<Option<i64>, PolicyError> {
        let days = |d: u32| now.saturating_add(i64::from(d) * SECONDS_PER_DAY);
        let expiry = requested.or(self.default_lifetime_days.map(days));
        let Some(max_days) = self.max_lifetime_days else {
            return Ok(expiry);
        };
        match expiry {
            None => Err(PolicyError::NeverExpires { max_days }),
            Some(at) if at > days(max_days) => Err(PolicyError::TooLong { max_days }),
            Some(at) => Ok(Some(at)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;
    const DAY: i64 = SECONDS_PER_DAY;

    fn policy(max: Option<u32>, default: Option<u32>) -> TokenPolicy {
        TokenPolicy {
            max_lifetime_days: max,
            default_lifetime_days: default,
        }
    }

    #[test]
    fn without_a_policy_the_request_stands() {
        let none = TokenPolicy::default();
        assert_eq!(none.expiry(None, NOW), Ok(None));
        assert_eq!(
            none.expiry(Some(NOW + 999 * DAY), NOW),
            Ok(Some(NOW + 999 * DAY))
        );
    }

    #[test]
    fn the_default_applies_only_when_nothing_is_asked_for() {
        let p = policy(None, Some(30));
        assert_eq!(p.expiry(None, NOW), Ok(Some(NOW + 30 * DAY)));
        assert_eq!(p.expiry(Some(NOW + DAY), NOW), Ok(Some(NOW + DAY)));
        assert_eq!(
            p.expiry(Some(NOW + 400 * DAY), NOW),
            Ok(Some(NOW + 400 * DAY))
        );
    }

    #[test]
    fn the_maximum_refuses_later_and_never() {
        let p = policy(Some(90), None);
        assert_eq!(
            p.expiry(Some(NOW + 90 * DAY), NOW),
            Ok(Some(NOW + 90 * DAY))
        );
        assert_eq!(
            p.expiry(Some(NOW + 90 * DAY + 1), NOW),
            Err(PolicyError::TooLong { max_days: 90 })
        );
        assert_eq!(
            p.expiry(None, NOW),
            Err(PolicyError::NeverExpires { max_days: 90 })
        );
        let with_default = policy(Some(90), Some(7));
        assert_eq!(with_default.expiry(None, NOW), Ok(Some(NOW + 7 * DAY)));
        assert!(
            PolicyError::TooLong { max_days: 90 }
                .to_string()
                .contains("90 days")
        );
    }
}
