//! Protected refs (ACCESS.md "Ref rules"): admins only.

use super::{Actor, Error};
use crate::refs::{Protection, RefPattern};
use crate::repo::RepoPattern;
use crate::store::Store;

/// Adds a protection, or updates the flags of the one with the same patterns.
pub async fn put(
    store: &dyn Store,
    actor: &Actor,
    protection: &Protection,
    now: i64,
) -> Result<(), Error> {
    actor.require_admin("change protected refs")?;
    Ok(store
        .put_protection(protection, now, &actor.audit(now))
        .await?)
}

pub async fn remove(
    store: &dyn Store,
    actor: &Actor,
    (repo, refs): (&RepoPattern, &RefPattern),
    now: i64,
) -> Result<(), Error> {
    actor.require_admin("change protected refs")?;
    Ok(store
        .remove_protection(repo, refs, &actor.audit(now))
        .await?)
}

/// Every protection. Anyone may read them (they say what a push may not do), but the CLI
/// and the API list them for admins.
pub async fn list(store: &dyn Store, actor: &Actor) -> Result<Vec<Protection>, Error> {
    actor.require_admin("list protected refs")?;
    Ok(store.list_protections().await?)
}
