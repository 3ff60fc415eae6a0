//! `[limits]`: sizes, counts and timeouts, each with a safe default.

use std::time::Duration;

use super::raw::RawLimits;
use super::{Context, Error};

pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
pub const DEFAULT_MAX_CONNECTIONS_PER_CLIENT: usize = 256;
pub const DEFAULT_MAX_HEADER_BYTES: usize = 64 * 1024;
/// hg sends dozens of `X-HgArg-N` headers on large requests.
pub const DEFAULT_MAX_HEADERS: usize = 256;
pub const MIN_MAX_HEADERS: usize = 128;
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(15);
pub const DEFAULT_BODY_PREFIX_BYTES: usize = 1024 * 1024;
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Validated limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Open client connections at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Open connections from one client address (IPv6 by /64).
    pub max_connections_per_client: usize,
    /// Size of a request head (HTTP/1 read buffer, HTTP/2 header list).
    pub max_header_bytes: usize,
    /// Number of request headers.
    pub max_headers: usize,
    /// Time to receive a request head; on HTTP/1 also how long an idle keep-alive
    /// connection stays open.
    pub header_timeout: Duration,
    /// Body bytes read for classification at most (hg post args, svn MERGE).
    pub body_prefix_bytes: usize,
    pub connect_timeout: Duration,
    /// Time the backend has to start answering once the request body has been sent.
    pub first_byte_timeout: Duration,
    /// How long in-flight requests may finish after SIGTERM.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_client: DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_headers: DEFAULT_MAX_HEADERS,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            body_prefix_bytes: DEFAULT_BODY_PREFIX_BYTES,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            first_byte_timeout: DEFAULT_FIRST_BYTE_TIMEOUT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

fn at_least(ctx: &Context, key: &str, value: u64, min: u64) -> Result<u64, Error> {
    if value < min {
        return Err(ctx.invalid(
            format!("limits.{key}"),
            value,
            format!("must be at least {min}"),
        ));
    }
    Ok(value)
}

fn count(
    ctx: &Context,
    key: &str,
    value: Option<u64>,
    default: usize,
    min: u64,
) -> Result<usize, Error> {
    match value {
        None => Ok(default),
        Some(v) => usize::try_from(at_least(ctx, key, v, min)?)
            .map_err(|_| ctx.invalid(format!("limits.{key}"), v, "too large")),
    }
}

fn seconds(
    ctx: &Context,
    key: &str,
    value: Option<u64>,
    default: Duration,
) -> Result<Duration, Error> {
    Ok(value
        .map(|v| at_least(ctx, key, v, 1).map(Duration::from_secs))
        .transpose()?
        .unwrap_or(default))
}

pub(super) fn limits(ctx: &Context, raw: Option<RawLimits>) -> Result<Limits, Error> {
    let Some(raw) = raw else {
        return Ok(Limits::default());
    };
    let max_headers_min = u64::try_from(MIN_MAX_HEADERS).unwrap_or(128);
    Ok(Limits {
        max_connections: count(
            ctx,
            "max_connections",
            raw.max_connections,
            DEFAULT_MAX_CONNECTIONS,
            1,
        )?,
        max_connections_per_client: count(
            ctx,
            "max_connections_per_client",
            raw.max_connections_per_client,
            DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
            1,
        )?,
        max_header_bytes: count(
            ctx,
            "max_header_bytes",
            raw.max_header_bytes,
            DEFAULT_MAX_HEADER_BYTES,
            8192,
        )?,
        max_headers: count(
            ctx,
            "max_headers",
            raw.max_headers,
            DEFAULT_MAX_HEADERS,
            max_headers_min,
        )?,
        header_timeout: seconds(
            ctx,
            "header_timeout_secs",
            raw.header_timeout_secs,
            DEFAULT_HEADER_TIMEOUT,
        )?,
        body_prefix_bytes: count(
            ctx,
            "body_prefix_bytes",
            raw.body_prefix_bytes,
            DEFAULT_BODY_PREFIX_BYTES,
            16 * 1024,
        )?,
        connect_timeout: seconds(
            ctx,
            "connect_timeout_secs",
            raw.connect_timeout_secs,
            DEFAULT_CONNECT_TIMEOUT,
        )?,
        first_byte_timeout: seconds(
            ctx,
            "first_byte_timeout_secs",
            raw.first_byte_timeout_secs,
            DEFAULT_FIRST_BYTE_TIMEOUT,
        )?,
        shutdown_grace: seconds(
            ctx,
            "shutdown_grace_secs",
            raw.shutdown_grace_secs,
            DEFAULT_SHUTDOWN_GRACE,
        )?,
    })
}
