//! Signing in to the pages: one-time links (made by the CLI), sessions (started by a link, a
//! pasted `api` token or a trusted SSO header) and their end. Only hashes are stored.

use super::{Actor, Error};
use crate::names::UserName;
use crate::secret::Secret;
use crate::store::{self, AuditAction, Store};
use crate::token::{self, TokenHash};

/// Length of session ids, link secrets and CSRF tokens (base62: about 238 bits).
pub const SECRET_LEN: usize = 40;

/// Where sign-in links point, below the public origin.
pub const LINK_PATH: &str = "/-/sign-in/";

fn random() -> Result<String, Error> {
    token::random_text(SECRET_LEN).map_err(|e| Error::Randomness(e.to_string()))
}

/// Whether `user` may sign in to the pages at all: known, enabled, not a bot.
pub async fn may_sign_in(store: &dyn Store, user: &UserName) -> Result<bool, Error> {
    let found = store.user(user).await?;
    Ok(found.is_some_and(|u| u.active && !u.bot))
}

/// Makes a one-time sign-in link for `user` valid for `ttl_secs` from `now`; returns its
/// path (`/-/sign-in/SECRET`), a secret.
pub async fn login_link(
    store: &dyn Store,
    actor: &Actor,
    user: &UserName,
    (now, ttl_secs): (i64, i64),
) -> Result<Secret, Error> {
    actor.require_admin("make sign-in links")?;
    let found = store.user(user).await?;
    let user_record = found.ok_or_else(|| store::Error::UnknownUser { name: user.clone() })?;
    if user_record.bot || !user_record.active {
        return Err(Error::CannotSignIn {
            user: user.clone(),
            why: if user_record.bot {
                "is a bot"
            } else {
                "is disabled"
            },
        });
    }
    let secret = random()?;
    store
        .create_login_link(&TokenHash::of(&secret), user, (now, now + ttl_secs))
        .await?;
    Ok(Secret::new(format!("{LINK_PATH}{secret}")))
}

/// A new session: its id (the cookie's value, a secret) and CSRF token.
pub struct Started {
    pub id: Secret,
    pub csrf: String,
}

/// Starts a session for `user`, signed in by `how` (`link`, `token`, `header`), and writes
/// the sign-in to the audit log.
pub async fn start(
    store: &dyn Store,
    user: &UserName,
    (how, client): (&str, Option<String>),
    now: i64,
) -> Result<Started, Error> {
    let id = random()?;
    let csrf = random()?;
    store
        .create_session(&TokenHash::of(&id), user, &csrf, now)
        .await?;
    let by = Actor::User {
        name: user.clone(),
        role: crate::vocabulary::Role::User,
        token: None,
        client,
    }
    .audit(now);
    let detail = format!("pages, by {how}");
    if let Err(error) = store
        .record_audit(user, &by, AuditAction::SignIn, &detail)
        .await
    {
        tracing::warn!(%error, "could not write a sign-in to the audit log");
    }
    Ok(Started {
        id: Secret::new(id),
        csrf,
    })
}
