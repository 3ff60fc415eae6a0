//! The admin commands: users, grants, tokens. Each opens the store named by the config,
//! makes one change (recorded in the change feed, so running servers enforce it within a
//! second) or lists, and reports one line on failure.

use std::sync::Arc;

use super::args::{
    AuditCommand, GrantCommand, TokenCommand, TokenCreate, UserAdd, UserCommand, UserSet,
};
use super::{Failure, expiry, output};
use crate::config::Config;
use crate::manage::{self, Actor};
use crate::names::{TokenName, UserName};
use crate::proxy::gate::unix_now;
use crate::store::{self, NewToken, NewUser, Replacement, Store, UserChange};
use crate::token;
use crate::vocabulary::Role;

async fn open(config: &Config) -> Result<Arc<dyn Store>, Failure> {
    store::open(config.store.url.expose()).await.map_err(|e| {
        Failure::refused(format!(
            "cannot open store {}: {e}",
            config.store.redacted_url
        ))
    })
}

pub async fn user(config: &Config, command: UserCommand) -> Result<(), Failure> {
    let store = open(config).await?;
    let (store, actor) = (store.as_ref(), Actor::cli());
    match command {
        UserCommand::Add(add) => add_user(store, &actor, add).await?,
        UserCommand::Set(set) => set_user(store, &actor, set).await?,
        UserCommand::Disable { name } => {
            manage::users::set_active(store, &actor, &name.0, false, unix_now())
                .await
                .map_err(Failure::refused)?;
            println!("disabled user {}", name.0);
        }
        UserCommand::Enable { name } => {
            manage::users::set_active(store, &actor, &name.0, true, unix_now())
                .await
                .map_err(Failure::refused)?;
            println!("enabled user {}", name.0);
        }
        UserCommand::List(json) => {
            let users = manage::users::list(store, &actor)
                .await
                .map_err(Failure::refused)?;
            output::users(&users, json.json);
        }
        UserCommand::LoginLink { name, ttl } => {
            let now = unix_now();
            let ttl = i64::from(ttl) * 60;
            let url = manage::sessions::login_link(store, &actor, &name.0, (now, ttl))
                .await
                .map_err(Failure::refused)?;
            let origin = config.public_origin();
            eprintln!(
                "one-time sign-in link for {}, valid for {} minutes:",
                name.0,
                ttl / 60
            );
            println!("{origin}{}", url.expose());
        }
    }
    Ok(())
}

async fn add_user(store: &dyn Store, actor: &Actor, add: UserAdd) -> Result<(), Failure> {
    let user = NewUser {
        name: add.name.0,
        role: if add.admin { Role::Admin } else { Role::User },
        bot: add.bot,
        email: add.email.map(|e| e.0),
        managers: add.managers.into_iter().map(|m| m.0).collect(),
        created_at: unix_now(),
    };
    manage::users::add(store, actor, &user)
        .await
        .map_err(Failure::refused)?;
    let kind = match (user.bot, user.role) {
        (false, Role::User) => "user",
        (false, Role::Admin) => "admin user",
        (true, Role::User) => "bot",
        (true, Role::Admin) => "admin bot",
    };
    println!("added {kind} {}", user.name);
    Ok(())
}

async fn set_user(store: &dyn Store, actor: &Actor, set: UserSet) -> Result<(), Failure> {
    let mut changes = Vec::new();
    changes.extend(set.role.map(|r| UserChange::Role(r.0)));
    changes.extend(set.email.map(|e| UserChange::Email(Some(e.0))));
    changes.extend(
        set.managers
            .into_iter()
            .map(|m| UserChange::AddManager(m.0)),
    );
    let removed = set.remove_managers.into_iter();
    changes.extend(removed.map(|m| UserChange::RemoveManager(m.0)));
    manage::users::change(store, actor, &set.name.0, &changes, unix_now())
        .await
        .map_err(Failure::refused)?;
    println!("changed user {}", set.name.0);
    Ok(())
}

pub async fn grant(config: &Config, command: GrantCommand) -> Result<(), Failure> {
    let store = open(config).await?;
    let (store, actor) = (store.as_ref(), Actor::cli());
    match command {
        GrantCommand::Add {
            user,
            pattern,
            access,
        } => {
            let grant = (&user.0, &pattern.0, access.0);
            manage::grants::set(store, &actor, grant, unix_now())
                .await
                .map_err(Failure::refused)?;
            println!("granted {} {} on {}", user.0, access.0, pattern.0);
        }
        GrantCommand::Remove { user, pattern } => {
            manage::grants::remove(store, &actor, &user.0, &pattern.0, unix_now())
                .await
                .map_err(Failure::refused)?;
            println!("removed grant of {} on {}", user.0, pattern.0);
        }
        GrantCommand::List { user, json } => {
            let grants = manage::grants::list(store, &actor, user.as_ref().map(|u| &u.0))
                .await
                .map_err(Failure::refused)?;
            output::grants(&grants, json.json);
        }
    }
    Ok(())
}

pub async fn token(config: &Config, command: TokenCommand) -> Result<(), Failure> {
    let actor = Actor::cli();
    match command {
        TokenCommand::Create(create) => create_token(config, &actor, create).await,
        TokenCommand::List { user, all, json } => {
            let store = open(config).await?;
            let owner = user.as_ref().map(|u| &u.0);
            let tokens = manage::tokens::list(store.as_ref(), &actor, owner, all, unix_now())
                .await
                .map_err(Failure::refused)?;
            output::tokens(&tokens, all, json.json, unix_now());
            Ok(())
        }
        TokenCommand::Revoke { user, name } => {
            let store = open(config).await?;
            manage::tokens::revoke(store.as_ref(), &actor, &user.0, &name.0, unix_now())
                .await
                .map_err(Failure::refused)?;
            println!("revoked token {} of {}", name.0, user.0);
            Ok(())
        }
        TokenCommand::Rotate {
            user,
            name,
            expires,
        } => rotate_token(config, &actor, (user.0, name.0), expires).await,
        TokenCommand::Expiring { within, json } => {
            let store = open(config).await?;
            let now = unix_now();
            let until = now.saturating_add(within.saturating_mul(crate::notify::schedule::DAY));
            let tokens = store
                .expiring_tokens(now, until)
                .await
                .map_err(Failure::refused)?;
            output::expiring(&tokens, json.json, now);
            Ok(())
        }
    }
}

/// `--expires` as Unix seconds (a bad or past value is a usage error).
fn expires_at(given: Option<&str>, now: i64) -> Result<Option<i64>, Failure> {
    given
        .map(|given| expiry::parse(given, now))
        .transpose()
        .map_err(Failure::usage)
}

fn generate() -> Result<token::Generated, Failure> {
    token::generate().map_err(|e| Failure::refused(format!("no randomness available: {e}")))
}

async fn rotate_token(
    config: &Config,
    actor: &Actor,
    (user, name): (UserName, TokenName),
    expires: Option<String>,
) -> Result<(), Failure> {
    let now = unix_now();
    let expires_at = expires_at(expires.as_deref(), now)?;
    let store = open(config).await?;
    let generated = generate()?;
    let replacement = Replacement {
        hash: generated.hash,
        public_prefix: generated.public_prefix.clone(),
        expires_at,
        created_at: now,
    };
    let policy = &config.tokens;
    let rotated =
        manage::tokens::rotate(store.as_ref(), actor, policy, (&user, &name), replacement)
            .await
            .map_err(Failure::refused)?;
    let expires_at = rotated.expires_at;
    eprintln!(
        "rotated token {name} of {user} (scopes: {}{}); the old secret is revoked; store the new one now, it is not shown again:",
        rotated.scopes.to_list(),
        expires_at
            .map(|at| format!(", expires {}", expiry::format(at)))
            .unwrap_or_default()
    );
    println!("{}", generated.secret.expose());
    Ok(())
}

pub async fn audit(config: &Config, command: AuditCommand) -> Result<(), Failure> {
    let store = open(config).await?;
    match command {
        AuditCommand::List { user, limit, json } => {
            let user = user.as_ref().map(|u| &u.0);
            let events = manage::audit::list(store.as_ref(), &Actor::cli(), user, limit)
                .await
                .map_err(Failure::refused)?;
            output::audit(&events, json.json);
        }
    }
    Ok(())
}

async fn create_token(config: &Config, actor: &Actor, create: TokenCreate) -> Result<(), Failure> {
    let now = unix_now();
    let expires_at = expires_at(create.expires.as_deref(), now)?;
    let store = open(config).await?;
    let generated = generate()?;
    let scopes = create.scopes.iter().map(|s| s.0).collect();
    let new = NewToken {
        user: create.user.0.clone(),
        name: create.name.0.clone(),
        hash: generated.hash,
        public_prefix: generated.public_prefix.clone(),
        scopes,
        repos: create.repos.into_iter().map(|p| p.0).collect(),
        expires_at,
        created_at: now,
    };
    let (_, expires_at) =
        manage::tokens::create(store.as_ref(), actor, &config.tokens, new.clone())
            .await
            .map_err(Failure::refused)?;
    eprintln!(
        "created token {} for {} (scopes: {}{}); store it now, it is not shown again:",
        new.name,
        new.user,
        new.scopes.to_list(),
        expires_at
            .map(|at| format!(", expires {}", expiry::format(at)))
            .unwrap_or_default()
    );
    println!("{}", generated.secret.expose());
    Ok(())
}
