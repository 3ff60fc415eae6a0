//! Users: add, change (role, email, a bot's managers), disable and enable, list. Admins only
//! (the CLI is an admin); anyone may read itself.

use super::{Actor, Error};
use crate::names::UserName;
use crate::store::{self, NewUser, Store, User, UserChange};

/// Adds a user; a bot needs at least one manager, each a known non-bot user.
pub async fn add(store: &dyn Store, actor: &Actor, user: &NewUser) -> Result<(), Error> {
    actor.require_admin("add users")?;
    Ok(store
        .create_user(user, &actor.audit(user.created_at))
        .await?)
}

/// Changes a user's role, email or a bot's managers: all of `changes` or none.
pub async fn change(
    store: &dyn Store,
    actor: &Actor,
    name: &UserName,
    changes: &[UserChange],
    now: i64,
) -> Result<(), Error> {
    actor.require_admin("change users")?;
    let to_admin = changes
        .iter()
        .any(|c| matches!(c, UserChange::Role(crate::vocabulary::Role::Admin)));
    if name.is_anonymous() && to_admin {
        return Err(Error::Reserved {
            what: "become an admin",
        });
    }
    Ok(store.update_user(name, changes, &actor.audit(now)).await?)
}

/// Disables (all its tokens refused) or enables a user.
pub async fn set_active(
    store: &dyn Store,
    actor: &Actor,
    name: &UserName,
    active: bool,
    now: i64,
) -> Result<(), Error> {
    actor.require_admin(if active {
        "enable users"
    } else {
        "disable users"
    })?;
    Ok(store
        .set_user_active(name, active, &actor.audit(now))
        .await?)
}

/// Every user, by name, except the reserved `anonymous` (like a forge's user list, and so
/// that scripts walking the list never try to give it tokens; its grants show in
/// `grant list`, and [`get`] reads it).
pub async fn list(store: &dyn Store, actor: &Actor) -> Result<Vec<User>, Error> {
    actor.require_admin("list users")?;
    Ok(store.list_users().await?)
}

/// One user: admins read anyone, a user itself.
pub async fn get(store: &dyn Store, actor: &Actor, name: &UserName) -> Result<User, Error> {
    let own = matches!(actor, Actor::User { name: me, .. } if me == name);
    if !own {
        actor.require_admin("read other users")?;
    }
    let found = store.user(name).await?;
    Ok(found.ok_or_else(|| store::Error::UnknownUser { name: name.clone() })?)
}
