//! The store contract: every case runs against a fresh SQLite file and a fresh database on a
//! real throwaway PostgreSQL (`support::postgres`). Run: `cargo test --test it store`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tempfile::TempDir;
use vcsgate::names::{Email, TokenName, UserName};
use vcsgate::repo::RepoPattern;
use vcsgate::store::{
    self, Audit, AuditAction, Error, LastUse, NewToken, NewUser, Replacement, Store, TokenId,
    TokenInfo, UserChange,
};
use vcsgate::token::TokenHash;
use vcsgate::vocabulary::{Access, Role, Scope, ScopeSet};

use crate::support::postgres;

mod notices;
use notices::{
    a_notice_is_claimed_once_until_its_lease_runs_out,
    concurrent_claims_from_two_pools_never_share_a_notice,
    expiring_tokens_are_listed_and_notices_created_once,
};

const NOW: i64 = 1_700_000_000;
const DAY: i64 = 86_400;

/// Where one store under test lives (and the directory holding a SQLite file).
struct Backend {
    url: String,
    _dir: Option<TempDir>,
}

impl Backend {
    async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("vcsgate.db").display());
        Backend {
            url,
            _dir: Some(dir),
        }
    }

    async fn postgres() -> Self {
        let database = postgres::fresh_database().await;
        Backend {
            url: postgres::server().url(&database),
            _dir: None,
        }
    }

    async fn open(&self) -> Arc<dyn Store> {
        store::open(&self.url).await.unwrap()
    }
}

/// Generates one test per case and backend: `on_sqlite::case`, `on_postgres::case`.
macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test]
            async fn $case() {
                super::$case(super::Backend::sqlite().await).await;
            })*
        }
        mod on_postgres {
            $(#[tokio::test]
            async fn $case() {
                super::$case(super::Backend::postgres().await).await;
            })*
        }
    };
}

contract!(
    users_are_added_once_disabled_enabled_and_listed,
    grants_are_added_updated_removed_and_listed_per_user,
    acting_on_unknown_users_and_grants_is_refused,
    tokens_round_trip_through_create_list_and_lookup,
    token_names_are_unique_among_active_tokens_only,
    revoking_targets_only_an_active_token,
    token_lists_show_active_tokens_or_all,
    lookup_follows_user_standing_and_unknown_hashes_are_none,
    every_mutation_appends_one_change_and_failures_none,
    changes_since_pages_in_order,
    last_use_is_recorded_in_batches_and_never_moves_back,
    concurrent_creates_of_one_name_leave_one_active_token,
    reopening_keeps_data_and_migrations,
    roles_emails_and_bot_managers_round_trip,
    bots_keep_at_least_one_non_bot_manager_and_failed_changes_change_nothing,
    databases_of_the_first_schema_upgrade_in_place,
    every_mutation_writes_one_audit_row_and_failures_none,
    rotating_replaces_the_secret_and_revokes_the_old_one_at_once,
    expiring_tokens_are_listed_and_notices_created_once,
    a_notice_is_claimed_once_until_its_lease_runs_out,
    concurrent_claims_from_two_pools_never_share_a_notice,
);

/// Who makes the changes in these tests.
fn used(token: TokenId, at: i64, ip: Option<&str>) -> LastUse {
    LastUse {
        token,
        at,
        ip: ip.map(str::to_owned),
    }
}

fn by() -> Audit {
    Audit {
        at: NOW,
        actor: "cli:test".to_owned(),
        actor_user: None,
        client: None,
    }
}

fn user(name: &str) -> UserName {
    UserName::parse(name).unwrap()
}

fn pattern(text: &str) -> RepoPattern {
    RepoPattern::parse(text).unwrap()
}

fn token_name(name: &str) -> TokenName {
    TokenName::parse(name).unwrap()
}

/// A token for `owner` named `name`, created at `NOW`, with a hash no other call returns.
fn new_token(owner: &str, name: &str) -> NewToken {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let hash = TokenHash::of(&format!("{owner}/{name}/{n}"));
    NewToken {
        user: user(owner),
        name: token_name(name),
        hash,
        public_prefix: format!("vcsg_{n:08}"),
        scopes: [Scope::ReadRepository].into_iter().collect(),
        repos: Vec::new(),
        expires_at: None,
        created_at: NOW,
    }
}

async fn store_with_users(backend: &Backend, users: &[&str]) -> Arc<dyn Store> {
    let store = backend.open().await;
    for name in users {
        store.add_user(&user(name), NOW, &by()).await.unwrap();
    }
    store
}

async fn grant(store: &Arc<dyn Store>, who: &UserName, on: &str, access: Access) {
    store
        .set_grant(who, &pattern(on), access, &by())
        .await
        .unwrap();
}

fn names(tokens: &[TokenInfo]) -> Vec<(String, String)> {
    tokens
        .iter()
        .map(|t| (t.user.to_string(), t.name.to_string()))
        .collect()
}

async fn users_are_added_once_disabled_enabled_and_listed(backend: Backend) {
    let store = store_with_users(&backend, &["bob", "alice"]).await;
    let err = store
        .add_user(&user("alice"), NOW + 1, &by())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::UserExists { ref name } if name.as_str() == "alice"),
        "{err:?}"
    );

    store
        .set_user_active(&user("bob"), false, &by())
        .await
        .unwrap();
    let listed = store.list_users().await.unwrap();
    let view: Vec<_> = listed
        .iter()
        .map(|u| (u.name.as_str(), u.active, u.created_at))
        .collect();
    assert_eq!(view, [("alice", true, NOW), ("bob", false, NOW)]);

    store
        .set_user_active(&user("bob"), true, &by())
        .await
        .unwrap();
    assert!(store.list_users().await.unwrap().iter().all(|u| u.active));
    let err = store
        .set_user_active(&user("carol"), false, &by())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownUser { .. }), "{err:?}");
}

async fn grants_are_added_updated_removed_and_listed_per_user(backend: Backend) {
    let store = store_with_users(&backend, &["alice", "bob"]).await;
    let alice = user("alice");
    grant(&store, &alice, "git/team/**", Access::Read).await;
    grant(&store, &alice, "hg/app", Access::Write).await;
    grant(&store, &user("bob"), "svn/repo", Access::Read).await;
    // Adding an existing pattern updates its access.
    grant(&store, &alice, "git/team/**", Access::Write).await;

    let view = |grants: Vec<store::Grant>| {
        grants
            .into_iter()
            .map(|g| (g.user.to_string(), g.pattern.to_string(), g.access))
            .collect::<Vec<_>>()
    };
    let all = view(store.list_grants(None).await.unwrap());
    let row = |u: &str, p: &str, a| (u.to_owned(), p.to_owned(), a);
    assert_eq!(
        all,
        [
            row("alice", "git/team/**", Access::Write),
            row("alice", "hg/app", Access::Write),
            row("bob", "svn/repo", Access::Read),
        ]
    );
    let bobs = view(store.list_grants(Some(&user("bob"))).await.unwrap());
    assert_eq!(bobs, [row("bob", "svn/repo", Access::Read)]);

    store
        .remove_grant(&alice, &pattern("hg/app"), &by())
        .await
        .unwrap();
    let alices = view(store.list_grants(Some(&alice)).await.unwrap());
    assert_eq!(alices, [row("alice", "git/team/**", Access::Write)]);
    let standing = store.user_access(&alice).await.unwrap().unwrap();
    assert_eq!(standing.grants, [(pattern("git/team/**"), Access::Write)]);
}

async fn acting_on_unknown_users_and_grants_is_refused(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    let (alice, ghost) = (user("alice"), user("ghost"));
    let unknown_user =
        |err: Error| matches!(err, Error::UnknownUser { ref name } if name.as_str() == "ghost");

    let err = store
        .set_grant(&ghost, &pattern("git/x"), Access::Read, &by())
        .await
        .unwrap_err();
    assert!(unknown_user(err));
    assert!(unknown_user(
        store
            .remove_grant(&ghost, &pattern("git/x"), &by())
            .await
            .unwrap_err()
    ));
    assert!(unknown_user(
        store.list_grants(Some(&ghost)).await.unwrap_err()
    ));
    assert!(unknown_user(
        store
            .list_tokens(Some(&ghost), true, NOW)
            .await
            .unwrap_err()
    ));
    assert!(unknown_user(
        store
            .create_token(&new_token("ghost", "ci"), &by())
            .await
            .unwrap_err()
    ));
    assert!(unknown_user(
        store
            .revoke_token(&ghost, &token_name("ci"), NOW, &by())
            .await
            .unwrap_err()
    ));
    assert_eq!(store.user_access(&ghost).await.unwrap(), None);

    let err = store
        .remove_grant(&alice, &pattern("git/x"), &by())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownGrant { ref pattern, .. } if pattern.as_str() == "git/x"));
    assert!(store.list_grants(Some(&alice)).await.unwrap().is_empty());
    let standing = store.user_access(&alice).await.unwrap().unwrap();
    assert!(standing.active && standing.grants.is_empty());
}

async fn tokens_round_trip_through_create_list_and_lookup(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    grant(&store, &user("alice"), "git/**", Access::Write).await;
    let mut token = new_token("alice", "ci");
    token.scopes = [Scope::ReadRepository, Scope::WriteRepository, Scope::Api]
        .into_iter()
        .collect();
    token.repos = vec![pattern("git/team/*"), pattern("git/other")];
    token.expires_at = Some(NOW + DAY);
    let id = store.create_token(&token, &by()).await.unwrap();

    let expected = TokenInfo {
        id,
        user: user("alice"),
        name: token_name("ci"),
        public_prefix: token.public_prefix.clone(),
        scopes: token.scopes,
        repos: token.repos.clone(),
        created_at: NOW,
        expires_at: Some(NOW + DAY),
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
    };
    let found = store.lookup_token(&token.hash).await.unwrap().unwrap();
    assert_eq!(found.token, expected);
    assert_eq!(
        store.list_tokens(None, false, NOW).await.unwrap(),
        [expected]
    );
    assert_eq!(found.user.name, user("alice"));
    assert!(found.user.active);
    assert_eq!(found.user.grants, [(pattern("git/**"), Access::Write)]);

    // A token without limits or expiry keeps them empty.
    let plain = new_token("alice", "laptop");
    store.create_token(&plain, &by()).await.unwrap();
    let found = store
        .lookup_token(&plain.hash)
        .await
        .unwrap()
        .unwrap()
        .token;
    assert!(found.repos.is_empty() && found.expires_at.is_none());
    assert_eq!(
        found.scopes,
        ScopeSet::parse_list("read_repository").unwrap()
    );
}

async fn token_names_are_unique_among_active_tokens_only(backend: Backend) {
    let store = store_with_users(&backend, &["alice", "bob"]).await;
    store
        .create_token(&new_token("alice", "ci"), &by())
        .await
        .unwrap();
    let err = store
        .create_token(&new_token("alice", "ci"), &by())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TokenNameTaken { ref name, .. } if name.as_str() == "ci"));
    // Another user may use the name.
    store
        .create_token(&new_token("bob", "ci"), &by())
        .await
        .unwrap();

    // A revoked token's name is free again.
    store
        .revoke_token(&user("alice"), &token_name("ci"), NOW + 1, &by())
        .await
        .unwrap();
    store
        .create_token(&new_token("alice", "ci"), &by())
        .await
        .unwrap();

    // So is an expired one's, once it has expired (not before).
    let mut short = new_token("alice", "short");
    short.expires_at = Some(NOW + 10);
    store.create_token(&short, &by()).await.unwrap();
    let mut again = new_token("alice", "short");
    again.created_at = NOW + 9;
    assert!(matches!(
        store.create_token(&again, &by()).await,
        Err(Error::TokenNameTaken { .. })
    ));
    again.created_at = NOW + 10;
    store.create_token(&again, &by()).await.unwrap();

    let all = store
        .list_tokens(Some(&user("alice")), true, NOW + 10)
        .await
        .unwrap();
    let pairs = names(&all);
    assert_eq!(pairs.iter().filter(|(_, n)| n == "ci").count(), 2);
    assert_eq!(pairs.iter().filter(|(_, n)| n == "short").count(), 2);
}

async fn revoking_targets_only_an_active_token(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    let alice = user("alice");
    let mut old = new_token("alice", "ci");
    old.expires_at = Some(NOW + 5);
    let old_id = store.create_token(&old, &by()).await.unwrap();
    let mut current = new_token("alice", "ci");
    current.created_at = NOW + 5;
    let current_id = store.create_token(&current, &by()).await.unwrap();

    store
        .revoke_token(&alice, &token_name("ci"), NOW + 6, &by())
        .await
        .unwrap();
    let all = store
        .list_tokens(Some(&alice), true, NOW + 6)
        .await
        .unwrap();
    let revoked: Vec<(TokenId, Option<i64>)> = all.iter().map(|t| (t.id, t.revoked_at)).collect();
    assert_eq!(revoked, [(old_id, None), (current_id, Some(NOW + 6))]);

    // Nothing active is left under that name: revoked, expired and unknown are refused.
    for name in ["ci", "nope"] {
        let err = store
            .revoke_token(&alice, &token_name(name), NOW + 7, &by())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::UnknownToken { ref name, .. } if name.as_str() != ""),
            "{err:?}"
        );
    }
}

async fn token_lists_show_active_tokens_or_all(backend: Backend) {
    let store = store_with_users(&backend, &["alice", "bob"]).await;
    let mut expiring = new_token("alice", "expiring");
    expiring.expires_at = Some(NOW + DAY);
    store.create_token(&expiring, &by()).await.unwrap();
    store
        .create_token(&new_token("alice", "revoked"), &by())
        .await
        .unwrap();
    store
        .revoke_token(&user("alice"), &token_name("revoked"), NOW, &by())
        .await
        .unwrap();
    store
        .create_token(&new_token("alice", "live"), &by())
        .await
        .unwrap();
    store
        .create_token(&new_token("bob", "ci"), &by())
        .await
        .unwrap();

    let pair = |u: &str, n: &str| (u.to_owned(), n.to_owned());
    let at = |now| {
        let store = store.clone();
        async move { names(&store.list_tokens(None, false, now).await.unwrap()) }
    };
    let active_now = [
        pair("alice", "expiring"),
        pair("alice", "live"),
        pair("bob", "ci"),
    ];
    assert_eq!(at(NOW).await, active_now);
    // Expired exactly at expires_at.
    assert_eq!(
        at(NOW + DAY).await,
        [pair("alice", "live"), pair("bob", "ci")]
    );

    let all = store.list_tokens(None, true, NOW + DAY).await.unwrap();
    assert_eq!(
        names(&all),
        [
            pair("alice", "expiring"),
            pair("alice", "live"),
            pair("alice", "revoked"),
            pair("bob", "ci")
        ]
    );
    let alices = store
        .list_tokens(Some(&user("alice")), false, NOW + DAY)
        .await
        .unwrap();
    assert_eq!(names(&alices), [pair("alice", "live")]);
    let bobs = store
        .list_tokens(Some(&user("bob")), true, NOW)
        .await
        .unwrap();
    assert_eq!(names(&bobs), [pair("bob", "ci")]);
}

async fn lookup_follows_user_standing_and_unknown_hashes_are_none(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    let alice = user("alice");
    let mut token = new_token("alice", "ci");
    token.expires_at = Some(NOW + 1);
    store.create_token(&token, &by()).await.unwrap();
    store
        .revoke_token(&alice, &token_name("ci"), NOW, &by())
        .await
        .unwrap();
    store.set_user_active(&alice, false, &by()).await.unwrap();
    grant(&store, &alice, "git/a", Access::Read).await;
    grant(&store, &alice, "git/b", Access::Write).await;

    // Revoked, expired, and its user disabled: still returned, with every field.
    let found = store.lookup_token(&token.hash).await.unwrap().unwrap();
    assert_eq!(found.token.revoked_at, Some(NOW));
    assert_eq!(found.token.expires_at, Some(NOW + 1));
    assert!(!found.user.active);
    assert_eq!(
        found.user.grants,
        [
            (pattern("git/a"), Access::Read),
            (pattern("git/b"), Access::Write)
        ]
    );
    assert_eq!(store.user_access(&alice).await.unwrap(), Some(found.user));
    assert_eq!(
        store.lookup_token(&TokenHash::of("unknown")).await.unwrap(),
        None
    );
}

async fn every_mutation_appends_one_change_and_failures_none(backend: Backend) {
    let store = backend.open().await;
    assert_eq!(store.latest_change().await.unwrap(), 0);
    let (alice, bob) = (user("alice"), user("bob"));
    let mut expected = Vec::new();
    let mut check = |who: &UserName| expected.push(who.to_string());

    store.add_user(&alice, NOW, &by()).await.unwrap();
    check(&alice);
    store.add_user(&bob, NOW, &by()).await.unwrap();
    check(&bob);
    store.set_user_active(&alice, false, &by()).await.unwrap();
    check(&alice);
    grant(&store, &bob, "git/x", Access::Read).await;
    check(&bob);
    store
        .remove_grant(&bob, &pattern("git/x"), &by())
        .await
        .unwrap();
    check(&bob);
    let token = new_token("alice", "ci");
    let id = store.create_token(&token, &by()).await.unwrap();
    check(&alice);
    store
        .revoke_token(&alice, &token_name("ci"), NOW, &by())
        .await
        .unwrap();
    check(&alice);

    // Refused mutations and last-use bookkeeping leave the feed alone.
    let before = store.latest_change().await.unwrap();
    assert!(store.add_user(&alice, NOW, &by()).await.is_err());
    assert!(
        store
            .remove_grant(&bob, &pattern("git/x"), &by())
            .await
            .is_err()
    );
    assert!(
        store
            .revoke_token(&alice, &token_name("ci"), NOW, &by())
            .await
            .is_err()
    );
    assert!(
        store
            .create_token(&new_token("ghost", "ci"), &by())
            .await
            .is_err()
    );
    store
        .record_last_used(&[used(id, NOW + 5, None)])
        .await
        .unwrap();
    assert_eq!(store.latest_change().await.unwrap(), before);

    let feed = store.changes_since(0, 100).await.unwrap();
    let users: Vec<String> = feed.iter().map(|c| c.user.to_string()).collect();
    assert_eq!(users, expected);
    assert!(feed.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(feed.last().map(|c| c.seq), Some(before));
}

async fn changes_since_pages_in_order(backend: Backend) {
    let store = backend.open().await;
    for i in 0..7 {
        store
            .add_user(&user(&format!("u{i}")), NOW, &by())
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.changes_since(after, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        after = last.seq;
        seen.extend(page.iter().map(|c| c.user.to_string()));
    }
    let expected: Vec<String> = (0..7).map(|i| format!("u{i}")).collect();
    assert_eq!(seen, expected);
    assert_eq!(after, store.latest_change().await.unwrap());
    assert!(store.changes_since(after, 10).await.unwrap().is_empty());
    assert!(store.changes_since(0, 0).await.unwrap().is_empty());
    assert!(store.changes_since(0, -1).await.unwrap().is_empty());
}

async fn last_use_is_recorded_in_batches_and_never_moves_back(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    let first = store
        .create_token(&new_token("alice", "one"), &by())
        .await
        .unwrap();
    let second = store
        .create_token(&new_token("alice", "two"), &by())
        .await
        .unwrap();
    store.record_last_used(&[]).await.unwrap();
    store
        .record_last_used(&[
            used(first, NOW + 10, Some("192.0.2.7")),
            used(second, NOW + 20, Some("2001:db8::1")),
            used(TokenId(999_999), NOW, None),
        ])
        .await
        .unwrap();
    store
        .record_last_used(&[used(first, NOW + 5, Some("198.51.100.1"))])
        .await
        .unwrap();

    let listed = store.list_tokens(None, false, NOW).await.unwrap();
    let seen: Vec<_> = listed
        .iter()
        .map(|t| (t.id, t.last_used_at, t.last_used_ip.as_deref()))
        .collect();
    // An older use never overwrites a newer one, time and address together.
    assert_eq!(
        seen,
        [
            (first, Some(NOW + 10), Some("192.0.2.7")),
            (second, Some(NOW + 20), Some("2001:db8::1"))
        ]
    );
}

async fn concurrent_creates_of_one_name_leave_one_active_token(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.create_token(&new_token("alice", "ci"), &by()).await })
    });
    let mut created = 0;
    for attempt in attempts.collect::<Vec<_>>() {
        match attempt.await.unwrap() {
            Ok(_) => created += 1,
            Err(Error::TokenNameTaken { .. }) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(store.list_tokens(None, true, NOW).await.unwrap().len(), 1);
}

async fn reopening_keeps_data_and_migrations(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    let token = new_token("alice", "ci");
    store.create_token(&token, &by()).await.unwrap();
    let latest = store.latest_change().await.unwrap();
    drop(store);

    for _ in 0..2 {
        let store = backend.open().await;
        assert_eq!(store.list_users().await.unwrap().len(), 1);
        assert!(store.lookup_token(&token.hash).await.unwrap().is_some());
        assert_eq!(store.latest_change().await.unwrap(), latest);
    }
}

fn email(text: &str) -> Email {
    Email::parse(text).unwrap()
}

fn bot(name: &str, managers: &[&str]) -> NewUser {
    NewUser {
        bot: true,
        managers: managers.iter().map(|m| user(m)).collect(),
        ..NewUser::plain(user(name), NOW)
    }
}

/// (name, role, bot, email, managers) of every user.
async fn user_view(
    store: &Arc<dyn Store>,
) -> Vec<(String, Role, bool, Option<String>, Vec<String>)> {
    let users = store.list_users().await.unwrap();
    users
        .into_iter()
        .map(|u| {
            (
                u.name.to_string(),
                u.role,
                u.bot,
                u.email.map(|e| e.to_string()),
                u.managers.iter().map(|m| m.to_string()).collect(),
            )
        })
        .collect()
}

async fn roles_emails_and_bot_managers_round_trip(backend: Backend) {
    let store = store_with_users(&backend, &["bob"]).await;
    let admin = NewUser {
        role: Role::Admin,
        email: Some(email("alice@example.com")),
        ..NewUser::plain(user("alice"), NOW)
    };
    store.create_user(&admin, &by()).await.unwrap();
    store
        .create_user(&bot("ci", &["bob", "alice"]), &by())
        .await
        .unwrap();

    let row = |n: &str, r, b, e: Option<&str>, m: &[&str]| {
        let managers = m.iter().map(|s| (*s).to_owned()).collect();
        (n.to_owned(), r, b, e.map(str::to_owned), managers)
    };
    assert_eq!(
        user_view(&store).await,
        [
            row("alice", Role::Admin, false, Some("alice@example.com"), &[]),
            row("bob", Role::User, false, None, &[]),
            row("ci", Role::User, true, None, &["alice", "bob"]),
        ]
    );
    let one = store.user(&user("ci")).await.unwrap().unwrap();
    assert_eq!((one.bot, one.managers.len(), one.active), (true, 2, true));
    assert_eq!(store.user(&user("ghost")).await.unwrap(), None);

    let changes = [
        UserChange::Role(Role::Admin),
        UserChange::Email(Some(email("bob@example.com"))),
    ];
    store
        .update_user(&user("bob"), &changes, &by())
        .await
        .unwrap();
    store
        .update_user(
            &user("alice"),
            &[UserChange::Role(Role::User), UserChange::Email(None)],
            &by(),
        )
        .await
        .unwrap();
    let ci_changes = [
        UserChange::RemoveManager(user("alice")),
        UserChange::AddManager(user("bob")),
        UserChange::Email(Some(email("ci@example.com"))),
    ];
    store
        .update_user(&user("ci"), &ci_changes, &by())
        .await
        .unwrap();
    assert_eq!(
        user_view(&store).await,
        [
            row("alice", Role::User, false, None, &[]),
            row("bob", Role::Admin, false, Some("bob@example.com"), &[]),
            row("ci", Role::User, true, Some("ci@example.com"), &["bob"]),
        ]
    );
    // Every change is in the feed.
    let feed = store.changes_since(0, 100).await.unwrap();
    let users: Vec<String> = feed.iter().map(|c| c.user.to_string()).collect();
    assert_eq!(users, ["bob", "alice", "ci", "bob", "alice", "ci"]);
}

async fn bots_keep_at_least_one_non_bot_manager_and_failed_changes_change_nothing(
    backend: Backend,
) {
    let store = store_with_users(&backend, &["alice"]).await;
    store
        .create_user(&bot("ci", &["alice"]), &by())
        .await
        .unwrap();
    let before = (
        user_view(&store).await,
        store.latest_change().await.unwrap(),
    );

    let refused = [
        store
            .create_user(&bot("lonely", &[]), &by())
            .await
            .unwrap_err(),
        store
            .create_user(&bot("b2", &["ghost"]), &by())
            .await
            .unwrap_err(),
        store
            .create_user(&bot("b3", &["ci"]), &by())
            .await
            .unwrap_err(),
        store
            .create_user(
                &NewUser {
                    managers: vec![user("alice")],
                    ..NewUser::plain(user("p"), NOW)
                },
                &by(),
            )
            .await
            .unwrap_err(),
        store
            .update_user(
                &user("ci"),
                &[UserChange::RemoveManager(user("alice"))],
                &by(),
            )
            .await
            .unwrap_err(),
        store
            .update_user(
                &user("ci"),
                &[UserChange::RemoveManager(user("ghost"))],
                &by(),
            )
            .await
            .unwrap_err(),
        // The role change would apply, but the manager change fails: neither happens.
        store
            .update_user(
                &user("alice"),
                &[
                    UserChange::Role(Role::Admin),
                    UserChange::AddManager(user("ci")),
                ],
                &by(),
            )
            .await
            .unwrap_err(),
        store
            .update_user(&user("ghost"), &[UserChange::Role(Role::Admin)], &by())
            .await
            .unwrap_err(),
    ];
    let kinds: Vec<&str> = refused
        .iter()
        .map(|e| match e {
            Error::BotNeedsManager { .. } => "needs manager",
            Error::UnknownUser { .. } => "unknown user",
            Error::ManagerIsBot { .. } => "manager is bot",
            Error::NotABot { .. } => "not a bot",
            Error::UnknownManager { .. } => "unknown manager",
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "needs manager",
            "unknown user",
            "manager is bot",
            "not a bot",
            "needs manager",
            "unknown manager",
            "not a bot",
            "unknown user"
        ]
    );
    let after = (
        user_view(&store).await,
        store.latest_change().await.unwrap(),
    );
    assert_eq!(after, before, "refusals leave no row and no change");
    // Adding a manager twice changes nothing either way; then the old one may go.
    store.add_user(&user("bob"), NOW, &by()).await.unwrap();
    for _ in 0..2 {
        let add = [UserChange::AddManager(user("bob"))];
        store.update_user(&user("ci"), &add, &by()).await.unwrap();
    }
    let remove = [UserChange::RemoveManager(user("alice"))];
    store
        .update_user(&user("ci"), &remove, &by())
        .await
        .unwrap();
    let ci = store.user(&user("ci")).await.unwrap().unwrap();
    assert_eq!(ci.managers, [user("bob")]);
}

/// Creates the database with the first migration only (today's released schema), fills it
/// as that version would, and opens it with the current code.
async fn databases_of_the_first_schema_upgrade_in_place(backend: Backend) {
    let dialect = if backend.url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    };
    let first = tempfile::tempdir().unwrap();
    let initial = format!(
        "{}/migrations/{dialect}/0001_initial.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::copy(initial, first.path().join("0001_initial.sql")).unwrap();
    let migrator = sqlx::migrate::Migrator::new(first.path()).await.unwrap();
    let hash = TokenHash::of("old-token");
    let fill = format!(
        "INSERT INTO users (name, active, created_at) VALUES ('alice', TRUE, {NOW}); \
         INSERT INTO users (name, active, created_at) VALUES ('bob', FALSE, {NOW}); \
         INSERT INTO grants (user_id, pattern, access) SELECT id, 'git/**', 'write' FROM users WHERE name = 'alice'; \
         INSERT INTO tokens (user_id, name, hash, public_prefix, scopes, repos, created_at, expires_at, last_used_at) \
           SELECT id, 'ci', '{}', 'vcsg_old', 'read_repository,write_repository', 'git/team/*', {NOW}, {}, {} FROM users WHERE name = 'alice'; \
         INSERT INTO changes (user_name) VALUES ('alice'); INSERT INTO changes (user_name) VALUES ('bob');",
        hash.to_hex(),
        NOW + DAY,
        NOW + 5,
    );
    if dialect == "sqlite" {
        let path = backend.url.strip_prefix("sqlite://").unwrap();
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        migrator.run(&pool).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(fill.clone()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&backend.url).await.unwrap();
        migrator.run(&pool).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(fill.clone()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }

    let store = backend.open().await;
    let users = store.list_users().await.unwrap();
    let view: Vec<_> = users
        .iter()
        .map(|u| {
            (
                u.name.as_str(),
                u.active,
                u.created_at,
                u.role,
                u.bot,
                u.email.clone(),
                u.managers.len(),
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            ("alice", true, NOW, Role::User, false, None, 0),
            ("bob", false, NOW, Role::User, false, None, 0),
        ]
    );
    let grants = store.list_grants(None).await.unwrap();
    assert_eq!(grants.len(), 1);
    assert_eq!(
        (grants[0].pattern.as_str(), grants[0].access),
        ("git/**", Access::Write)
    );
    let found = store.lookup_token(&hash).await.unwrap().unwrap();
    assert_eq!(found.token.name.as_str(), "ci");
    assert_eq!(found.token.repos, [pattern("git/team/*")]);
    assert_eq!(found.token.expires_at, Some(NOW + DAY));
    assert_eq!(found.token.last_used_at, Some(NOW + 5));
    assert_eq!(found.user.grants, [(pattern("git/**"), Access::Write)]);
    assert_eq!(store.latest_change().await.unwrap(), 2);
    // The new tables work on the upgraded database.
    store
        .create_user(&bot("ci", &["alice"]), &by())
        .await
        .unwrap();
    assert_eq!(
        store.user(&user("ci")).await.unwrap().unwrap().managers,
        [user("alice")]
    );
}

async fn every_mutation_writes_one_audit_row_and_failures_none(backend: Backend) {
    let store = backend.open().await;
    let (alice, ci) = (user("alice"), user("ci"));
    let api = Audit {
        at: NOW + 1,
        actor: "alice token admin".to_owned(),
        actor_user: Some(alice.clone()),
        client: Some("192.0.2.7".to_owned()),
    };
    store.add_user(&alice, NOW, &by()).await.unwrap();
    store
        .create_user(&bot("ci", &["alice"]), &api)
        .await
        .unwrap();
    let changes = [UserChange::Email(Some(email("ci@example.com")))];
    store.update_user(&ci, &changes, &api).await.unwrap();
    store.set_user_active(&ci, false, &by()).await.unwrap();
    store.set_user_active(&ci, true, &by()).await.unwrap();
    store
        .set_grant(&ci, &pattern("git/**"), Access::Write, &by())
        .await
        .unwrap();
    store
        .remove_grant(&ci, &pattern("git/**"), &by())
        .await
        .unwrap();
    let mut token = new_token("ci", "deploy");
    token.repos = vec![pattern("git/a"), pattern("git/b")];
    store.create_token(&token, &api).await.unwrap();
    store
        .revoke_token(&ci, &token_name("deploy"), NOW + 2, &api)
        .await
        .unwrap();

    // Refusals write nothing.
    let count = store.list_audit(None, 1000).await.unwrap().len();
    assert!(store.add_user(&alice, NOW, &by()).await.is_err());
    assert!(
        store
            .remove_grant(&ci, &pattern("git/**"), &by())
            .await
            .is_err()
    );
    assert!(
        store
            .revoke_token(&ci, &token_name("deploy"), NOW, &by())
            .await
            .is_err()
    );
    let lonely = [UserChange::RemoveManager(alice.clone())];
    assert!(store.update_user(&ci, &lonely, &by()).await.is_err());
    assert_eq!(store.list_audit(None, 1000).await.unwrap().len(), count);

    let events = store.list_audit(None, 1000).await.unwrap();
    let view: Vec<(AuditAction, &str, &str)> = events
        .iter()
        .map(|e| (e.action, e.target.as_str(), e.detail.as_str()))
        .collect();
    assert_eq!(
        view,
        [
            (AuditAction::TokenRevoke, "ci", "token deploy"),
            (
                AuditAction::TokenCreate,
                "ci",
                "token deploy scopes=read_repository repos=git/a,git/b"
            ),
            (AuditAction::GrantRemove, "ci", "git/**"),
            (AuditAction::GrantSet, "ci", "git/** write"),
            (AuditAction::UserEnable, "ci", ""),
            (AuditAction::UserDisable, "ci", ""),
            (AuditAction::UserSet, "ci", "email=ci@example.com"),
            (AuditAction::UserAdd, "ci", "role=user bot manager+alice"),
            (AuditAction::UserAdd, "alice", "role=user"),
        ],
        "newest first"
    );
    assert!(events.windows(2).all(|w| w[0].id > w[1].id));
    let revoke = &events[0];
    assert_eq!(
        (revoke.at, revoke.actor.as_str(), revoke.client.as_deref()),
        (NOW + 1, "alice token admin", Some("192.0.2.7"))
    );
    assert_eq!(revoke.actor_user, Some(alice.clone()));
    let first = events.last().unwrap();
    assert_eq!(
        (first.at, first.actor.as_str(), first.client.as_deref()),
        (NOW, "cli:test", None)
    );
    // Never a secret (nor its hash).
    let hash = token.hash.to_hex();
    assert!(events.iter().all(|e| !e.detail.contains(&hash)));

    // About or by a user, and limited.
    let alices = store.list_audit(Some(&alice), 1000).await.unwrap();
    assert_eq!(alices.len(), 5, "alice's own add and her four API actions");
    let last_two = store.list_audit(Some(&ci), 2).await.unwrap();
    let actions: Vec<_> = last_two.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [AuditAction::TokenRevoke, AuditAction::TokenCreate]
    );
    assert!(store.list_audit(None, 0).await.unwrap().is_empty());
    let err = store
        .list_audit(Some(&user("ghost")), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownUser { .. }), "{err:?}");

    // An event without a change (a policy refusal) is written alone, outside the feed.
    let feed = store.latest_change().await.unwrap();
    let refusal = "token x: beyond the maximum";
    store
        .record_audit(&alice, &api, AuditAction::PolicyRefusal, refusal)
        .await
        .unwrap();
    assert_eq!(store.latest_change().await.unwrap(), feed);
    let newest = &store.list_audit(Some(&alice), 1).await.unwrap()[0];
    assert_eq!(
        (
            newest.action,
            newest.detail.as_str(),
            newest.client.as_deref()
        ),
        (AuditAction::PolicyRefusal, refusal, Some("192.0.2.7"))
    );
}

async fn rotating_replaces_the_secret_and_revokes_the_old_one_at_once(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    let alice = user("alice");
    let mut old = new_token("alice", "ci");
    old.scopes = [Scope::ReadRepository, Scope::WriteRepository]
        .into_iter()
        .collect();
    old.repos = vec![pattern("git/team/*")];
    old.expires_at = Some(NOW + DAY);
    let old_id = store.create_token(&old, &by()).await.unwrap();
    store
        .record_last_used(&[used(old_id, NOW + 5, None)])
        .await
        .unwrap();
    let before = store.latest_change().await.unwrap();

    let replacement = |secret: &str, at: i64| Replacement {
        hash: TokenHash::of(secret),
        public_prefix: "vcsg_new".to_owned(),
        expires_at: Some(at + 2 * DAY),
        created_at: at,
    };
    let new = replacement("rotated", NOW + 10);
    let rotated = store
        .rotate_token(&alice, &token_name("ci"), &new, &by())
        .await
        .unwrap();
    assert_ne!(rotated.id, old_id);
    let expected = TokenInfo {
        id: rotated.id,
        user: alice.clone(),
        name: token_name("ci"),
        public_prefix: "vcsg_new".to_owned(),
        scopes: old.scopes,
        repos: old.repos.clone(),
        created_at: NOW + 10,
        expires_at: Some(NOW + 10 + 2 * DAY),
        last_used_at: None,
        last_used_ip: None,
        revoked_at: None,
    };
    assert_eq!(rotated, expected);
    let found = store.lookup_token(&new.hash).await.unwrap().unwrap();
    assert_eq!(found.token, expected);
    let gone = store.lookup_token(&old.hash).await.unwrap().unwrap();
    assert_eq!(gone.token.revoked_at, Some(NOW + 10));
    assert_eq!(
        store.list_tokens(None, false, NOW + 10).await.unwrap(),
        [expected]
    );
    assert_eq!(store.latest_change().await.unwrap(), before + 1);
    let audit = store.list_audit(None, 1).await.unwrap();
    assert_eq!(audit[0].action, AuditAction::TokenRotate);
    assert!(audit[0].detail.starts_with("token ci"), "{:?}", audit[0]);

    // A rotation that fails (here: the new hash is taken) leaves the current token working.
    let clash = replacement("rotated", NOW + 20);
    assert!(
        store
            .rotate_token(&alice, &token_name("ci"), &clash, &by())
            .await
            .is_err()
    );
    let still = store.lookup_token(&new.hash).await.unwrap().unwrap();
    assert_eq!(still.token.revoked_at, None);
    assert_eq!(store.latest_change().await.unwrap(), before + 1);

    // Only an active token rotates; unknown users are unknown.
    let later = replacement("later", NOW + 30);
    let err = store
        .rotate_token(&alice, &token_name("nope"), &later, &by())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownToken { .. }), "{err:?}");
    let expired = replacement("expired", NOW + 20 + 2 * DAY);
    let err = store
        .rotate_token(&alice, &token_name("ci"), &expired, &by())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownToken { .. }), "{err:?}");
    let err = store
        .rotate_token(&user("ghost"), &token_name("ci"), &later, &by())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownUser { .. }), "{err:?}");
}

#[tokio::test]
async fn sqlite_file_is_created_on_first_use_in_an_existing_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fresh.db");
    let store = store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    store.add_user(&user("alice"), NOW, &by()).await.unwrap();
    assert!(file.is_file());
    assert!(
        dir.path().join("fresh.db-wal").exists(),
        "journal mode is WAL"
    );

    let missing = dir.path().join("no/such/dir/x.db");
    let err = store::open(&format!("sqlite://{}", missing.display()))
        .await
        .unwrap_err();
    assert!(!missing.exists(), "{err}");
    for bad in ["sqlite://", "sqlite://:memory:"] {
        let err = store::open(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err:?}");
    }
    let err = store::open("mysql://db/x").await.unwrap_err();
    assert!(matches!(err, Error::UnsupportedScheme { .. }), "{err:?}");
}

#[tokio::test]
async fn postgres_opens_over_its_unix_socket() {
    let database = postgres::fresh_database().await;
    let store = store::open(&postgres::server().socket_url(&database))
        .await
        .unwrap();
    store.add_user(&user("alice"), NOW, &by()).await.unwrap();
    assert_eq!(store.list_users().await.unwrap().len(), 1);
}

#[tokio::test]
async fn postgres_errors_never_show_the_password() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = format!("postgres://vcsgate:s3cretpw@127.0.0.1:{port}/vcsgate");
    let err = store::open(&refused).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let malformed = "postgres://vcsgate:s3cretpw@127.0.0.1:notaport/vcsgate";
    let err2 = store::open(malformed).await.unwrap_err();
    assert!(matches!(err2, Error::InvalidUrl { .. }), "{err2:?}");
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        err2.to_string(),
        format!("{err2:?}"),
    ] {
        assert!(!shown.contains("s3cretpw"), "{shown}");
    }
    assert!(!store::redact_url(&refused).contains("s3cretpw"));
}
