//! The store written once over any [`Dialect`]: every mutation runs in one write transaction
//! that ends by appending the user's name to the change feed; reads that must agree with
//! themselves are single statements.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::migrate::{Migrate, Migrator};
use sqlx::{ColumnIndex, Executor, IntoArguments, Pool, Transaction};

use super::audit::{changes_detail, new_user_detail};
use super::dialect::{Dialect, Value};
use super::rows::AuditRow;
use super::rows::{self, ChangeRow, GrantRow, PrincipalRow, StandingRow, TokenRow, UserRow};
use super::{
    Audit, AuditAction, AuditEvent, Change, Channel, ClaimedNotice, Error, ExpiringToken, Grant,
    LastUse, NewNotice, NewToken, NewUser, NoticeOutcome, Principal, Replacement, Session, Store,
    TokenId, TokenInfo, User, UserAccess, UserChange, sql,
};
use crate::names::{TokenName, UserName};
use crate::repo::RepoPattern;
use crate::token::TokenHash;
use crate::vocabulary::Access;

/// A store over a pool of `DB` connections.
#[derive(Debug)]
pub struct SqlStore<DB: Dialect> {
    pool: Pool<DB>,
}

/// `run!(fetch_all::<Row>(executor, SQL; args…))`: binds and runs one statement with a
/// `QueryAs` fetch method, mapping rows to `Row` (a `FromRow` struct or a one-column tuple)
/// and errors through `DB`. (Not plain call syntax, so rustfmt keeps one statement a line.)
macro_rules! run {
    ($fetch:ident::<$row:ty>($executor:expr, $sql:expr $(; $($arg:expr),+)?)) => {
        sqlx::query_as::<DB, $row>($sql)$($(.bind($arg))+)?
            .$fetch($executor)
            .await
            .map_err(DB::store_error)
    };
}

/// `exec!(executor, SQL; args…)`: binds and runs one statement that returns no rows.
macro_rules! exec {
    ($executor:expr, $sql:expr $(; $($arg:expr),+)?) => {
        sqlx::query::<DB>($sql)$($(.bind($arg))+)?
            .execute($executor)
            .await
            .map_err(DB::store_error)
    };
}

mod notices;
mod profiles;

/// Migrates the database behind `pool` (migrations ship in the binary) and wraps it.
pub async fn migrated<DB>(pool: Pool<DB>, migrator: &Migrator) -> Result<Arc<dyn Store>, Error>
where
    DB: Dialect,
    DB::Connection: Migrate,
    SqlStore<DB>: Store,
{
    migrator
        .run(&pool)
        .await
        .map_err(|source| Error::Migrate { source })?;
    Ok(Arc::new(SqlStore { pool }))
}

// The bounds below say "DB can run our SQL with these Rust types"; they are the same on both
// impl blocks (Rust does not let a trait carry bounds on other types for us).
impl<DB> SqlStore<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    i64: Value<DB>,
    String: Value<DB>,
{
    async fn begin_write(&self) -> Result<Transaction<'static, DB>, Error> {
        self.pool
            .begin_with(DB::BEGIN_WRITE)
            .await
            .map_err(DB::store_error)
    }

    /// Starts a write transaction about `user`: its id, its row locked until commit.
    async fn begin_for(&self, user: &UserName) -> Result<(Transaction<'static, DB>, i64), Error> {
        let mut tx = self.begin_write().await?;
        let id = run!(fetch_optional::<(i64,)>(&mut *tx, DB::LOCK_USER; owned(user)))?;
        let (id,) = id.ok_or_else(|| unknown_user(user))?;
        Ok((tx, id))
    }

    /// Writes the audit row for a change about `user`, appends `user` to the change feed and
    /// commits: the change, its audit row and its feed entry stand or fall together.
    async fn commit_change(
        mut tx: Transaction<'static, DB>,
        user: &UserName,
        by: &Audit,
        (action, detail): (AuditAction, String),
    ) -> Result<(), Error>
    where
        Option<String>: Value<DB>,
    {
        exec!(&mut *tx, sql::INSERT_AUDIT;
            by.at,
            by.actor.clone(),
            by.actor_user.as_ref().map(owned),
            by.client.clone(),
            action.as_str().to_owned(),
            owned(user),
            detail)?;
        if let Some(serialize) = DB::SERIALIZE_CHANGES {
            exec!(&mut *tx, serialize)?;
        }
        exec!(&mut *tx, sql::APPEND_CHANGE; owned(user))?;
        if let Some(notify) = DB::NOTIFY_CHANGE {
            exec!(&mut *tx, notify; owned(user))?;
        }
        tx.commit().await.map_err(DB::store_error)
    }

    /// The id of `user` (unknown is an error), or `None` when no user is given.
    async fn user_id(&self, user: Option<&UserName>) -> Result<Option<i64>, Error> {
        let Some(user) = user else {
            return Ok(None);
        };
        let id = run!(fetch_optional::<(i64,)>(&self.pool, sql::USER_ID; owned(user)))?;
        let (id,) = id.ok_or_else(|| unknown_user(user))?;
        Ok(Some(id))
    }
}

/// A session's last use is recorded when it is at least this old (not on every page).
const SESSION_TOUCH_SECS: i64 = 60;

/// A name or pattern as the text column holds it.
fn owned(value: &impl std::fmt::Display) -> String {
    value.to_string()
}

/// What the audit log says about a new token: its name, scopes, limits and expiry.
fn token_detail(token: &NewToken) -> String {
    let mut detail = format!("token {} scopes={}", token.name, token.scopes.to_list());
    if !token.repos.is_empty() {
        detail.push_str(&format!(
            " repos={}",
            rows::repos_column(&token.repos).replace('\n', ",")
        ));
    }
    if let Some(at) = token.expires_at {
        detail.push_str(&format!(" expires_at={at}"));
    }
    detail
}

fn unknown_user(user: &UserName) -> Error {
    Error::UnknownUser { name: user.clone() }
}

#[async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Dialect,
    DB::Arguments: IntoArguments<DB>,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    usize: ColumnIndex<DB::Row>,
    i64: Value<DB>,
    String: Value<DB>,
    // Only the trait methods need these.
    for<'n> &'n str: ColumnIndex<DB::Row>,
    Option<i64>: Value<DB>,
    Option<String>: Value<DB>,
    bool: Value<DB>,
{
    async fn create_user(&self, user: &NewUser, by: &Audit) -> Result<(), Error> {
        let name = &user.name;
        if !user.bot && !user.managers.is_empty() {
            return Err(Error::NotABot { name: name.clone() });
        }
        let mut tx = self.begin_write().await?;
        let email = user.email.as_ref().map(owned);
        let (id,) = run!(fetch_optional::<(i64,)>(&mut *tx, sql::INSERT_USER;
            owned(name), user.created_at, owned(&user.role), user.bot, email))?
        .ok_or_else(|| Error::UserExists { name: name.clone() })?;
        for manager in &user.managers {
            let change = UserChange::AddManager(manager.clone());
            Self::apply_change(&mut tx, (name, id, user.bot), &change).await?;
        }
        if user.bot {
            Self::check_has_manager(&mut tx, name, id).await?;
        }
        let entry = (AuditAction::UserAdd, new_user_detail(user));
        Self::commit_change(tx, name, by, entry).await
    }

    async fn update_user(
        &self,
        name: &UserName,
        changes: &[UserChange],
        by: &Audit,
    ) -> Result<(), Error> {
        let (mut tx, id) = self.begin_for(name).await?;
        let (_, bot) = run!(fetch_one::<(i64, bool)>(&mut *tx, sql::USER_KIND; owned(name)))?;
        for change in changes {
            Self::apply_change(&mut tx, (name, id, bot), change).await?;
        }
        if bot {
            Self::check_has_manager(&mut tx, name, id).await?;
        }
        let entry = (AuditAction::UserSet, changes_detail(changes));
        Self::commit_change(tx, name, by, entry).await
    }

    async fn user(&self, name: &UserName) -> Result<Option<User>, Error> {
        let found = run!(fetch_all::<UserRow>(&self.pool, sql::LIST_USERS; Some(owned(name))))?;
        Ok(rows::into_users(found)?.pop())
    }

    async fn set_user_active(
        &self,
        name: &UserName,
        active: bool,
        by: &Audit,
    ) -> Result<(), Error> {
        let mut tx = self.begin_write().await?;
        run!(fetch_optional::<(i64,)>(&mut *tx, sql::SET_USER_ACTIVE; owned(name), active))?
            .ok_or_else(|| unknown_user(name))?;
        let action = if active {
            AuditAction::UserEnable
        } else {
            AuditAction::UserDisable
        };
        Self::commit_change(tx, name, by, (action, String::new())).await
    }

    async fn list_users(&self) -> Result<Vec<User>, Error> {
        let everyone: Option<String> = None;
        rows::into_users(run!(fetch_all::<UserRow>(&self.pool, sql::LIST_USERS; everyone))?)
    }

    async fn set_grant(
        &self,
        user: &UserName,
        pattern: &RepoPattern,
        access: Access,
        by: &Audit,
    ) -> Result<(), Error> {
        let (mut tx, user_id) = self.begin_for(user).await?;
        exec!(&mut *tx, sql::UPSERT_GRANT; user_id, owned(pattern), owned(&access))?;
        let entry = (AuditAction::GrantSet, format!("{pattern} {access}"));
        Self::commit_change(tx, user, by, entry).await
    }

    async fn remove_grant(
        &self,
        user: &UserName,
        pattern: &RepoPattern,
        by: &Audit,
    ) -> Result<(), Error> {
        let (mut tx, user_id) = self.begin_for(user).await?;
        run!(fetch_optional::<(i64,)>(&mut *tx, sql::DELETE_GRANT; user_id, owned(pattern)))?
            .ok_or_else(|| Error::UnknownGrant {
                user: user.clone(),
                pattern: pattern.clone(),
            })?;
        let entry = (AuditAction::GrantRemove, pattern.to_string());
        Self::commit_change(tx, user, by, entry).await
    }

    async fn list_grants(&self, user: Option<&UserName>) -> Result<Vec<Grant>, Error> {
        let user_id = self.user_id(user).await?;
        rows::records(run!(fetch_all::<GrantRow>(&self.pool, sql::LIST_GRANTS; user_id))?)
    }

    async fn create_token(&self, token: &NewToken, by: &Audit) -> Result<TokenId, Error> {
        let (mut tx, user_id) = self.begin_for(&token.user).await?;
        let (name, now) = (owned(&token.name), token.created_at);
        let taken = run!(fetch_optional::<(i64,)>(&mut *tx, sql::ACTIVE_TOKEN_NAMED;
            user_id, name.clone(), now))?;
        if taken.is_some() {
            return Err(Error::TokenNameTaken {
                user: token.user.clone(),
                name: token.name.clone(),
            });
        }
        let (id,) = run!(fetch_one::<(i64,)>(&mut *tx, sql::INSERT_TOKEN;
            user_id,
            name,
            token.hash.to_hex(),
            token.public_prefix.clone(),
            token.scopes.to_list(),
            rows::repos_column(&token.repos),
            token.created_at,
            token.expires_at
        ))?;
        let entry = (AuditAction::TokenCreate, token_detail(token));
        Self::commit_change(tx, &token.user, by, entry).await?;
        Ok(TokenId(id))
    }

    async fn revoke_token(
        &self,
        user: &UserName,
        name: &TokenName,
        now: i64,
        by: &Audit,
    ) -> Result<(), Error> {
        let (mut tx, user_id) = self.begin_for(user).await?;
        let revoked =
            run!(fetch_all::<(i64,)>(&mut *tx, sql::REVOKE_TOKEN; user_id, owned(name), now))?;
        if revoked.is_empty() {
            return Err(Error::UnknownToken {
                user: user.clone(),
                name: name.clone(),
            });
        }
        let entry = (AuditAction::TokenRevoke, format!("token {name}"));
        Self::commit_change(tx, user, by, entry).await
    }

    async fn rotate_token(
        &self,
        user: &UserName,
        name: &TokenName,
        replacement: &Replacement,
        by: &Audit,
    ) -> Result<TokenInfo, Error> {
        let (mut tx, user_id) = self.begin_for(user).await?;
        let now = replacement.created_at;
        let old = run!(fetch_optional::<(i64, String, String)>(&mut *tx, sql::ACTIVE_TOKEN_DETAILS;
            user_id, owned(name), now))?;
        let (old_id, scopes, repos) = old.ok_or_else(|| Error::UnknownToken {
            user: user.clone(),
            name: name.clone(),
        })?;
        exec!(&mut *tx, sql::REVOKE_TOKEN_ID; old_id, now)?;
        let (id,) = run!(fetch_one::<(i64,)>(&mut *tx, sql::INSERT_TOKEN;
            user_id,
            owned(name),
            replacement.hash.to_hex(),
            replacement.public_prefix.clone(),
            scopes,
            repos,
            now,
            replacement.expires_at
        ))?;
        let rotated = run!(fetch_one::<TokenRow>(&mut *tx, sql::TOKEN_BY_ID; id))?;
        let rotated = rows::IntoRecord::into_record(rotated)?;
        let mut detail = format!("token {name}");
        if let Some(at) = replacement.expires_at {
            detail.push_str(&format!(" expires_at={at}"));
        }
        Self::commit_change(tx, user, by, (AuditAction::TokenRotate, detail)).await?;
        Ok(rotated)
    }

    async fn token(&self, id: TokenId) -> Result<Option<TokenInfo>, Error> {
        let found = run!(fetch_optional::<TokenRow>(&self.pool, sql::TOKEN_BY_ID; id.0))?;
        found.map(rows::IntoRecord::into_record).transpose()
    }

    async fn list_tokens(
        &self,
        user: Option<&UserName>,
        include_inactive: bool,
        now: i64,
    ) -> Result<Vec<TokenInfo>, Error> {
        let user_id = self.user_id(user).await?;
        let found = run!(fetch_all::<TokenRow>(&self.pool, sql::LIST_TOKENS;
            user_id, include_inactive, now))?;
        rows::records(found)
    }

    async fn lookup_token(&self, hash: &TokenHash) -> Result<Option<Principal>, Error> {
        let found = run!(fetch_all::<PrincipalRow>(&self.pool, sql::LOOKUP_TOKEN; hash.to_hex()))?;
        rows::into_principal(found)
    }

    async fn user_access(&self, user: &UserName) -> Result<Option<UserAccess>, Error> {
        let found = run!(fetch_all::<StandingRow>(&self.pool, sql::USER_STANDING; owned(user)))?;
        rows::into_access(found)
    }

    async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<Change>, Error> {
        // A negative LIMIT means "all" to SQLite and is an error to PostgreSQL: neither.
        let limit = limit.max(0);
        rows::records(run!(fetch_all::<ChangeRow>(&self.pool, sql::CHANGES_SINCE; seq, limit))?)
    }

    async fn latest_change(&self) -> Result<i64, Error> {
        let (seq,) = run!(fetch_one::<(i64,)>(&self.pool, sql::LATEST_CHANGE))?;
        Ok(seq)
    }

    async fn record_audit(
        &self,
        target: &UserName,
        by: &Audit,
        action: AuditAction,
        detail: &str,
    ) -> Result<(), Error> {
        exec!(&self.pool, sql::INSERT_AUDIT;
            by.at,
            by.actor.clone(),
            by.actor_user.as_ref().map(owned),
            by.client.clone(),
            action.as_str().to_owned(),
            owned(target),
            detail.to_owned())?;
        Ok(())
    }

    async fn list_audit_page(
        &self,
        user: Option<&UserName>,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<AuditEvent>, Error> {
        self.user_id(user).await?;
        let (user, limit) = (user.map(owned), limit.max(0));
        let before = before.unwrap_or(i64::MAX);
        rows::records(
            run!(fetch_all::<AuditRow>(&self.pool, sql::LIST_AUDIT; user, limit, before))?,
        )
    }

    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), Error> {
        if uses.is_empty() {
            return Ok(());
        }
        // In id order, so that two servers flushing overlapping batches cannot deadlock.
        let mut sorted = uses.to_vec();
        sorted.sort_unstable();
        let mut tx = self.begin_write().await?;
        for LastUse { token, at, ip } in sorted {
            exec!(&mut *tx, sql::RECORD_LAST_USED; token.0, at, ip)?;
        }
        tx.commit().await.map_err(DB::store_error)
    }

    async fn create_session(
        &self,
        id: &TokenHash,
        user: &UserName,
        csrf: &str,
        now: i64,
    ) -> Result<(), Error> {
        run!(fetch_optional::<(String,)>(&self.pool, sql::INSERT_SESSION;
            id.to_hex(), owned(user), csrf.to_owned(), now))?
        .ok_or_else(|| unknown_user(user))?;
        Ok(())
    }

    async fn session(
        &self,
        id: &TokenHash,
        now: i64,
        idle_secs: i64,
    ) -> Result<Option<Session>, Error> {
        let found = run!(fetch_optional::<(String, String, i64)>(&self.pool, sql::SESSION;
            id.to_hex()))?;
        let Some((user, csrf, last_seen)) = found else {
            return Ok(None);
        };
        if now - last_seen >= idle_secs {
            exec!(&self.pool, sql::DELETE_SESSION; id.to_hex())?;
            return Ok(None);
        }
        if now - last_seen >= SESSION_TOUCH_SECS {
            exec!(&self.pool, sql::TOUCH_SESSION; id.to_hex(), now)?;
        }
        let user = UserName::parse(&user).map_err(|_| Error::Corrupt {
            what: "user name",
            value: user.clone(),
        })?;
        Ok(Some(Session { user, csrf }))
    }

    async fn end_session(&self, id: &TokenHash) -> Result<(), Error> {
        exec!(&self.pool, sql::DELETE_SESSION; id.to_hex())?;
        Ok(())
    }

    async fn create_login_link(
        &self,
        hash: &TokenHash,
        user: &UserName,
        (now, expires_at): (i64, i64),
    ) -> Result<(), Error> {
        run!(fetch_optional::<(String,)>(&self.pool, sql::INSERT_LOGIN_LINK;
            hash.to_hex(), owned(user), now, expires_at))?
        .ok_or_else(|| unknown_user(user))?;
        Ok(())
    }

    async fn use_login_link(&self, hash: &TokenHash, now: i64) -> Result<Option<UserName>, Error> {
        let used = run!(fetch_optional::<(i64,)>(&self.pool, sql::USE_LOGIN_LINK;
            hash.to_hex(), now))?;
        let Some((user_id,)) = used else {
            return Ok(None);
        };
        let (name,) = run!(fetch_one::<(String,)>(&self.pool, sql::USER_NAME; user_id))?;
        let name = UserName::parse(&name).map_err(|_| Error::Corrupt {
            what: "user name",
            value: name.clone(),
        })?;
        Ok(Some(name))
    }

    async fn expiring_tokens(&self, now: i64, until: i64) -> Result<Vec<ExpiringToken>, Error> {
        self.select_expiring(now, until).await
    }

    async fn add_notices(&self, notices: &[NewNotice], now: i64) -> Result<usize, Error> {
        self.insert_notices(notices, now).await
    }

    async fn claim_notice(
        &self,
        now: i64,
        lease_until: i64,
        channels: &[Channel],
    ) -> Result<Option<ClaimedNotice>, Error> {
        self.lease_notice(now, lease_until, channels).await
    }

    async fn finish_notice(
        &self,
        claim: &ClaimedNotice,
        outcome: &NoticeOutcome,
        now: i64,
    ) -> Result<bool, Error> {
        self.record_notice(claim, outcome, now).await
    }
}
