//! Grants (user × repo pattern × access): admins only.

use super::{Actor, Error};
use crate::names::UserName;
use crate::repo::RepoPattern;
use crate::store::{Grant, Store};
use crate::vocabulary::Access;

/// Adds a grant, or updates the access of the user's grant for the same pattern.
pub async fn set(
    store: &dyn Store,
    actor: &Actor,
    (user, pattern, access): (&UserName, &RepoPattern, Access),
    now: i64,
) -> Result<(), Error> {
    let grant = Grant {
        user: user.clone(),
        pattern: pattern.clone(),
        access,
        refs: Vec::new(),
    };
    put(store, actor, &grant, now).await
}

/// Adds a grant with its ref patterns (empty: every ref), or updates the access and ref
/// patterns of the user's grant for the same pattern.
pub async fn put(store: &dyn Store, actor: &Actor, grant: &Grant, now: i64) -> Result<(), Error> {
    actor.require_admin("change grants")?;
    if grant.user.is_anonymous() && grant.access == Access::Write {
        return Err(Error::Reserved {
            what: "receive write grants (anonymous may only read)",
        });
    }
    Ok(store.put_grant(grant, &actor.audit(now)).await?)
}

pub async fn remove(
    store: &dyn Store,
    actor: &Actor,
    user: &UserName,
    pattern: &RepoPattern,
    now: i64,
) -> Result<(), Error> {
    actor.require_admin("change grants")?;
    Ok(store.remove_grant(user, pattern, &actor.audit(now)).await?)
}

/// All grants, or one user's.
pub async fn list(
    store: &dyn Store,
    actor: &Actor,
    user: Option<&UserName>,
) -> Result<Vec<Grant>, Error> {
    actor.require_admin("list grants")?;
    Ok(store.list_grants(user).await?)
}
