//! `[throttle]`: failed-authentication throttling per client address, and the proxies whose
//! `X-Forwarded-For` is believed.

use super::raw::RawThrottle;
use super::{Context, Error};
use crate::throttle::{
    DEFAULT_BURST, DEFAULT_MAX_TRACKED, DEFAULT_PER_MINUTE, ThrottleConfig, TrustedProxies,
};

/// Validated throttling settings.
#[derive(Debug, Clone, Default)]
pub struct ThrottleSettings {
    pub quota: ThrottleConfig,
    /// Off (empty) by default: only the TCP peer address counts.
    pub trusted_proxies: TrustedProxies,
}

pub(super) fn throttle(ctx: &Context, raw: Option<RawThrottle>) -> Result<ThrottleSettings, Error> {
    let Some(raw) = raw else {
        return Ok(ThrottleSettings::default());
    };
    let burst = raw.burst.unwrap_or(u64::from(DEFAULT_BURST));
    let per_minute = raw.per_minute.unwrap_or(u64::from(DEFAULT_PER_MINUTE));
    let max_tracked = raw
        .max_tracked_clients
        .unwrap_or(DEFAULT_MAX_TRACKED as u64);
    let too_large =
        |key: &str, value: u64| ctx.invalid(format!("throttle.{key}"), value, "too large");
    let quota = ThrottleConfig::per_minute(
        u32::try_from(burst).map_err(|_| too_large("burst", burst))?,
        u32::try_from(per_minute).map_err(|_| too_large("per_minute", per_minute))?,
        usize::try_from(max_tracked).map_err(|_| too_large("max_tracked_clients", max_tracked))?,
    )
    .map_err(|e| {
        use crate::throttle::ConfigError;
        let (key, value) = match &e {
            ConfigError::Burst { .. } => ("burst", burst),
            ConfigError::Refill { .. } | ConfigError::PerMinute { .. } => {
                ("per_minute", per_minute)
            }
            ConfigError::MaxTracked { .. } => ("max_tracked_clients", max_tracked),
        };
        ctx.invalid(format!("throttle.{key}"), value, e.to_string())
    })?;
    let entries = raw.trusted_proxies.unwrap_or_default();
    let trusted_proxies = TrustedProxies::parse(&entries).map_err(|e| {
        ctx.invalid(
            "throttle.trusted_proxies",
            entries.join(", "),
            e.to_string(),
        )
    })?;
    Ok(ThrottleSettings {
        quota,
        trusted_proxies,
    })
}
