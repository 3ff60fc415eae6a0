//! Loading and validating `proxy.toml`. `check-config` and `serve` use the same loader.
//!
//! Raw serde structs ([`raw`]) reject unknown keys; [`load`] turns them into a typed
//! [`Config`] whose relative paths are resolved against the config file's directory.

mod limits;
mod notify;
pub mod oidc;
mod ops;
mod raw;
mod route;
mod secrets;
mod throttle;
mod tokens;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::manage::TokenPolicy;
use crate::secret::Secret;

pub use limits::Limits;
pub use notify::{NotifyConfig, SmtpConfig, SmtpTls, WebhookConfig};
pub use ops::{AdminConfig, LogFormat};
pub use route::{
    BackendIdentity, DEFAULT_LFS_MAX_OBJECT_BYTES, LfsSettings, RouteConfig, SvnLayout, Target,
};
pub use throttle::ThrottleSettings;

pub const DEFAULT_CONFIG_FILE: &str = "proxy.toml";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_REALM: &str = "vcsgate";
pub const DEFAULT_OUTAGE_GRACE: Duration = Duration::from_secs(30);
pub const CONFIG_VERSION: i64 = 1;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from.
    pub path: PathBuf,
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub routes: Vec<RouteConfig>,
    pub limits: Limits,
    pub throttle: ThrottleSettings,
    /// `[tokens]`: default and maximum token lifetimes.
    pub tokens: TokenPolicy,
    /// `[admin]`: the listener for metrics and health (off when absent).
    pub admin: Option<AdminConfig>,
    /// `[log] format`.
    pub log_format: LogFormat,
    /// `[pages]`: how people sign in to the pages.
    pub pages: PagesConfig,
    /// `[notify]`: token expiry notices by webhook and mail.
    pub notify: NotifyConfig,
    /// `[[oidc]]` issuers whose JWTs act as a vcsgate user (ACCESS.md).
    pub oidc: Vec<oidc::OidcIssuer>,
}

impl Config {
    /// Where people reach this server: `[server] public_url`, else `http(s)://` and the
    /// listen address.
    pub fn public_origin(&self) -> String {
        match &self.server.public_url {
            Some(url) => url.clone(),
            None => {
                let scheme = if self.server.tls.is_some() {
                    "https"
                } else {
                    "http"
                };
                format!("{scheme}://{}", self.server.listen)
            }
        }
    }
}

/// `[pages]`.
#[derive(Debug, Clone, Default)]
pub struct PagesConfig {
    /// A header naming the signed-in user, set by an SSO proxy in front (believed only from
    /// `[throttle] trusted_proxies`).
    pub trusted_user_header: Option<http::HeaderName>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// `scheme://host[:port]` people reach vcsgate at (sign-in links); `None`: derived from
    /// `listen` and TLS.
    pub public_url: Option<String>,
    pub realm: String,
    /// Worker threads, each with its own runtime, listener (`SO_REUSEPORT`) and backend
    /// connections (default: one per core).
    pub workers: usize,
    pub tls: Option<TlsFiles>,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The URL to connect with (may carry a password: a secret).
    pub url: Secret,
    /// The same URL with any password replaced by `***`, for logs and messages.
    pub redacted_url: String,
    pub outage_grace: Duration,
    /// PostgreSQL: follow changes through `LISTEN/NOTIFY` (off: poll the change feed).
    pub notifications: bool,
}

/// Why a configuration was refused. Every message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: missing required key `{key}`")]
    Missing { path: PathBuf, key: String },
    #[error("{path}: `{key}` = {value:?}: {reason}")]
    Invalid {
        path: PathBuf,
        key: String,
        value: String,
        reason: String,
    },
    #[error("{path}: two routes have the prefix {prefix:?}")]
    DuplicatePrefix { path: PathBuf, prefix: String },
    #[error("{path}: `{key}`: {reason}")]
    Secret {
        path: PathBuf,
        key: String,
        reason: String,
    },
}

/// Where the config file is: `--config` > `VCSGATE_CONFIG` > `./proxy.toml`.
pub fn locate(flag: Option<&Path>, env: Option<&std::ffi::OsStr>) -> PathBuf {
    match (flag, env) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(env)) if !env.is_empty() => PathBuf::from(env),
        _ => PathBuf::from(DEFAULT_CONFIG_FILE),
    }
}

/// Reads and validates the config file.
pub fn load(path: &Path) -> Result<Config, Error> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    parse(&text, &absolute)
}

/// Validates config text as if read from `path` (relative paths resolve against its
/// directory).
pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
    let raw: raw::RawConfig = toml::from_str(text).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().replace('\n', " | "),
    })?;
    let ctx = Context {
        path: path.to_path_buf(),
        dir: path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    match raw.version {
        Some(CONFIG_VERSION) => {}
        Some(other) => {
            return Err(ctx.invalid(
                "version",
                other,
                format!("unsupported version, expected {CONFIG_VERSION}"),
            ));
        }
        None => return Err(ctx.missing("version")),
    }
    let server = server_config(&ctx, raw.server)?;
    let store = store_config(&ctx, raw.store)?;
    let routes = route::routes(&ctx, raw.routes)?;
    let limits = limits::limits(&ctx, raw.limits)?;
    let throttle = throttle::throttle(&ctx, raw.throttle)?;
    let tokens = tokens::tokens(&ctx, raw.tokens)?;
    let admin = ops::admin(&ctx, raw.admin, server.listen)?;
    let log_format = ops::log_format(&ctx, raw.log)?;
    let pages = pages_config(&ctx, raw.pages)?;
    let notify = notify::notify(&ctx, raw.notify)?;
    let oidc = oidc::issuers(&ctx, raw.oidc)?;
    Ok(Config {
        path: ctx.path,
        server,
        store,
        routes,
        limits,
        throttle,
        tokens,
        admin,
        log_format,
        pages,
        notify,
        oidc,
    })
}

/// Error-building context: the file and its directory.
pub(crate) struct Context {
    path: PathBuf,
    dir: PathBuf,
}

impl Context {
    pub(crate) fn missing(&self, key: impl Into<String>) -> Error {
        Error::Missing {
            path: self.path.clone(),
            key: key.into(),
        }
    }

    pub(crate) fn invalid(
        &self,
        key: impl Into<String>,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Error {
        Error::Invalid {
            path: self.path.clone(),
            key: key.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn secret_error(&self, key: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Secret {
            path: self.path.clone(),
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// Resolves a path from the config against the config file's directory.
    pub(crate) fn resolve(&self, value: &str) -> PathBuf {
        let p = Path::new(value);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.dir.join(p)
        }
    }
}

fn server_config(ctx: &Context, raw: Option<raw::RawServer>) -> Result<ServerConfig, Error> {
    let raw = raw.unwrap_or(raw::RawServer {
        listen: None,
        public_url: None,
        realm: None,
        workers: None,
        tls: None,
    });
    let listen_text = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen = listen_text.parse().map_err(|_| {
        ctx.invalid(
            "server.listen",
            listen_text,
            "expected ADDRESS:PORT, e.g. 127.0.0.1:8080",
        )
    })?;
    let realm = raw.realm.unwrap_or_else(|| DEFAULT_REALM.to_owned());
    if realm.is_empty()
        || realm
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        return Err(ctx.invalid(
            "server.realm",
            &realm,
            "must be non-empty, without quotes, backslashes or control characters",
        ));
    }
    let tls = match raw.tls {
        None => None,
        Some(tls) => Some(TlsFiles {
            cert: ctx.resolve(&tls.cert.ok_or_else(|| ctx.missing("server.tls.cert"))?),
            key: ctx.resolve(&tls.key.ok_or_else(|| ctx.missing("server.tls.key"))?),
        }),
    };
    let workers = match raw.workers {
        None => default_workers(),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|n| (1..=MAX_WORKERS).contains(n))
            .ok_or_else(|| {
                ctx.invalid(
                    "server.workers",
                    n,
                    format!("must be between 1 and {MAX_WORKERS}"),
                )
            })?,
    };
    let public_url = raw
        .public_url
        .as_deref()
        .map(|url| public_url(ctx, url))
        .transpose()?;
    Ok(ServerConfig {
        listen,
        public_url,
        realm,
        workers,
        tls,
    })
}

/// `[server] public_url`: an `http(s)://host[:port]` origin, perhaps with a path prefix (a
/// vcsgate behind a reverse proxy), kept without a trailing `/`.
fn public_url(ctx: &Context, text: &str) -> Result<String, Error> {
    let invalid = |reason: &str| ctx.invalid("server.public_url", text, reason);
    let uri: http::Uri = text.parse().map_err(|_| invalid("not a valid URL"))?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    if !scheme_ok || uri.host().is_none() {
        return Err(invalid(
            "expected http(s)://host[:port], e.g. https://git.example.org",
        ));
    }
    if uri.query().is_some() || text.contains('@') || text.contains('#') {
        return Err(invalid("must not carry user info, a query or a fragment"));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// `[pages]`.
fn pages_config(ctx: &Context, raw: Option<raw::RawPages>) -> Result<PagesConfig, Error> {
    let Some(raw) = raw else {
        return Ok(PagesConfig::default());
    };
    let trusted_user_header = raw
        .trusted_user_header
        .map(|name| {
            http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                ctx.invalid(
                    "pages.trusted_user_header",
                    &name,
                    "not a valid header name",
                )
            })
        })
        .transpose()?;
    Ok(PagesConfig {
        trusted_user_header,
    })
}

/// Most worker threads `[server] workers` may ask for.
pub const MAX_WORKERS: usize = 256;

/// One worker per available core.
fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

fn store_config(ctx: &Context, raw: Option<raw::RawStore>) -> Result<StoreConfig, Error> {
    let raw = raw.ok_or_else(|| ctx.missing("store.url"))?;
    let url = raw.url.ok_or_else(|| ctx.missing("store.url"))?;
    let password = secrets::optional_secret(
        ctx,
        "store",
        None,
        raw.password_env.as_deref(),
        raw.password_file.as_deref(),
    )?;
    let (url, redacted_url) = secrets::store_url(ctx, &url, password)?;
    let outage_grace = raw
        .outage_grace_secs
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_OUTAGE_GRACE);
    Ok(StoreConfig {
        url,
        redacted_url,
        outage_grace,
        notifications: raw.notifications.unwrap_or(true),
    })
}

#[cfg(test)]
mod tests;
