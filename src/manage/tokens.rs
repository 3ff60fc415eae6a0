//! Tokens: their owner, the managers of a bot owner, and admins may create, list and revoke
//! them.

use super::{Actor, Error, TokenPolicy};
use crate::names::{TokenName, UserName};
use crate::store::{self, AuditAction, NewToken, Replacement, Store, TokenId, TokenInfo};

/// The expiry the policy gives a token `(owner, name)` asked for with `requested` at `now`;
/// a refusal is written to the audit log (best effort: the refusal stands either way).
async fn checked_expiry(
    store: &dyn Store,
    actor: &Actor,
    policy: &TokenPolicy,
    (owner, name): (&UserName, &TokenName),
    (requested, now): (Option<i64>, i64),
) -> Result<Option<i64>, Error> {
    match policy.expiry(requested, now) {
        Ok(expiry) => Ok(expiry),
        Err(refused) => {
            let detail = format!("token {name}: {refused}");
            let action = AuditAction::PolicyRefusal;
            if let Err(error) = store
                .record_audit(owner, &actor.audit(now), action, &detail)
                .await
            {
                tracing::warn!(%error, "could not write a policy refusal to the audit log");
            }
            Err(refused.into())
        }
    }
}

/// Refuses unless `actor` may manage `owner`'s tokens (an unknown owner is an unknown user).
pub async fn require_manager_of(
    store: &dyn Store,
    actor: &Actor,
    owner: &UserName,
    action: &'static str,
) -> Result<(), Error> {
    if actor.is_admin() {
        return Ok(());
    }
    let found = store.user(owner).await?;
    let user = found.ok_or_else(|| store::Error::UnknownUser {
        name: owner.clone(),
    })?;
    if actor.manages_tokens_of(&user) {
        return Ok(());
    }
    Err(Error::Forbidden {
        actor: actor.to_string(),
        action,
        missing: "being the owner, a manager of the bot, or an admin",
    })
}

/// Stores a new token (its secret already generated; only the hash is kept). Its
/// `expires_at` is the one asked for; the policy may fill in a default or refuse it. Returns
/// the id and the expiry the token got.
pub async fn create(
    store: &dyn Store,
    actor: &Actor,
    policy: &TokenPolicy,
    mut token: NewToken,
) -> Result<(TokenId, Option<i64>), Error> {
    require_manager_of(store, actor, &token.user, "create tokens of this user").await?;
    let at = token.created_at;
    token.expires_at = checked_expiry(
        store,
        actor,
        policy,
        (&token.user, &token.name),
        (token.expires_at, at),
    )
    .await?;
    let id = store
        .create_token(&token, &actor.audit(token.created_at))
        .await?;
    Ok((id, token.expires_at))
}

/// Revokes `owner`'s active token named `name`.
pub async fn revoke(
    store: &dyn Store,
    actor: &Actor,
    owner: &UserName,
    name: &TokenName,
    now: i64,
) -> Result<(), Error> {
    require_manager_of(store, actor, owner, "revoke tokens of this user").await?;
    Ok(store
        .revoke_token(owner, name, now, &actor.audit(now))
        .await?)
}

/// Replaces `owner`'s active token `name` with a new secret (same name, scopes and repo
/// limits; the old one's lifetime from now unless another expiry is asked for) and revokes
/// the old one at once; on any failure the old one keeps working.
pub async fn rotate(
    store: &dyn Store,
    actor: &Actor,
    policy: &TokenPolicy,
    (owner, name): (&UserName, &TokenName),
    mut replacement: Replacement,
) -> Result<TokenInfo, Error> {
    require_manager_of(store, actor, owner, "rotate tokens of this user").await?;
    let now = replacement.created_at;
    if replacement.expires_at.is_none() {
        // Asked for no particular expiry: the new secret is good for as long as the old one
        // was when it was made (a 30-day token rotated is good for 30 days from now).
        let active = store.list_tokens(Some(owner), false, now).await?;
        let current = active.iter().find(|t| t.name == *name);
        replacement.expires_at = current
            .and_then(|t| Some(t.expires_at? - t.created_at))
            .map(|lifetime| now.saturating_add(lifetime.max(1)));
    }
    replacement.expires_at = checked_expiry(
        store,
        actor,
        policy,
        (owner, name),
        (replacement.expires_at, now),
    )
    .await?;
    let by = actor.audit(now);
    Ok(store.rotate_token(owner, name, &replacement, &by).await?)
}

/// Active tokens (or all) of `owner`, or of everyone (admins only).
pub async fn list(
    store: &dyn Store,
    actor: &Actor,
    owner: Option<&UserName>,
    include_inactive: bool,
    now: i64,
) -> Result<Vec<TokenInfo>, Error> {
    match owner {
        Some(owner) => require_manager_of(store, actor, owner, "list tokens of this user").await?,
        None => actor.require_admin("list everyone's tokens")?,
    }
    Ok(store.list_tokens(owner, include_inactive, now).await?)
}

/// The token `id`, if the actor may manage its owner's tokens (`action` names what for).
pub async fn get(
    store: &dyn Store,
    actor: &Actor,
    id: TokenId,
    action: &'static str,
) -> Result<TokenInfo, Error> {
    let found = store.token(id).await?;
    let token = found.ok_or(Error::NoSuchToken { id: id.0 })?;
    require_manager_of(store, actor, &token.user, action).await?;
    Ok(token)
}

/// Revokes the token `id`; one already revoked or expired stays as it is (revoking is
/// idempotent). Returns the token's owner.
pub async fn revoke_by_id(
    store: &dyn Store,
    actor: &Actor,
    id: TokenId,
    now: i64,
) -> Result<UserName, Error> {
    let token = get(store, actor, id, "revoke tokens of this user").await?;
    if token.revoked_at.is_none() && token.expires_at.is_none_or(|at| now < at) {
        revoke(store, actor, &token.user, &token.name, now).await?;
    }
    Ok(token.user)
}

/// Rotates the active token `id` (see [`rotate`]); a revoked or expired one cannot be.
pub async fn rotate_by_id(
    store: &dyn Store,
    actor: &Actor,
    policy: &TokenPolicy,
    id: TokenId,
    replacement: Replacement,
) -> Result<TokenInfo, Error> {
    let token = get(store, actor, id, "rotate tokens of this user").await?;
    let now = replacement.created_at;
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|at| now >= at) {
        return Err(store::Error::UnknownToken {
            user: token.user,
            name: token.name,
        }
        .into());
    }
    rotate(
        store,
        actor,
        policy,
        (&token.user, &token.name),
        replacement,
    )
    .await
}
