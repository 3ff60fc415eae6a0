//! `[[oidc]]` issuers and their `[[oidc.allow]]` rules (ACCESS.md "OIDC identities for CI").
//! Keys come from a JWKS file (resolved against the config file's directory, read by
//! `check-config` and at start) or an `https://` URL.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::raw::{RawOidc, RawOidcAllow};
use super::{Context, Error};
use crate::authn::oidc::rules::valid_claim_name;
use crate::authn::oidc::{AllowRule, ClaimGlob, Issuer, JwksError, KeySet, RepoTemplate};
use crate::names::UserName;
use crate::vocabulary::Access;

/// `max_ttl_secs` when not given: an hour (GitHub's job tokens live minutes, GitLab's up to
/// the job timeout).
pub const DEFAULT_OIDC_MAX_TTL_SECS: i64 = 3600;

/// Where an issuer's keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    File(PathBuf),
    /// Fetched at start and again on an unknown `kid` (at most once a minute); `ca_file`
    /// adds a CA to the system roots.
    Url {
        url: http::Uri,
        ca_file: Option<PathBuf>,
    },
}

/// A validated `[[oidc]]` table.
#[derive(Debug, Clone)]
pub struct OidcIssuer {
    pub issuer: Issuer,
    pub jwks: JwksSource,
}

/// Why an issuer's keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error("oidc issuer {issuer}: cannot read {path}: {source}")]
    Read {
        issuer: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("oidc issuer {issuer}: {path}: {source}")]
    Jwks {
        issuer: String,
        path: PathBuf,
        #[source]
        source: JwksError,
    },
}

impl OidcIssuer {
    /// Loads the issuer's keys from its `jwks_file` (`check-config` and `serve` both do, so a
    /// bad file is a config error before anything is served); `None` for a `jwks_url`, which
    /// `serve` fetches.
    pub fn load_keys(&self) -> Result<Option<KeySet>, KeyLoadError> {
        let issuer = || self.issuer.issuer.clone();
        match &self.jwks {
            JwksSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| KeyLoadError::Read {
                    issuer: issuer(),
                    path: path.clone(),
                    source,
                })?;
                KeySet::parse(&text)
                    .map(Some)
                    .map_err(|source| KeyLoadError::Jwks {
                        issuer: issuer(),
                        path: path.clone(),
                        source,
                    })
            }
            JwksSource::Url { .. } => Ok(None),
        }
    }
}

pub(super) fn issuers(ctx: &Context, raw: Vec<RawOidc>) -> Result<Vec<OidcIssuer>, Error> {
    let mut out: Vec<OidcIssuer> = Vec::with_capacity(raw.len());
    for (index, raw) in raw.into_iter().enumerate() {
        let issuer = issuer(ctx, index, raw)?;
        if out.iter().any(|o| o.issuer.issuer == issuer.issuer.issuer) {
            return Err(ctx.invalid(
                format!("oidc[{index}].issuer"),
                &issuer.issuer.issuer,
                "another [[oidc]] table has the same issuer",
            ));
        }
        out.push(issuer);
    }
    Ok(out)
}

fn issuer(ctx: &Context, index: usize, raw: RawOidc) -> Result<OidcIssuer, Error> {
    let key = |name: &str| format!("oidc[{index}].{name}");
    let text = |name: &str, value: Option<String>| -> Result<String, Error> {
        match value {
            Some(v) if !v.trim().is_empty() => Ok(v),
            Some(v) => Err(ctx.invalid(key(name), v, "must not be empty")),
            None => Err(ctx.missing(key(name))),
        }
    };
    let issuer_name = text("issuer", raw.issuer)?;
    let audience = text("audience", raw.audience)?;
    let user_text = text("user", raw.user)?;
    let user = UserName::parse(&user_text)
        .map_err(|e| ctx.invalid(key("user"), &user_text, e.to_string()))?;
    if user.is_anonymous() {
        return Err(ctx.invalid(
            key("user"),
            &user_text,
            "anonymous is reserved for requests without credentials",
        ));
    }
    let jwks = match (raw.jwks_file, raw.jwks_url) {
        (Some(file), None) => {
            if raw.jwks_ca_file.is_some() {
                return Err(ctx.invalid(key("jwks_ca_file"), "", "only with `jwks_url`"));
            }
            JwksSource::File(ctx.resolve(&file))
        }
        (None, Some(url)) => JwksSource::Url {
            url: jwks_url(ctx, &key("jwks_url"), &url)?,
            ca_file: raw.jwks_ca_file.as_deref().map(|f| ctx.resolve(f)),
        },
        (Some(_), Some(_)) => {
            return Err(ctx.invalid(
                key("jwks_url"),
                "",
                "give either `jwks_file` or `jwks_url`, not both",
            ));
        }
        (None, None) => return Err(ctx.missing(key("jwks_file"))),
    };
    let max_ttl_secs = match raw.max_ttl_secs {
        None => DEFAULT_OIDC_MAX_TTL_SECS,
        Some(0) => return Err(ctx.invalid(key("max_ttl_secs"), 0, "must be at least 1")),
        Some(secs) => {
            i64::try_from(secs).map_err(|_| ctx.invalid(key("max_ttl_secs"), secs, "too large"))?
        }
    };
    let raw_rules = raw.allow.unwrap_or_default();
    if raw_rules.is_empty() {
        return Err(ctx.invalid(
            key("allow"),
            "",
            "an issuer needs at least one [[oidc.allow]] rule",
        ));
    }
    let allow = raw_rules
        .into_iter()
        .enumerate()
        .map(|(i, rule)| allow_rule(ctx, &key(&format!("allow[{i}]")), rule))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(OidcIssuer {
        issuer: Issuer {
            issuer: issuer_name,
            audience,
            user,
            max_ttl_secs,
            allow,
        },
        jwks,
    })
}

fn jwks_url(ctx: &Context, key: &str, text: &str) -> Result<http::Uri, Error> {
    let url: http::Uri = text
        .parse()
        .map_err(|_| ctx.invalid(key, text, "not a valid URL"))?;
    if url.scheme_str() != Some("https") || url.host().is_none() {
        return Err(ctx.invalid(key, text, "must be an https:// URL with a host"));
    }
    if url.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(ctx.invalid(key, text, "must not carry credentials"));
    }
    Ok(url)
}

fn allow_rule(ctx: &Context, key: &str, raw: RawOidcAllow) -> Result<AllowRule, Error> {
    let claims: BTreeMap<String, String> = raw.claims.unwrap_or_default();
    if claims.is_empty() {
        return Err(ctx.invalid(
            format!("{key}.claims"),
            "",
            "list at least one claim (without, every job of the issuer would match)",
        ));
    }
    for name in claims.keys() {
        if !valid_claim_name(name) {
            return Err(ctx.invalid(
                format!("{key}.claims"),
                name,
                "not a claim name (A-Z a-z 0-9 _ - . :)",
            ));
        }
    }
    let repos = raw.repos.unwrap_or_default();
    if repos.is_empty() {
        return Err(ctx.missing(format!("{key}.repos")));
    }
    let repos = repos
        .iter()
        .map(|text| {
            RepoTemplate::parse(text)
                .map_err(|e| ctx.invalid(format!("{key}.repos"), text, e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let access_text = raw
        .access
        .ok_or_else(|| ctx.missing(format!("{key}.access")))?;
    let access: Access = access_text
        .parse()
        .map_err(|e: crate::vocabulary::UnknownWord| {
            ctx.invalid(format!("{key}.access"), &access_text, e.to_string())
        })?;
    Ok(AllowRule {
        claims: claims
            .into_iter()
            .map(|(name, glob)| {
                let glob = ClaimGlob::new(&glob);
                (name, glob)
            })
            .collect(),
        repos,
        access,
    })
}
