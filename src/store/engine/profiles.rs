//! User profiles inside a write transaction: role, email and a bot's managers (a manager is
//! a known non-bot user; a bot keeps at least one).

use sqlx::{ColumnIndex, Executor, IntoArguments, Transaction};

use super::{SqlStore, owned, unknown_user};
use crate::names::UserName;
use crate::store::dialect::{Dialect, Value};
use crate::store::{Error, UserChange, sql};

impl<DB> SqlStore<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    i64: Value<DB>,
    String: Value<DB>,
    bool: Value<DB>,
    Option<String>: Value<DB>,
{
    /// The id of `manager` for `bot`: a known user that is not a bot itself.
    pub(super) async fn manager_id(
        tx: &mut Transaction<'static, DB>,
        manager: &UserName,
    ) -> Result<i64, Error> {
        let found = run!(fetch_optional::<(i64, bool)>(&mut **tx, sql::USER_KIND; owned(manager)))?;
        match found {
            None => Err(unknown_user(manager)),
            Some((_, true)) => Err(Error::ManagerIsBot {
                name: manager.clone(),
            }),
            Some((id, false)) => Ok(id),
        }
    }

    /// Applies one change to the user `id` (a bot when `bot`) inside `tx`.
    pub(super) async fn apply_change(
        tx: &mut Transaction<'static, DB>,
        (name, id, bot): (&UserName, i64, bool),
        change: &UserChange,
    ) -> Result<(), Error> {
        let not_a_bot = || Error::NotABot { name: name.clone() };
        match change {
            UserChange::Role(role) => exec!(&mut **tx, sql::SET_ROLE; id, owned(role)).map(drop),
            UserChange::Email(email) => {
                let email = email.as_ref().map(owned);
                exec!(&mut **tx, sql::SET_EMAIL; id, email).map(drop)
            }
            UserChange::Active(active) => {
                exec!(&mut **tx, sql::SET_USER_ACTIVE; owned(name), *active).map(drop)
            }
            UserChange::AddManager(manager) => {
                if !bot {
                    return Err(not_a_bot());
                }
                let manager_id = Self::manager_id(tx, manager).await?;
                exec!(&mut **tx, sql::INSERT_MANAGER; id, manager_id).map(drop)
            }
            UserChange::RemoveManager(manager) => {
                if !bot {
                    return Err(not_a_bot());
                }
                let unknown = || Error::UnknownManager {
                    bot: name.clone(),
                    manager: manager.clone(),
                };
                let found =
                    run!(fetch_optional::<(i64,)>(&mut **tx, sql::USER_ID; owned(manager)))?;
                let (manager_id,) = found.ok_or_else(unknown)?;
                run!(fetch_optional::<(i64,)>(&mut **tx, sql::DELETE_MANAGER; id, manager_id))?
                    .ok_or_else(unknown)?;
                Ok(())
            }
        }
    }

    /// Refuses to leave bot `id` without a manager.
    pub(super) async fn check_has_manager(
        tx: &mut Transaction<'static, DB>,
        name: &UserName,
        id: i64,
    ) -> Result<(), Error> {
        let (count,) = run!(fetch_one::<(i64,)>(&mut **tx, sql::COUNT_MANAGERS; id))?;
        if count == 0 {
            return Err(Error::BotNeedsManager { name: name.clone() });
        }
        Ok(())
    }
}
