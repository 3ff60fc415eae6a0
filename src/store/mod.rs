//! The store: users, grants and tokens, behind one trait with a SQLite and a PostgreSQL
//! implementation, chosen once at start-up by the URL scheme. Every mutation also appends
//! a row to a change feed (`changes`), which running servers poll to keep their in-memory
//! decisions fresh within a second — also across machines on PostgreSQL.
//!
//! Times are Unix seconds (UTC). Only token hashes are stored.

mod audit;
pub mod copy;
mod dialect;
mod engine;
mod notice;
pub mod postgres;
mod rows;
mod sql;
pub mod sqlite;
mod url;

pub use audit::{Audit, AuditAction, AuditEvent};
pub use notice::{Channel, ClaimedNotice, ExpiringToken, NewNotice, NoticeOutcome, Threshold};
pub use url::redact_url;

use std::sync::Arc;

use async_trait::async_trait;

use crate::names::{Email, TokenName, UserName};
use crate::refs::{Protection, RefPattern};
use crate::repo::RepoPattern;
use crate::token::TokenHash;
use crate::vocabulary::{Access, Role, ScopeSet};

/// Database id of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(pub i64);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: UserName,
    pub active: bool,
    pub created_at: i64,
    pub role: Role,
    /// A bot has no pages or sign-in; its managers handle its tokens.
    pub bot: bool,
    pub email: Option<Email>,
    /// A bot's managers (non-bot users), by name; always empty for a non-bot.
    pub managers: Vec<UserName>,
}

/// What `user add` hands the store. A bot needs at least one manager; a non-bot none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: UserName,
    pub role: Role,
    pub bot: bool,
    pub email: Option<Email>,
    pub managers: Vec<UserName>,
    pub created_at: i64,
}

impl NewUser {
    /// A plain user: role `user`, not a bot, no email.
    pub fn plain(name: UserName, created_at: i64) -> Self {
        NewUser {
            name,
            role: Role::User,
            bot: false,
            email: None,
            managers: Vec::new(),
            created_at,
        }
    }
}

/// One change to a user's profile; [`Store::update_user`] applies a list in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    Role(Role),
    /// Sets (or with `None` clears) the email address.
    Email(Option<Email>),
    /// Adds a manager to a bot (already one: no change).
    AddManager(UserName),
    /// Removes a manager from a bot; the last one cannot go.
    RemoveManager(UserName),
    /// Enables (`true`) or disables the user.
    Active(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub user: UserName,
    pub pattern: RepoPattern,
    pub access: Access,
    /// Ref patterns a push under this grant may update; empty means every ref.
    pub refs: Vec<RefPattern>,
}

/// What `token create` hands the store.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub user: UserName,
    pub name: TokenName,
    pub hash: TokenHash,
    /// Short public prefix of the secret, for `token list`.
    pub public_prefix: String,
    pub scopes: ScopeSet,
    /// Repo patterns that narrow the token; empty means "whatever the grants allow".
    pub repos: Vec<RepoPattern>,
    /// Ref patterns that narrow the token's pushes; empty means no limit.
    pub refs: Vec<RefPattern>,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

/// The new secret of a rotated token: it takes over the old one's name, scopes and limits.
#[derive(Debug, Clone)]
pub struct Replacement {
    pub hash: TokenHash,
    pub public_prefix: String,
    pub expires_at: Option<i64>,
    /// When the new token is created and the old one revoked.
    pub created_at: i64,
}

/// A token as stored (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: TokenId,
    pub user: UserName,
    pub name: TokenName,
    pub public_prefix: String,
    pub scopes: ScopeSet,
    pub repos: Vec<RepoPattern>,
    pub refs: Vec<RefPattern>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// The client address of that use (`X-Forwarded-For` believed only from trusted
    /// proxies, as the throttle does).
    pub last_used_ip: Option<String>,
    pub revoked_at: Option<i64>,
}

/// One token's latest use, recorded in batches.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LastUse {
    pub token: TokenId,
    /// Seconds since the Unix epoch.
    pub at: i64,
    pub ip: Option<String>,
}

/// A user's standing: whether active, and its grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccess {
    pub name: UserName,
    pub active: bool,
    pub grants: Vec<GrantRule>,
}

/// One grant as a decision uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRule {
    pub pattern: RepoPattern,
    pub access: Access,
    /// Ref patterns a push may update under this grant; empty means every ref.
    pub refs: Vec<RefPattern>,
}

impl GrantRule {
    pub fn new(pattern: RepoPattern, access: Access) -> Self {
        GrantRule {
            pattern,
            access,
            refs: Vec::new(),
        }
    }
}

/// Everything a decision about one token needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub token: TokenInfo,
    pub user: UserAccess,
}

/// A page session as stored: its user and the CSRF token its forms carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user: UserName,
    pub csrf: String,
}

/// One entry of the change feed: something about `user` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub user: UserName,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("user {name} already exists")]
    UserExists { name: UserName },
    #[error("unknown user {name}")]
    UnknownUser { name: UserName },
    #[error("{name} is not a bot: only bots have managers")]
    NotABot { name: UserName },
    #[error("{name} is a bot and cannot manage another bot")]
    ManagerIsBot { name: UserName },
    #[error("bot {name} needs at least one manager")]
    BotNeedsManager { name: UserName },
    #[error("{manager} is not a manager of {bot}")]
    UnknownManager { bot: UserName, manager: UserName },
    #[error("no protection for {refs} in {repo}")]
    UnknownProtection { repo: RepoPattern, refs: RefPattern },
    #[error("user {user} has no grant for {pattern}")]
    UnknownGrant {
        user: UserName,
        pattern: RepoPattern,
    },
    #[error("user {user} has no active token named {name}")]
    UnknownToken { user: UserName, name: TokenName },
    #[error("user {user} already has an active token named {name}")]
    TokenNameTaken { user: UserName, name: TokenName },
    #[error("store URL must start with sqlite:// or postgres:// (got scheme {scheme:?})")]
    UnsupportedScheme { scheme: String },
    #[error("store URL is invalid: {source}")]
    InvalidUrl {
        #[source]
        source: sqlx::Error,
    },
    #[error("store is unavailable: {source}")]
    Unavailable {
        #[source]
        source: sqlx::Error,
    },
    #[error("store query failed: {source}")]
    Query {
        #[source]
        source: sqlx::Error,
    },
    #[error("store migration failed: {source}")]
    Migrate {
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("store holds an invalid {what}: {value:?}")]
    Corrupt { what: &'static str, value: String },
}

impl Error {
    /// Classifies a sqlx error: connection-level problems mean the store is unavailable.
    pub fn from_sqlx(source: sqlx::Error) -> Self {
        match source {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Error::Unavailable { source },
            other => Error::Query { source: other },
        }
    }

    /// Whether the store could not be reached (as opposed to a refused operation).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }
}

/// The store contract, implemented once per dialect (`sqlite`, `postgres`).
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    // Every mutation takes the `Audit` of who makes it and writes one audit row and one
    // change-feed row in its own transaction; a refused mutation writes neither.

    /// Adds a plain user (role `user`, not a bot, no email).
    async fn add_user(&self, name: &UserName, now: i64, by: &Audit) -> Result<(), Error> {
        self.create_user(&NewUser::plain(name.clone(), now), by)
            .await
    }
    /// Adds a user with its role, email and (for a bot) managers, in one transaction.
    async fn create_user(&self, user: &NewUser, by: &Audit) -> Result<(), Error>;
    /// Applies `changes` to a user in one transaction: all or nothing.
    async fn update_user(
        &self,
        name: &UserName,
        changes: &[UserChange],
        by: &Audit,
    ) -> Result<(), Error>;
    /// One user, or `None` for an unknown name.
    async fn user(&self, name: &UserName) -> Result<Option<User>, Error>;
    async fn set_user_active(&self, name: &UserName, active: bool, by: &Audit)
    -> Result<(), Error>;
    /// Every user by name, except the reserved `anonymous` (present in every store since
    /// migration 0005; [`Store::user`] and [`Store::user_access`] read it, `list_grants`
    /// shows its grants). Listings never offer it as a user to give tokens.
    async fn list_users(&self) -> Result<Vec<User>, Error>;

    /// Adds a grant without ref patterns, or sets an existing one for the same pattern to
    /// this access and no ref patterns.
    async fn set_grant(
        &self,
        user: &UserName,
        pattern: &RepoPattern,
        access: Access,
        by: &Audit,
    ) -> Result<(), Error> {
        let grant = Grant {
            user: user.clone(),
            pattern: pattern.clone(),
            access,
            refs: Vec::new(),
        };
        self.put_grant(&grant, by).await
    }
    /// Adds a grant, or updates the access and ref patterns of an existing one for the same
    /// user and pattern.
    async fn put_grant(&self, grant: &Grant, by: &Audit) -> Result<(), Error>;
    async fn remove_grant(
        &self,
        user: &UserName,
        pattern: &RepoPattern,
        by: &Audit,
    ) -> Result<(), Error>;
    /// All grants, or one user's (unknown user is an error).
    async fn list_grants(&self, user: Option<&UserName>) -> Result<Vec<Grant>, Error>;

    async fn create_token(&self, token: &NewToken, by: &Audit) -> Result<TokenId, Error>;
    /// Revokes the user's active token with that name.
    async fn revoke_token(
        &self,
        user: &UserName,
        name: &TokenName,
        now: i64,
        by: &Audit,
    ) -> Result<(), Error>;
    /// Replaces the user's active token `name` in one transaction: a new token with the same
    /// name, scopes and repo limits, and the old one revoked at `replacement.created_at`. A
    /// failure leaves the old token as it was. Returns the new token.
    async fn rotate_token(
        &self,
        user: &UserName,
        name: &TokenName,
        replacement: &Replacement,
        by: &Audit,
    ) -> Result<TokenInfo, Error>;
    /// One token by id (whatever its state), or `None`.
    async fn token(&self, id: TokenId) -> Result<Option<TokenInfo>, Error>;
    /// Active tokens (not revoked, not expired at `now`), or all with `include_inactive`.
    async fn list_tokens(
        &self,
        user: Option<&UserName>,
        include_inactive: bool,
        now: i64,
    ) -> Result<Vec<TokenInfo>, Error>;

    /// The token with this hash and its user's standing, in one logical lookup. Revoked and
    /// expired tokens are returned too (the caller decides).
    async fn lookup_token(&self, hash: &TokenHash) -> Result<Option<Principal>, Error>;
    /// A user's current standing (for refreshing memory after a change).
    async fn user_access(&self, user: &UserName) -> Result<Option<UserAccess>, Error>;

    /// Change-feed entries after `seq`, oldest first, at most `limit`.
    async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<Change>, Error>;
    /// The newest change-feed sequence number (0 when empty).
    async fn latest_change(&self) -> Result<i64, Error>;

    /// Writes an audit event that goes with no change (a refusal by policy, later a sign-in).
    async fn record_audit(
        &self,
        target: &UserName,
        by: &Audit,
        action: AuditAction,
        detail: &str,
    ) -> Result<(), Error>;
    /// The newest `limit` audit events, newest first: all, or those about or by `user`
    /// (unknown user is an error).
    async fn list_audit(
        &self,
        user: Option<&UserName>,
        limit: i64,
    ) -> Result<Vec<AuditEvent>, Error> {
        self.list_audit_page(user, limit, None).await
    }
    /// Like [`Store::list_audit`], only events older than the event `before` (paging).
    async fn list_audit_page(
        &self,
        user: Option<&UserName>,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<AuditEvent>, Error>;

    /// Adds a protected-ref rule, or updates the flags of the one with the same patterns.
    async fn put_protection(
        &self,
        protection: &Protection,
        now: i64,
        by: &Audit,
    ) -> Result<(), Error>;
    /// Removes a protected-ref rule (unknown: an error).
    async fn remove_protection(
        &self,
        repo: &RepoPattern,
        refs: &RefPattern,
        by: &Audit,
    ) -> Result<(), Error>;
    /// Every protected-ref rule, by repo pattern then ref pattern.
    async fn list_protections(&self) -> Result<Vec<Protection>, Error>;

    /// Records last-use times in one batch (the server calls this periodically).
    async fn record_last_used(&self, uses: &[LastUse]) -> Result<(), Error>;

    // Pages: sessions and one-time sign-in links, stored as hashes.

    /// Starts a session (`id` is the hash of the cookie's value) for `user` at `now`.
    async fn create_session(
        &self,
        id: &TokenHash,
        user: &UserName,
        csrf: &str,
        now: i64,
    ) -> Result<(), Error>;
    /// The session with this id hash, unless it has been idle for `idle_secs` or longer (then
    /// it is ended). A use more than a minute after the last one is recorded.
    async fn session(
        &self,
        id: &TokenHash,
        now: i64,
        idle_secs: i64,
    ) -> Result<Option<Session>, Error>;
    async fn end_session(&self, id: &TokenHash) -> Result<(), Error>;
    /// Stores a one-time sign-in link (its hash) for `user`, valid until `expires_at`.
    async fn create_login_link(
        &self,
        hash: &TokenHash,
        user: &UserName,
        (now, expires_at): (i64, i64),
    ) -> Result<(), Error>;
    /// Uses up the link: its user the first time within its validity, `None` ever after.
    async fn use_login_link(&self, hash: &TokenHash, now: i64) -> Result<Option<UserName>, Error>;
    // Expiry notices (see [`notice`]): not audited, no change-feed entry.

    /// Active (not revoked) tokens expiring after `now` and at or before `until`, soonest
    /// first, with their user's email and standing.
    async fn expiring_tokens(&self, now: i64, until: i64) -> Result<Vec<ExpiringToken>, Error>;
    /// Creates the notices that do not exist yet, due at once; returns how many were new.
    async fn add_notices(&self, notices: &[NewNotice], now: i64) -> Result<usize, Error>;
    /// Takes the lease of one due notice for one of `channels` until `lease_until`: no other
    /// caller gets it before then. `None` when nothing is due (or another caller won the race
    /// for it).
    async fn claim_notice(
        &self,
        now: i64,
        lease_until: i64,
        channels: &[Channel],
    ) -> Result<Option<ClaimedNotice>, Error>;
    /// Records how the attempt `claim` ended. `false` when the claim was no longer current
    /// (its lease ran out and another caller took the notice over): nothing recorded.
    async fn finish_notice(
        &self,
        claim: &ClaimedNotice,
        outcome: &NoticeOutcome,
        now: i64,
    ) -> Result<bool, Error>;
}

/// Opens the store named by `url` (`sqlite://…` or `postgres://…`), creating and migrating
/// it. Relative SQLite paths must already be resolved by the caller.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, Error> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => sqlite::open(url).await,
        "postgres" | "postgresql" => postgres::open(url).await,
        other => Err(Error::UnsupportedScheme {
            scheme: other.to_owned(),
        }),
    }
}
