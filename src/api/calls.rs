//! What each endpoint does, on the control runtime (where the store lives): the caller's
//! role from the store, the request parsed into the names and patterns of the rules, then
//! one `manage` operation — the same code the CLI runs.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::input::{self, double_option};
use super::routes::Endpoint;
use super::{ApiError, views};
use crate::canon::Query;
use crate::manage::{self, Actor, TokenPolicy, expiry};
use crate::names::{Email, TokenName, UserName};
use crate::repo::RepoPattern;
use crate::store::{NewToken, NewUser, Replacement, Store, TokenId, TokenInfo, User, UserChange};
use crate::token;
use crate::vocabulary::{Access, Role, Scope, ScopeSet};

/// The most audit events one request returns.
const MAX_AUDIT_LIMIT: i64 = 1000;

/// What every call needs from the server.
#[derive(Debug, Clone)]
pub struct Context {
    pub store: Arc<dyn Store>,
    pub policy: TokenPolicy,
    pub now: i64,
}

/// The authenticated caller: the token it presented and its client address.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: TokenInfo,
    pub client: Option<String>,
}

/// The request as read by the worker: endpoint, query and (possibly empty) body.
#[derive(Debug)]
pub struct Call {
    pub endpoint: Endpoint,
    pub query: Query,
    pub body: Bytes,
    /// Whether the request declared its body as JSON.
    pub json: bool,
}

/// A successful answer: a status and a JSON body (none for 204), and the user whose tokens
/// or standing it changed (the server forgets what it remembers of them at once; other
/// servers learn of it from the change feed).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub changed: Option<UserName>,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            changed: None,
        }
    }

    fn created(body: Value) -> Self {
        Reply {
            status: StatusCode::CREATED,
            body: Some(body),
            changed: None,
        }
    }

    fn no_content() -> Self {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            changed: None,
        }
    }

    fn changing(mut self, user: UserName) -> Self {
        self.changed = Some(user);
        self
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUserIn {
    name: String,
    role: Option<String>,
    email: Option<String>,
    bot: Option<bool>,
    managers: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchUserIn {
    disabled: Option<bool>,
    role: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
    managers: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GrantIn {
    user: String,
    pattern: String,
    access: String,
    refs: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenIn {
    user: Option<String>,
    name: String,
    scopes: Vec<String>,
    repos: Option<Vec<String>>,
    refs: Option<Vec<String>>,
    expires_at: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RotateIn {
    expires_at: Option<String>,
}

/// A value from the request that breaks a naming or pattern rule: 422 naming the field.
fn rule<T, E: std::fmt::Display>(field: &str, parsed: Result<T, E>) -> Result<T, ApiError> {
    parsed.map_err(|e| ApiError::unprocessable(format!("{field}: {e}")))
}

fn user_name(field: &str, given: &str) -> Result<UserName, ApiError> {
    rule(field, UserName::parse(given))
}

/// A user named in the path or query: one that cannot exist is simply not found.
fn named_user(given: &str) -> Result<UserName, ApiError> {
    UserName::parse(given).map_err(|_| ApiError::not_found(format!("unknown user {given:?}")))
}

fn token_id(given: &str) -> Result<TokenId, ApiError> {
    given
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && id.to_string() == given)
        .map(TokenId)
        .ok_or_else(|| ApiError::not_found("no such token"))
}

fn managers(field: &str, given: &[String]) -> Result<Vec<UserName>, ApiError> {
    given.iter().map(|m| user_name(field, m)).collect()
}

fn expires_at(given: Option<&str>, now: i64) -> Result<Option<i64>, ApiError> {
    given
        .map(|g| rule("expires_at", expiry::parse_field("expires_at", g, now)))
        .transpose()
}

fn no_refs(refs: Option<&Vec<String>>) -> Result<(), ApiError> {
    match refs {
        Some(refs) if !refs.is_empty() => Err(ApiError::unprocessable(
            "refs: ref rules are not supported by this server",
        )),
        _ => Ok(()),
    }
}

fn generate() -> Result<token::Generated, ApiError> {
    token::generate().map_err(|error| {
        tracing::error!(%error, "no randomness for a new token");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "no randomness available")
    })
}

/// The token JSON with its secret (only in the answer to create and rotate).
fn with_secret(token: &TokenInfo, secret: &token::Generated, now: i64) -> Value {
    let mut view = views::token(token, now);
    view["token"] = Value::String(secret.secret.expose().to_owned());
    view
}

fn manage_error(hide: bool) -> impl Fn(manage::Error) -> ApiError {
    move |error| ApiError::from_manage(error, hide)
}

/// The call's JSON body as `T` (`empty_ok`: an empty body reads as `{}`).
fn parse<T: serde::de::DeserializeOwned>(call: &Call, empty_ok: bool) -> Result<T, ApiError> {
    input::parse_body(call.json, &call.body, empty_ok)
}

/// Runs one call for `caller`.
pub async fn execute(ctx: Context, caller: Caller, call: Call) -> Result<Reply, ApiError> {
    let store = ctx.store.as_ref();
    let me = store
        .user(&caller.token.user)
        .await
        .map_err(|e| ApiError::from_manage(e.into(), false))?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "invalid credentials"))?;
    let actor = Actor::User {
        name: me.name.clone(),
        role: me.role,
        token: Some(caller.token.name.clone()),
        client: caller.client.clone(),
    };
    let shown = manage_error(false);
    let hidden = manage_error(true);
    let now = ctx.now;
    match call.endpoint {
        Endpoint::Caller => Ok(Reply::ok(views::user(&me))),
        Endpoint::ListUsers => {
            let users = manage::users::list(store, &actor).await.map_err(shown)?;
            Ok(Reply::ok(users.iter().map(views::user).collect()))
        }
        Endpoint::CreateUser => create_user(store, &actor, parse(&call, false)?, now).await,
        Endpoint::GetUser(name) => {
            actor.require_admin("read users").map_err(&shown)?;
            let user = manage::users::get(store, &actor, &named_user(&name)?)
                .await
                .map_err(shown)?;
            Ok(Reply::ok(views::user(&user)))
        }
        Endpoint::PatchUser(ref name) => {
            actor.require_admin("change users").map_err(&shown)?;
            patch_user(store, &actor, &named_user(name)?, parse(&call, false)?, now).await
        }
        Endpoint::ListGrants => {
            let user = call.query.get("user").map(named_user).transpose()?;
            let grants = manage::grants::list(store, &actor, user.as_ref())
                .await
                .map_err(shown)?;
            Ok(Reply::ok(grants.iter().map(views::grant).collect()))
        }
        Endpoint::SetGrant => set_grant(store, &actor, parse(&call, false)?, now).await,
        Endpoint::DeleteGrant(id) => {
            actor.require_admin("change grants").map_err(&shown)?;
            let (user, pattern) =
                views::parse_grant_id(&id).ok_or_else(|| ApiError::not_found("no such grant"))?;
            manage::grants::remove(store, &actor, &user, &pattern, now)
                .await
                .map_err(shown)?;
            Ok(Reply::no_content().changing(user))
        }
        Endpoint::ListTokens => list_tokens(store, &actor, &me, &call.query, now).await,
        Endpoint::CreateToken => create_token(&ctx, &actor, &me, parse(&call, false)?).await,
        Endpoint::SelfToken => {
            let token = manage::tokens::get(store, &actor, caller.token.id, "read this token")
                .await
                .map_err(hidden)?;
            Ok(Reply::ok(views::token(&token, now)))
        }
        Endpoint::RotateSelf => rotate(&ctx, &actor, caller.token.id, parse(&call, true)?).await,
        Endpoint::GetToken(id) => {
            let id = token_id(&id)?;
            let token = manage::tokens::get(store, &actor, id, "read tokens of this user")
                .await
                .map_err(hidden)?;
            Ok(Reply::ok(views::token(&token, now)))
        }
        Endpoint::RevokeToken(id) => {
            let owner = manage::tokens::revoke_by_id(store, &actor, token_id(&id)?, now)
                .await
                .map_err(hidden)?;
            Ok(Reply::no_content().changing(owner))
        }
        Endpoint::RotateToken(ref id) => {
            rotate(&ctx, &actor, token_id(id)?, parse(&call, true)?).await
        }
        Endpoint::Audit => audit(store, &actor, &me, &call.query).await,
    }
}

async fn create_user(
    store: &dyn Store,
    actor: &Actor,
    given: NewUserIn,
    now: i64,
) -> Result<Reply, ApiError> {
    actor
        .require_admin("add users")
        .map_err(manage_error(false))?;
    let name = user_name("name", &given.name)?;
    let role = match given.role.as_deref() {
        Some(role) => rule("role", role.parse::<Role>())?,
        None => Role::User,
    };
    let email = given
        .email
        .as_deref()
        .map(|e| rule("email", Email::parse(e)))
        .transpose()?;
    let new = NewUser {
        name: name.clone(),
        role,
        bot: given.bot.unwrap_or(false),
        email,
        managers: managers("managers", given.managers.as_deref().unwrap_or_default())?,
        created_at: now,
    };
    manage::users::add(store, actor, &new)
        .await
        .map_err(manage_error(false))?;
    let user = manage::users::get(store, actor, &name)
        .await
        .map_err(manage_error(false))?;
    Ok(Reply::created(views::user(&user)))
}

async fn patch_user(
    store: &dyn Store,
    actor: &Actor,
    name: &UserName,
    given: PatchUserIn,
    now: i64,
) -> Result<Reply, ApiError> {
    let current: User = manage::users::get(store, actor, name)
        .await
        .map_err(manage_error(false))?;
    let mut changes = Vec::new();
    if let Some(role) = given.role.as_deref() {
        changes.push(UserChange::Role(rule("role", role.parse::<Role>())?));
    }
    if let Some(email) = given.email {
        let email = email
            .as_deref()
            .map(|e| rule("email", Email::parse(e)))
            .transpose()?;
        changes.push(UserChange::Email(email));
    }
    if let Some(wanted) = given.managers.as_deref() {
        let wanted = managers("managers", wanted)?;
        for added in wanted.iter().filter(|m| !current.managers.contains(m)) {
            changes.push(UserChange::AddManager(added.clone()));
        }
        for gone in current.managers.iter().filter(|m| !wanted.contains(m)) {
            changes.push(UserChange::RemoveManager(gone.clone()));
        }
    }
    if let Some(disabled) = given.disabled {
        changes.push(UserChange::Active(!disabled));
    }
    if !changes.is_empty() {
        manage::users::change(store, actor, name, &changes, now)
            .await
            .map_err(manage_error(false))?;
    }
    let user = manage::users::get(store, actor, name)
        .await
        .map_err(manage_error(false))?;
    Ok(Reply::ok(views::user(&user)).changing(name.clone()))
}

async fn set_grant(
    store: &dyn Store,
    actor: &Actor,
    given: GrantIn,
    now: i64,
) -> Result<Reply, ApiError> {
    actor
        .require_admin("change grants")
        .map_err(manage_error(false))?;
    let user = user_name("user", &given.user)?;
    let pattern = rule("pattern", RepoPattern::parse(&given.pattern))?;
    let access = rule("access", given.access.parse::<Access>())?;
    no_refs(given.refs.as_ref())?;
    let existing = manage::grants::list(store, actor, Some(&user))
        .await
        .map_err(manage_error(false))?;
    let updated = existing.iter().any(|g| g.pattern == pattern);
    manage::grants::set(store, actor, (&user, &pattern, access), now)
        .await
        .map_err(manage_error(false))?;
    let grant = crate::store::Grant {
        user,
        pattern,
        access,
    };
    let view = views::grant(&grant);
    let reply = if updated {
        Reply::ok(view)
    } else {
        Reply::created(view)
    };
    Ok(reply.changing(grant.user))
}

async fn list_tokens(
    store: &dyn Store,
    actor: &Actor,
    me: &User,
    query: &Query,
    now: i64,
) -> Result<Reply, ApiError> {
    let include_inactive = match query.get("state") {
        None | Some("active") => false,
        Some("all") => true,
        Some(_) => return Err(ApiError::bad_request("state must be active or all")),
    };
    let owner = match query.get("user") {
        Some(user) => Some(named_user(user)?),
        None if actor.is_admin() => None,
        None => Some(me.name.clone()),
    };
    let tokens = manage::tokens::list(store, actor, owner.as_ref(), include_inactive, now)
        .await
        .map_err(manage_error(true))?;
    Ok(Reply::ok(
        tokens.iter().map(|t| views::token(t, now)).collect(),
    ))
}

async fn create_token(
    ctx: &Context,
    actor: &Actor,
    me: &User,
    given: TokenIn,
) -> Result<Reply, ApiError> {
    let now = ctx.now;
    let owner = match given.user.as_deref() {
        Some(user) => named_user(user)?,
        None => me.name.clone(),
    };
    let name = rule("name", TokenName::parse(&given.name))?;
    let scopes = given
        .scopes
        .iter()
        .map(|s| rule("scopes", s.parse::<Scope>()))
        .collect::<Result<ScopeSet, _>>()?;
    if scopes.is_empty() {
        return Err(ApiError::unprocessable("scopes: name at least one scope"));
    }
    let repos = given
        .repos
        .unwrap_or_default()
        .iter()
        .map(|p| rule("repos", RepoPattern::parse(p)))
        .collect::<Result<Vec<_>, _>>()?;
    no_refs(given.refs.as_ref())?;
    let expires_at = expires_at(given.expires_at.as_deref(), now)?;
    let secret = generate()?;
    let new = NewToken {
        user: owner,
        name,
        hash: secret.hash,
        public_prefix: secret.public_prefix.clone(),
        scopes,
        repos,
        expires_at,
        created_at: now,
    };
    let store = ctx.store.as_ref();
    let (id, _) = manage::tokens::create(store, actor, &ctx.policy, new)
        .await
        .map_err(manage_error(true))?;
    let created = manage::tokens::get(store, actor, id, "read the new token")
        .await
        .map_err(manage_error(true))?;
    Ok(Reply::created(with_secret(&created, &secret, now)))
}

async fn rotate(
    ctx: &Context,
    actor: &Actor,
    id: TokenId,
    given: RotateIn,
) -> Result<Reply, ApiError> {
    let now = ctx.now;
    let secret = generate()?;
    let replacement = Replacement {
        hash: secret.hash,
        public_prefix: secret.public_prefix.clone(),
        expires_at: expires_at(given.expires_at.as_deref(), now)?,
        created_at: now,
    };
    let rotated =
        manage::tokens::rotate_by_id(ctx.store.as_ref(), actor, &ctx.policy, id, replacement)
            .await
            .map_err(manage_error(true))?;
    let user = rotated.user.clone();
    Ok(Reply::created(with_secret(&rotated, &secret, now)).changing(user))
}

async fn audit(
    store: &dyn Store,
    actor: &Actor,
    me: &User,
    query: &Query,
) -> Result<Reply, ApiError> {
    let limit = match query.get("limit") {
        None => manage::audit::DEFAULT_LIMIT,
        Some(given) => given
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_AUDIT_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "limit must be a number from 1 to {MAX_AUDIT_LIMIT}"
                ))
            })?,
    };
    let user = match query.get("user") {
        Some(user) => Some(named_user(user)?),
        None if actor.is_admin() => None,
        None => Some(me.name.clone()),
    };
    let events = manage::audit::list(store, actor, user.as_ref(), limit)
        .await
        .map_err(manage_error(true))?;
    Ok(Reply::ok(json!(
        events.iter().map(views::audit).collect::<Vec<_>>()
    )))
}
