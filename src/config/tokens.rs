//! `[tokens]`: the token lifetime policy. Both keys are optional whole days from 1 to
//! [`MAX_LIFETIME_DAYS`]; a default above the maximum is an error.

use super::raw::RawTokens;
use super::{Context, Error};
use crate::manage::TokenPolicy;

/// The largest lifetime either key accepts (100 years).
pub const MAX_LIFETIME_DAYS: i64 = 36_500;

pub(super) fn tokens(ctx: &Context, raw: Option<RawTokens>) -> Result<TokenPolicy, Error> {
    let Some(raw) = raw else {
        return Ok(TokenPolicy::default());
    };
    let days = |key: &str, value: Option<i64>| -> Result<Option<u32>, Error> {
        value
            .map(|n| {
                u32::try_from(n)
                    .ok()
                    .filter(|d| (1..=MAX_LIFETIME_DAYS).contains(&i64::from(*d)))
                    .ok_or_else(|| {
                        ctx.invalid(
                            format!("tokens.{key}"),
                            n,
                            format!("must be a whole number of days from 1 to {MAX_LIFETIME_DAYS}"),
                        )
                    })
            })
            .transpose()
    };
    let policy = TokenPolicy {
        max_lifetime_days: days("max_lifetime_days", raw.max_lifetime_days)?,
        default_lifetime_days: days("default_lifetime_days", raw.default_lifetime_days)?,
    };
    if let (Some(max), Some(default)) = (policy.max_lifetime_days, policy.default_lifetime_days)
        && default > max
    {
        return Err(ctx.invalid(
            "tokens.default_lifetime_days",
            default,
            format!("exceeds tokens.max_lifetime_days = {max}"),
        ));
    }
    Ok(policy)
}
