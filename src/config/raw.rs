//! The `proxy.toml` file as serde reads it: every table denies unknown keys. Validation into
//! typed values happens in [`super::validate`].

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub version: Option<i64>,
    pub server: Option<RawServer>,
    pub store: Option<RawStore>,
    pub limits: Option<RawLimits>,
    pub throttle: Option<RawThrottle>,
    pub tokens: Option<RawTokens>,
    pub admin: Option<RawAdmin>,
    pub log: Option<RawLog>,
    pub pages: Option<RawPages>,
    pub notify: Option<RawNotify>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RawRoute>,
    #[serde(default)]
    pub oidc: Vec<RawOidc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOidc {
    pub issuer: Option<String>,
    pub jwks_file: Option<String>,
    pub jwks_url: Option<String>,
    pub jwks_ca_file: Option<String>,
    pub audience: Option<String>,
    pub user: Option<String>,
    pub max_ttl_secs: Option<u64>,
    pub allow: Option<Vec<RawOidcAllow>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOidcAllow {
    pub claims: Option<std::collections::BTreeMap<String, String>>,
    pub repos: Option<Vec<String>>,
    pub access: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub public_url: Option<String>,
    pub realm: Option<String>,
    pub workers: Option<i64>,
    pub tls: Option<RawTls>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub cert: Option<String>,
    pub key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    pub outage_grace_secs: Option<u64>,
    pub notifications: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    pub prefix: Option<String>,
    pub kind: Option<String>,
    pub backend: Option<String>,
    pub repos: Option<String>,
    pub git_binary: Option<String>,
    pub lfs: Option<bool>,
    pub lfs_max_object_bytes: Option<u64>,
    pub ca_file: Option<String>,
    pub repo_depth: Option<usize>,
    pub svn_layout: Option<String>,
    pub url_token_paths: Option<Vec<String>>,
    pub feed_paths: Option<Vec<String>>,
    pub identity: Option<RawIdentity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIdentity {
    pub mode: Option<String>,
    pub header: Option<String>,
    pub secret: Option<String>,
    pub secret_env: Option<String>,
    pub secret_file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_connections: Option<u64>,
    pub max_connections_per_client: Option<u64>,
    pub max_header_bytes: Option<u64>,
    pub max_headers: Option<u64>,
    pub header_timeout_secs: Option<u64>,
    pub body_prefix_bytes: Option<u64>,
    pub connect_timeout_secs: Option<u64>,
    pub first_byte_timeout_secs: Option<u64>,
    pub shutdown_grace_secs: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawThrottle {
    pub burst: Option<u64>,
    pub per_minute: Option<u64>,
    pub max_tracked_clients: Option<u64>,
    pub trusted_proxies: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPages {
    pub trusted_user_header: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokens {
    pub max_lifetime_days: Option<i64>,
    pub default_lifetime_days: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAdmin {
    pub listen: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    pub webhook_url: Option<String>,
    pub webhook_secret_file: Option<String>,
    pub scan_interval_secs: Option<u64>,
    pub retry_initial_secs: Option<u64>,
    pub smtp: Option<RawSmtp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<u64>,
    pub from: Option<String>,
    pub tls: Option<String>,
    pub username: Option<String>,
    pub password_file: Option<String>,
}
