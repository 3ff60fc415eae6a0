//! The audit log: admins read all of it, users the events about or by themselves.

use super::{Actor, Error};
use crate::names::UserName;
use crate::store::{AuditEvent, Store};

/// How many events a listing shows when no limit is asked for.
pub const DEFAULT_LIMIT: i64 = 100;

/// The newest `limit` events, newest first: all, or those about or by `user`.
pub async fn list(
    store: &dyn Store,
    actor: &Actor,
    user: Option<&UserName>,
    limit: i64,
) -> Result<Vec<AuditEvent>, Error> {
    page(store, actor, (user, limit), None).await
}

/// Like [`list`], only events older than the event `before` (the pages' paging).
pub async fn page(
    store: &dyn Store,
    actor: &Actor,
    (user, limit): (Option<&UserName>, i64),
    before: Option<i64>,
) -> Result<Vec<AuditEvent>, Error> {
    let own = matches!((actor, user), (Actor::User { name, .. }, Some(user)) if name == user);
    if !own {
        actor.require_admin("read others' audit events")?;
    }
    Ok(store.list_audit_page(user, limit, before).await?)
}
