//! Who may do what, against a real (SQLite) store: the rules the CLI and the API share.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;

use super::{Actor, Error, TokenPolicy, tokens, users};
use crate::names::{TokenName, UserName};
use crate::store::{self, NewToken, NewUser, Store};
use crate::token::TokenHash;
use crate::vocabulary::{Role, Scope};

const NOW: i64 = 1_800_000_000;

fn name(n: &str) -> UserName {
    UserName::parse(n).unwrap()
}

fn as_user(n: &str, role: Role) -> Actor {
    Actor::User {
        name: name(n),
        role,
        token: None,
        client: Some("192.0.2.9".to_owned()),
    }
}

fn token_for(owner: &str, token: &str) -> NewToken {
    NewToken {
        user: name(owner),
        name: TokenName::parse(token).unwrap(),
        hash: TokenHash::of(&format!("{owner}/{token}")),
        public_prefix: "vcsg_test".to_owned(),
        scopes: [Scope::ReadRepository].into_iter().collect(),
        repos: Vec::new(),
        refs: Vec::new(),
        expires_at: None,
        created_at: NOW,
    }
}

/// alice (admin), bob and carol (users), ci (a bot managed by bob).
async fn world() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("vcsgate.db").display());
    let store = store::open(&url).await.unwrap();
    let cli = Actor::cli();
    let admin = NewUser {
        role: Role::Admin,
        ..NewUser::plain(name("alice"), NOW)
    };
    users::add(store.as_ref(), &cli, &admin).await.unwrap();
    for plain in ["bob", "carol"] {
        let user = NewUser::plain(name(plain), NOW);
        users::add(store.as_ref(), &cli, &user).await.unwrap();
    }
    let bot = NewUser {
        bot: true,
        managers: vec![name("bob")],
        ..NewUser::plain(name("ci"), NOW)
    };
    users::add(store.as_ref(), &cli, &bot).await.unwrap();
    (dir, store)
}

fn forbidden<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::Forbidden { .. }))
}

#[tokio::test]
async fn users_are_managed_by_admins_and_read_by_themselves() {
    let (_dir, store) = world().await;
    let store = store.as_ref();
    let (alice, bob) = (as_user("alice", Role::Admin), as_user("bob", Role::User));
    let dave = NewUser::plain(name("dave"), NOW);
    assert!(forbidden(users::add(store, &bob, &dave).await));
    assert!(forbidden(users::list(store, &bob).await));
    assert!(forbidden(users::get(store, &bob, &name("carol")).await));
    assert!(forbidden(
        users::set_active(store, &bob, &name("carol"), false, NOW).await
    ));
    assert_eq!(
        users::get(store, &bob, &name("bob")).await.unwrap().name,
        name("bob")
    );
    users::add(store, &alice, &dave).await.unwrap();
    // the five added; the reserved `anonymous` is in the store but not listed
    let listed = users::list(store, &alice).await.unwrap();
    assert_eq!(listed.len(), 5);
    assert!(!listed.iter().any(|u| u.name.is_anonymous()));
    let audit = store.list_audit(Some(&name("dave")), 1).await.unwrap();
    assert_eq!(audit[0].actor, "alice");
    assert_eq!(audit[0].client.as_deref(), Some("192.0.2.9"));
}

#[tokio::test]
async fn tokens_are_managed_by_their_owner_the_bots_managers_and_admins() {
    let (_dir, store) = world().await;
    let store = store.as_ref();
    let policy = TokenPolicy::default();
    let (alice, bob, carol) = (
        as_user("alice", Role::Admin),
        as_user("bob", Role::User),
        as_user("carol", Role::User),
    );
    // Own tokens, a managed bot's, and (admin) anyone's.
    tokens::create(store, &bob, &policy, token_for("bob", "laptop"))
        .await
        .unwrap();
    tokens::create(store, &bob, &policy, token_for("ci", "deploy"))
        .await
        .unwrap();
    tokens::create(store, &alice, &policy, token_for("carol", "given"))
        .await
        .unwrap();
    // Not another user's, nor a bot one does not manage.
    assert!(forbidden(
        tokens::create(store, &carol, &policy, token_for("bob", "x")).await
    ));
    assert!(forbidden(
        tokens::create(store, &carol, &policy, token_for("ci", "x")).await
    ));
    assert!(forbidden(
        tokens::list(store, &carol, Some(&name("ci")), true, NOW).await
    ));
    assert!(forbidden(tokens::list(store, &bob, None, true, NOW).await));
    let deploy = TokenName::parse("deploy").unwrap();
    assert!(forbidden(
        tokens::revoke(store, &carol, &name("ci"), &deploy, NOW).await
    ));
    let listed = tokens::list(store, &bob, Some(&name("ci")), false, NOW)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    tokens::revoke(store, &bob, &name("ci"), &deploy, NOW + 1)
        .await
        .unwrap();
    assert_eq!(
        tokens::list(store, &alice, None, false, NOW + 1)
            .await
            .unwrap()
            .len(),
        2
    );
    // An unknown owner is an unknown user (the API may answer 404 to this and to Forbidden
    // alike, so a stranger learns nothing).
    let err = tokens::create(store, &carol, &policy, token_for("ghost", "x")).await;
    assert!(
        matches!(err, Err(Error::Store(store::Error::UnknownUser { .. }))),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_lifetime_policy_is_applied_on_create() {
    let (_dir, store) = world().await;
    let policy = TokenPolicy {
        max_lifetime_days: Some(10),
        default_lifetime_days: Some(2),
    };
    let cli = Actor::cli();
    let (_, expires) = tokens::create(store.as_ref(), &cli, &policy, token_for("bob", "a"))
        .await
        .unwrap();
    assert_eq!(expires, Some(NOW + 2 * 86_400));
    let mut long = token_for("bob", "b");
    long.expires_at = Some(NOW + 11 * 86_400);
    let err = tokens::create(store.as_ref(), &cli, &policy, long).await;
    assert!(matches!(err, Err(Error::Policy(_))), "{err:?}");
    let active = store
        .list_tokens(Some(&name("bob")), true, NOW)
        .await
        .unwrap();
    assert_eq!(active.len(), 1, "a refused create leaves no row");
}

#[tokio::test]
async fn anonymous_is_reserved() {
    let (_dir, store) = world().await;
    let store = store.as_ref();
    let cli = Actor::cli();
    let anonymous = UserName::anonymous();
    let user = users::get(store, &cli, &anonymous).await.unwrap();
    assert!(user.active && !user.bot && user.role == Role::User);
    fn reserved<T>(r: Result<T, Error>) -> bool {
        matches!(r, Err(Error::Reserved { .. }))
    }
    let policy = TokenPolicy::default();
    assert!(reserved(
        tokens::create(store, &cli, &policy, token_for("anonymous", "t")).await
    ));
    let pattern = crate::repo::RepoPattern::parse("git/oss/**").unwrap();
    let write = (&anonymous, &pattern, crate::vocabulary::Access::Write);
    assert!(reserved(super::grants::set(store, &cli, write, NOW).await));
    let read = (&anonymous, &pattern, crate::vocabulary::Access::Read);
    super::grants::set(store, &cli, read, NOW).await.unwrap();
    let admin = [store::UserChange::Role(Role::Admin)];
    assert!(reserved(
        users::change(store, &cli, &anonymous, &admin, NOW).await
    ));
    let again = NewUser::plain(anonymous.clone(), NOW);
    assert!(users::add(store, &cli, &again).await.is_err());
    assert!(
        store
            .list_tokens(Some(&anonymous), true, NOW)
            .await
            .unwrap()
            .is_empty()
    );
}
