//! Secrets in the config: given inline, through an environment variable, or from a file —
//! and the store URL, whose password may come from either and is redacted for display.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::{Context, Error};
use crate::secret::Secret;
use crate::store::redact_url as redact;

/// Reads a secret given by at most one of `inline`, `env` (a variable name) or `file` (a
/// path, trailing newline removed). `table` names the config table for messages.
pub(crate) fn optional_secret(
    ctx: &Context,
    table: &str,
    inline: Option<&str>,
    env: Option<&str>,
    file: Option<&str>,
) -> Result<Option<Secret>, Error> {
    let given = [inline.is_some(), env.is_some(), file.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(ctx.secret_error(
            table,
            "give the secret one way only: inline, *_env or *_file",
        ));
    }
    if let Some(value) = inline {
        return Ok(Some(Secret::new(value)));
    }
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(value) if !value.is_empty() => Ok(Some(Secret::new(value))),
            _ => Err(ctx.secret_error(
                format!("{table}.*_env"),
                format!("environment variable {var} is not set or empty"),
            )),
        };
    }
    if let Some(path) = file {
        return secret_file(ctx, &format!("{table}.*_file"), path).map(Some);
    }
    Ok(None)
}

/// Reads a secret from the file `path` (relative to the config file; trailing newline
/// removed); an unreadable or empty file is an error naming `key`, never showing the content.
pub(crate) fn secret_file(ctx: &Context, key: &str, path: &str) -> Result<Secret, Error> {
    let resolved = ctx.resolve(path);
    match std::fs::read_to_string(&resolved) {
        Ok(text) => {
            let value = text.trim_end_matches(['\n', '\r']);
            if value.is_empty() {
                Err(ctx.secret_error(key, format!("{} is empty", resolved.display())))
            } else {
                Ok(Secret::new(value))
            }
        }
        Err(e) => Err(ctx.secret_error(key, format!("cannot read {}: {e}", resolved.display()))),
    }
}

/// Validates the store URL, resolves a relative SQLite path against the config directory,
/// and inserts a separately given PostgreSQL password. Returns the URL and its redacted form.
pub(crate) fn store_url(
    ctx: &Context,
    url: &str,
    password: Option<Secret>,
) -> Result<(Secret, String), Error> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(ctx.invalid(
            "store.url",
            redact(url),
            "expected sqlite://FILE or postgres://USER@HOST/DB",
        ));
    };
    match scheme {
        "sqlite" => {
            if password.is_some() {
                return Err(ctx.secret_error("store", "a SQLite store takes no password"));
            }
            if rest.is_empty() || rest.contains('?') || rest.contains('#') {
                return Err(ctx.invalid(
                    "store.url",
                    url,
                    "expected sqlite://FILE (relative to the config file) or sqlite:///ABS/FILE",
                ));
            }
            let path = ctx.resolve(rest);
            let full = format!("sqlite://{}", path.display());
            Ok((Secret::new(full.clone()), full))
        }
        "postgres" | "postgresql" => {
            let full = match password {
                None => url.to_owned(),
                Some(password) => with_password(ctx, scheme, rest, &password)?,
            };
            let redacted = redact(&full);
            Ok((Secret::new(full), redacted))
        }
        other => Err(ctx.invalid(
            "store.url",
            redact(url),
            format!("unsupported scheme {other:?}: use sqlite:// or postgres://"),
        )),
    }
}

fn with_password(
    ctx: &Context,
    scheme: &str,
    rest: &str,
    password: &Secret,
) -> Result<String, Error> {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return Err(ctx.secret_error(
            "store.password_*",
            "the URL needs a user (postgres://USER@HOST/DB) to take a password",
        ));
    };
    if userinfo.contains(':') {
        return Err(ctx.secret_error(
            "store.password_*",
            "the URL already carries a password; give it one way only",
        ));
    }
    let encoded = utf8_percent_encode(password.expose(), NON_ALPHANUMERIC);
    Ok(format!("{scheme}://{userinfo}:{encoded}@{host}{tail}"))
}
