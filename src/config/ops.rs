//! `[admin]` (the listener for metrics and health checks) and `[log]` (the log format).

use std::net::SocketAddr;

use super::raw::{RawAdmin, RawLog};
use super::{Context, Error};

/// `[admin]`: where `/metrics`, `/healthz` and `/readyz` are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    pub listen: SocketAddr,
}

/// `[log] format`: how log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// tracing's text format (the default).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

pub(super) fn admin(
    ctx: &Context,
    raw: Option<RawAdmin>,
    server_listen: SocketAddr,
) -> Result<Option<AdminConfig>, Error> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let text = raw.listen.ok_or_else(|| ctx.missing("admin.listen"))?;
    let listen: SocketAddr = text.parse().map_err(|_| {
        ctx.invalid(
            "admin.listen",
            &text,
            "expected ADDRESS:PORT, e.g. 127.0.0.1:9090",
        )
    })?;
    if listen == server_listen && listen.port() != 0 {
        return Err(ctx.invalid(
            "admin.listen",
            &text,
            "must differ from server.listen (nothing of the admin listener is served there)",
        ));
    }
    Ok(Some(AdminConfig { listen }))
}

pub(super) fn log_format(ctx: &Context, raw: Option<RawLog>) -> Result<LogFormat, Error> {
    match raw.and_then(|raw| raw.format).as_deref() {
        None | Some("text") => Ok(LogFormat::Text),
        Some("json") => Ok(LogFormat::Json),
        Some(other) => Err(ctx.invalid("log.format", other, "expected \"text\" or \"json\"")),
    }
}
