//! `[notify]` and `[notify.smtp]`: where token expiry notices go (a webhook, mail) and how
//! often the server looks for them. Without either channel no notices are sent.

use std::net::IpAddr;
use std::time::Duration;

use super::raw::{RawNotify, RawSmtp};
use super::secrets::secret_file;
use super::{Context, Error};
use crate::secret::Secret;

/// How often a server looks for tokens due a notice and for notices due delivery.
pub const DEFAULT_SCAN_INTERVAL: Duration = Duration::from_secs(60);
/// The wait before the first retry of a failed delivery; it doubles per attempt.
pub const DEFAULT_RETRY_INITIAL: Duration = Duration::from_secs(30);
/// The SMTP submission port.
pub const DEFAULT_SMTP_PORT: u16 = 587;
/// Largest `scan_interval_secs` and `retry_initial_secs` (one day).
pub const MAX_INTERVAL_SECS: u64 = 86_400;

/// A validated `[notify]`.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub webhook: Option<WebhookConfig>,
    pub smtp: Option<SmtpConfig>,
    pub scan_interval: Duration,
    pub retry_initial: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            webhook: None,
            smtp: None,
            scan_interval: DEFAULT_SCAN_INTERVAL,
            retry_initial: DEFAULT_RETRY_INITIAL,
        }
    }
}

impl NotifyConfig {
    /// Whether any channel is configured (else the server sends no notices).
    pub fn enabled(&self) -> bool {
        self.webhook.is_some() || self.smtp.is_some()
    }
}

/// `webhook_url` and its optional signing secret.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// The URL (its path may be a capability, as many chat webhooks are: a secret too).
    pub url: Secret,
    /// `scheme://host:port`, for logs.
    pub origin: String,
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Signs the body: `X-Vcsgate-Signature: sha256=HEX`.
    pub secret: Option<Secret>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (required).
    StartTls,
    /// TLS from the first byte (SMTPS, usually port 465).
    Tls,
    /// Unencrypted: loopback hosts only.
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    /// The sender mailbox (`noreply@example.com` or `vcsgate <noreply@example.com>`).
    pub from: String,
    pub tls: SmtpTls,
    /// User name and password for SMTP AUTH.
    pub credentials: Option<(String, Secret)>,
}

pub(super) fn notify(ctx: &Context, raw: Option<RawNotify>) -> Result<NotifyConfig, Error> {
    let Some(raw) = raw else {
        return Ok(NotifyConfig::default());
    };
    let interval = |key: &str, value: Option<u64>, default: Duration| match value {
        None => Ok(default),
        Some(secs) if (1..=MAX_INTERVAL_SECS).contains(&secs) => Ok(Duration::from_secs(secs)),
        Some(secs) => Err(ctx.invalid(
            format!("notify.{key}"),
            secs,
            format!("must be from 1 to {MAX_INTERVAL_SECS} seconds"),
        )),
    };
    let scan_interval = interval(
        "scan_interval_secs",
        raw.scan_interval_secs,
        DEFAULT_SCAN_INTERVAL,
    )?;
    let retry_initial = interval(
        "retry_initial_secs",
        raw.retry_initial_secs,
        DEFAULT_RETRY_INITIAL,
    )?;
    let webhook = match (raw.webhook_url, raw.webhook_secret_file) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(ctx.secret_error(
                "notify.webhook_secret_file",
                "signs webhook bodies, but notify.webhook_url is not set",
            ));
        }
        (Some(url), secret) => {
            let secret = secret
                .map(|path| secret_file(ctx, "notify.webhook_secret_file", &path))
                .transpose()?;
            Some(webhook(ctx, &url, secret)?)
        }
    };
    let smtp = raw.smtp.map(|raw| smtp(ctx, raw)).transpose()?;
    Ok(NotifyConfig {
        webhook,
        smtp,
        scan_interval,
        retry_initial,
    })
}

fn webhook(ctx: &Context, url: &str, secret: Option<Secret>) -> Result<WebhookConfig, Error> {
    let key = "notify.webhook_url";
    // The value may hold a capability: messages show only its origin.
    let invalid = |shown: &str, reason: &str| ctx.invalid(key, shown, reason);
    let uri: http::Uri = url
        .parse()
        .map_err(|_| invalid("…", "expected http://HOST[:PORT]/PATH or https://…"))?;
    let tls = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(invalid("…", "expected an http:// or https:// URL")),
    };
    let Some(authority) = uri.authority() else {
        return Err(invalid("…", "the URL names no host"));
    };
    if authority.as_str().contains('@') {
        return Err(invalid(
            "…",
            "credentials in the URL are not supported; sign with notify.webhook_secret_file",
        ));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err(invalid("…", "the URL names no host"));
    }
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let scheme = if tls { "https" } else { "http" };
    Ok(WebhookConfig {
        url: Secret::new(url),
        origin: format!("{scheme}://{}", authority.as_str()),
        tls,
        host: host.to_owned(),
        port,
        secret,
    })
}

fn smtp(ctx: &Context, raw: RawSmtp) -> Result<SmtpConfig, Error> {
    let host = raw.host.ok_or_else(|| ctx.missing("notify.smtp.host"))?;
    if host.is_empty() || host.contains(|c: char| c.is_whitespace() || c == '/' || c == '@') {
        return Err(ctx.invalid("notify.smtp.host", &host, "expected a host name or address"));
    }
    let port = match raw.port {
        None => DEFAULT_SMTP_PORT,
        Some(port) => u16::try_from(port)
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| ctx.invalid("notify.smtp.port", port, "must be from 1 to 65535"))?,
    };
    let from = raw.from.ok_or_else(|| ctx.missing("notify.smtp.from"))?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(ctx.invalid(
            "notify.smtp.from",
            &from,
            "expected a mailbox: noreply@example.com or \"vcsgate <noreply@example.com>\"",
        ));
    }
    let tls = match raw.tls.as_deref() {
        None | Some("starttls") => SmtpTls::StartTls,
        Some("tls") => SmtpTls::Tls,
        Some("none") if is_loopback(&host) => SmtpTls::None,
        Some("none") => {
            return Err(ctx.invalid(
                "notify.smtp.tls",
                "none",
                format!(
                    "an unencrypted connection is allowed only to a loopback host, not {host:?}"
                ),
            ));
        }
        Some(other) => {
            return Err(ctx.invalid(
                "notify.smtp.tls",
                other,
                "expected \"starttls\", \"tls\" or \"none\"",
            ));
        }
    };
    let credentials = match (raw.username, raw.password_file) {
        (None, None) => None,
        (Some(user), Some(path)) => {
            Some((user, secret_file(ctx, "notify.smtp.password_file", &path)?))
        }
        (Some(_), None) => return Err(ctx.missing("notify.smtp.password_file")),
        (None, Some(_)) => return Err(ctx.missing("notify.smtp.username")),
    };
    Ok(SmtpConfig {
        host,
        port,
        from,
        tls,
        credentials,
    })
}

/// `localhost` or a loopback address.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "127.0.0.1", "127.8.9.10", "::1", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "mail.example.com",
            "10.0.0.1",
            "localhost.example.com",
            "::2",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
