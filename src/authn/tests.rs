//! The authenticator against a real SQLite store: memory, eviction through the change feed,
//! standing, and the outage grace.

use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::names::{TokenName, UserName};
use crate::repo::RepoPattern;
use crate::store::{Audit, GrantRule, NewToken};
use crate::vocabulary::{Access, Scope, ScopeSet};

const NOW: i64 = 1_800_000_000;

fn by() -> Audit {
    Audit {
        at: NOW,
        actor: "test".to_owned(),
        actor_user: None,
        client: None,
    }
}

async fn setup() -> (tempfile::TempDir, Arc<Authenticator>, Secret, UserName) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = crate::store::open(&url).await.unwrap();
    let user = UserName::parse("alice").unwrap();
    store.add_user(&user, NOW, &by()).await.unwrap();
    let pattern = RepoPattern::parse("git/**").unwrap();
    store
        .set_grant(&user, &pattern, Access::Read, &by())
        .await
        .unwrap();
    let generated = token::generate().unwrap();
    store
        .create_token(
            &NewToken {
                user: user.clone(),
                name: TokenName::parse("ci").unwrap(),
                hash: generated.hash,
                public_prefix: generated.public_prefix.clone(),
                scopes: [Scope::ReadRepository].into_iter().collect::<ScopeSet>(),
                repos: Vec::new(),
                refs: Vec::new(),
                expires_at: Some(NOW + 100),
                created_at: NOW,
            },
            &by(),
        )
        .await
        .unwrap();
    let authn = Arc::new(Authenticator::new(store, Duration::from_secs(30)));
    (dir, authn, generated.secret, user)
}

#[tokio::test]
async fn first_use_looks_up_then_memory_answers() {
    let (_dir, authn, secret, _) = setup().await;
    assert!(matches!(authn.begin(&secret, NOW), Ok(Attempt::Unknown(_))));
    let known = authn.authenticate(&secret, NOW).await.unwrap();
    assert_eq!(known.principal.token.name.as_str(), "ci");
    assert_eq!(authn.remembered_count(), 1);
    assert!(matches!(authn.begin(&secret, NOW), Ok(Attempt::Known(_))));
    // Standing is checked on every use, also from memory.
    assert!(matches!(
        authn.authenticate(&secret, NOW + 100).await,
        Err(AuthError::Standing(crate::authorize::Denial::Expired))
    ));
}

#[tokio::test]
async fn unknown_and_malformed_tokens() {
    let (_dir, authn, _, _) = setup().await;
    let other = token::generate().unwrap().secret;
    assert!(matches!(
        authn.authenticate(&other, NOW).await,
        Err(AuthError::Unknown)
    ));
    assert_eq!(
        authn.remembered_count(),
        0,
        "unknown tokens are not remembered"
    );
    // One character changed (never to itself: a random token ends in `x` one time in 62).
    let text = other.expose();
    let (head, last) = text.split_at(text.len() - 1);
    let typo = Secret::new(format!("{head}{}", if last == "x" { "y" } else { "x" }));
    assert!(matches!(authn.begin(&typo, NOW), Err(AuthError::Format(_))));
}

#[tokio::test]
async fn a_change_for_the_user_evicts_its_tokens() {
    let (_dir, authn, secret, user) = setup().await;
    let mut feed = ChangeFeed::start(Arc::clone(&authn), None, Default::default())
        .await
        .unwrap();
    authn.authenticate(&secret, NOW).await.unwrap();
    authn
        .store()
        .revoke_token(&user, &TokenName::parse("ci").unwrap(), NOW + 1, &by())
        .await
        .unwrap();
    assert!(
        matches!(authn.begin(&secret, NOW + 2), Ok(Attempt::Known(_))),
        "until the poll"
    );
    feed.poll().await;
    assert_eq!(authn.remembered_count(), 0);
    assert!(matches!(
        authn.authenticate(&secret, NOW + 2).await,
        Err(AuthError::Standing(crate::authorize::Denial::Revoked))
    ));
}

#[tokio::test]
async fn last_use_is_written_in_batches() {
    let (_dir, authn, secret, user) = setup().await;
    let client: std::net::IpAddr = "192.0.2.9".parse().unwrap();
    let known = authn.authenticate(&secret, NOW + 5).await.unwrap();
    authn.record_use(&known, NOW + 5, client);
    let known = authn.authenticate(&secret, NOW + 6).await.unwrap();
    authn.record_use(&known, NOW + 6, "192.0.2.10".parse().unwrap());
    let listed = |authn: Arc<Authenticator>, user: UserName| async move {
        let token = authn
            .store()
            .list_tokens(Some(&user), false, NOW)
            .await
            .unwrap()
            .remove(0);
        token.last_used_at.map(|at| (at, token.last_used_ip))
    };
    assert_eq!(
        listed(Arc::clone(&authn), user.clone()).await,
        None,
        "no write per request"
    );
    authn.flush_last_used().await;
    // One write per token and minute: the first use in the minute, with its address.
    assert_eq!(
        listed(authn, user).await,
        Some((NOW + 5, Some("192.0.2.9".to_owned())))
    );
}

#[tokio::test(start_paused = true)]
async fn health_grace_expires_and_recovers() {
    let health = Health::new(Duration::from_millis(40));
    assert!(health.is_available(), "available at start");
    tokio::time::advance(Duration::from_millis(40)).await;
    assert!(
        health.is_available(),
        "still available at the end of the grace"
    );
    tokio::time::advance(Duration::from_millis(1)).await;
    assert!(
        !health.is_available(),
        "past the grace without a successful poll"
    );
    health.record_ok();
    assert!(health.is_available());
}

/// A closure run once at a chosen point of the authenticator (see `before_remember`).
#[derive(Default)]
pub(crate) struct Hook(std::sync::Mutex<Option<Box<dyn FnOnce() + Send>>>);

impl Hook {
    pub(crate) fn set(&self, hook: impl FnOnce() + Send + 'static) {
        *self.0.lock().unwrap() = Some(Box::new(hook));
    }

    pub(crate) fn run(&self) {
        let hook = self.0.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
    }
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hook")
    }
}

/// A lookup that read the token from the store just before it was revoked, and that
/// remembers its answer only after the feed has processed the revocation, must not leave the
/// token in memory: it would be admitted until the next change for its user. The hook runs
/// the revocation and the feed's poll at the worst moment, after the store answered and just
/// before the lookup remembers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_racing_an_eviction_is_not_remembered() {
    let (_dir, authn, secret, user) = setup().await;
    let mut feed = ChangeFeed::start(Arc::clone(&authn), None, Default::default())
        .await
        .unwrap();
    let store = Arc::clone(authn.store());
    authn.before_remember.set(move || {
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                store
                    .revoke_token(&user, &TokenName::parse("ci").unwrap(), NOW + 1, &by())
                    .await
                    .unwrap();
                feed.poll().await;
            });
        });
    });
    // The request in flight was valid when it started; it may finish.
    authn.authenticate(&secret, NOW).await.unwrap();
    assert_eq!(authn.remembered_count(), 0, "remembered after the eviction");
    assert!(matches!(
        authn.authenticate(&secret, NOW + 2).await,
        Err(AuthError::Standing(crate::authorize::Denial::Revoked))
    ));
}

#[tokio::test]
async fn anonymous_is_remembered_and_evicted_by_the_feed() {
    let (_dir, authn, _, _) = setup().await;
    let mut feed = ChangeFeed::start(Arc::clone(&authn), None, Default::default())
        .await
        .unwrap();
    assert!(authn.anonymous_remembered().unwrap().is_none());
    let standing = authn.look_up_anonymous().await.unwrap();
    assert!(standing.active && standing.grants.is_empty());
    assert!(authn.anonymous_remembered().unwrap().is_some());
    let anonymous = UserName::anonymous();
    let pattern = RepoPattern::parse("git/oss/**").unwrap();
    authn
        .store()
        .set_grant(&anonymous, &pattern, Access::Read, &by())
        .await
        .unwrap();
    feed.poll().await;
    assert!(authn.anonymous_remembered().unwrap().is_none(), "evicted");
    let standing = authn.look_up_anonymous().await.unwrap();
    assert_eq!(standing.grants, [GrantRule::new(pattern, Access::Read)]);
    // A change to another user leaves it remembered.
    authn
        .store()
        .set_user_active(&UserName::parse("alice").unwrap(), false, &by())
        .await
        .unwrap();
    feed.poll().await;
    assert!(authn.anonymous_remembered().unwrap().is_some());
}

/// Like [`a_lookup_racing_an_eviction_is_not_remembered`] for the standing of `anonymous`:
/// a grant given (and processed by the feed) between the store's answer and the remembering
/// must not be hidden by the stale answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_racing_an_eviction_of_anonymous_is_not_remembered() {
    let (_dir, authn, _, _) = setup().await;
    let mut feed = ChangeFeed::start(Arc::clone(&authn), None, Default::default())
        .await
        .unwrap();
    let store = Arc::clone(authn.store());
    let pattern = RepoPattern::parse("git/oss/**").unwrap();
    let granted = pattern.clone();
    authn.before_remember.set(move || {
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move {
                store
                    .set_grant(&UserName::anonymous(), &granted, Access::Read, &by())
                    .await
                    .unwrap();
                feed.poll().await;
            });
        });
    });
    let stale = authn.look_up_anonymous().await.unwrap();
    assert!(stale.grants.is_empty(), "the answer read before the grant");
    assert!(
        authn.anonymous_remembered().unwrap().is_none(),
        "remembered after the eviction"
    );
    let fresh = authn.look_up_anonymous().await.unwrap();
    assert_eq!(fresh.grants, [GrantRule::new(pattern, Access::Read)]);
}

/// A verified JWT is remembered (by its hash) until its `exp`; a JWT is an unknown
/// credential without `[[oidc]]` issuers.
#[tokio::test]
async fn verified_jwts_are_remembered_until_they_expire() {
    let (dir, authn, _, _) = setup().await;
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oidc");
    let read = |name: &str| std::fs::read_to_string(format!("{fixtures}/{name}")).unwrap();
    let claims = serde_json::json!({
        "iss": "https://issuer.example", "aud": "vcsgate", "jti": "j",
        "repository": "team/app", "iat": NOW, "nbf": NOW, "exp": NOW + 300,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("rsa-1".to_owned());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(read("rsa-1.pem").as_bytes()).unwrap();
    let jwt = Secret::new(jsonwebtoken::encode(&header, &claims, &key).unwrap());
    assert!(matches!(
        authn.remembered_jwt(&jwt, NOW),
        Err(AuthError::Unknown)
    ));

    let store = Arc::clone(authn.store());
    drop(authn);
    let mut authn = Authenticator::new(store, Duration::from_secs(30));
    let issuer = oidc::Issuer {
        issuer: "https://issuer.example".to_owned(),
        audience: "vcsgate".to_owned(),
        user: UserName::parse("alice").unwrap(),
        max_ttl_secs: 3600,
        allow: vec![oidc::AllowRule {
            claims: vec![("repository".to_owned(), oidc::ClaimGlob::new("team/*"))],
            repos: vec![oidc::RepoTemplate::parse("git/{repository}").unwrap()],
            access: Access::Read,
        }],
    };
    let keys = oidc::KeySet::parse(&read("jwks-1.json")).unwrap();
    authn.enable_oidc(vec![oidc::IssuerKeys::fixed(issuer, keys)]);
    assert!(authn.remembered_jwt(&jwt, NOW).unwrap().is_none());
    let verified = authn.verify_jwt(&jwt, NOW).await.unwrap();
    assert_eq!(verified.allowed[0].0.as_str(), "git/team/app");
    assert!(authn.remembered_jwt(&jwt, NOW + 100).unwrap().is_some());
    assert!(
        authn.remembered_jwt(&jwt, NOW + 360).unwrap().is_none(),
        "expired"
    );
    assert!(matches!(
        authn.verify_jwt(&jwt, NOW + 360).await,
        Err(AuthError::Oidc(oidc::OidcError::Expired))
    ));
    drop(dir);
}
