//! The expiry-notice part of the store contract: expiring tokens, notices created once,
//! claims that exclude every other caller (also another pool: another server) until their
//! lease runs out, and outcomes fenced by the attempt number.

use std::collections::BTreeSet;

use vcsgate::store::{Channel, NewNotice, NoticeOutcome, Threshold};

use super::*;

async fn token_expiring(
    store: &Arc<dyn Store>,
    owner: &str,
    name: &str,
    at: Option<i64>,
) -> TokenId {
    let mut token = new_token(owner, name);
    token.expires_at = at;
    store.create_token(&token, &by()).await.unwrap()
}

const BOTH: &[Channel] = &[Channel::Webhook, Channel::Mail];

fn webhook(token: TokenId, threshold: Threshold) -> NewNotice {
    NewNotice {
        token,
        threshold,
        channel: Channel::Webhook,
    }
}

pub(super) async fn expiring_tokens_are_listed_and_notices_created_once(backend: Backend) {
    let store = store_with_users(&backend, &["alice", "bob"]).await;
    store
        .update_user(
            &user("alice"),
            &[UserChange::Email(Some(email("alice@example.com")))],
            &by(),
        )
        .await
        .unwrap();
    let week = token_expiring(&store, "alice", "week", Some(NOW + 3 * DAY)).await;
    let day = token_expiring(&store, "bob", "day", Some(NOW + DAY / 2)).await;
    token_expiring(&store, "alice", "never", None).await;
    token_expiring(&store, "alice", "later", Some(NOW + 10 * DAY)).await;
    token_expiring(&store, "bob", "revoked", Some(NOW + 2 * DAY)).await;
    store
        .revoke_token(&user("bob"), &token_name("revoked"), NOW, &by())
        .await
        .unwrap();
    store
        .set_user_active(&user("bob"), false, &by())
        .await
        .unwrap();

    let listed = store.expiring_tokens(NOW, NOW + 7 * DAY).await.unwrap();
    let view: Vec<_> = listed
        .iter()
        .map(|t| {
            (
                t.id,
                t.user.as_str(),
                t.name.as_str(),
                t.expires_at,
                t.email.as_ref().map(|e| e.as_str().to_owned()),
                t.user_active,
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            (day, "bob", "day", NOW + DAY / 2, None, false),
            (
                week,
                "alice",
                "week",
                NOW + 3 * DAY,
                Some("alice@example.com".to_owned()),
                true
            ),
        ]
    );
    // Expired by then: gone.
    assert_eq!(
        store
            .expiring_tokens(NOW + DAY, NOW + 7 * DAY)
            .await
            .unwrap()
            .len(),
        1
    );

    let notices = [
        webhook(week, Threshold::Week),
        NewNotice {
            token: week,
            threshold: Threshold::Week,
            channel: Channel::Mail,
        },
        webhook(day, Threshold::Day),
    ];
    assert_eq!(store.add_notices(&notices, NOW).await.unwrap(), 3);
    assert_eq!(store.add_notices(&notices, NOW + 5).await.unwrap(), 0);
    assert_eq!(
        store
            .add_notices(&[webhook(week, Threshold::Day)], NOW)
            .await
            .unwrap(),
        1
    );
}

pub(super) async fn a_notice_is_claimed_once_until_its_lease_runs_out(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    store
        .update_user(
            &user("alice"),
            &[UserChange::Email(Some(email("alice@example.com")))],
            &by(),
        )
        .await
        .unwrap();
    let id = token_expiring(&store, "alice", "ci", Some(NOW + 3 * DAY)).await;
    assert!(
        store
            .claim_notice(NOW, NOW + 300, BOTH)
            .await
            .unwrap()
            .is_none()
    );
    store
        .add_notices(&[webhook(id, Threshold::Week)], NOW)
        .await
        .unwrap();

    // Only for the channels asked for (a server without a mailer leaves mail to others).
    let mail_only = store
        .claim_notice(NOW, NOW + 300, &[Channel::Mail])
        .await
        .unwrap();
    assert!(mail_only.is_none());
    assert!(
        store
            .claim_notice(NOW, NOW + 300, &[])
            .await
            .unwrap()
            .is_none()
    );
    let first = store
        .claim_notice(NOW, NOW + 300, &[Channel::Webhook])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            first.attempt,
            first.threshold,
            first.channel,
            first.token,
            first.user.as_str(),
            first.token_name.as_str(),
            first.expires_at,
            first.revoked_at,
            first.email.as_ref().map(Email::as_str),
        ),
        (
            1,
            Threshold::Week,
            Channel::Webhook,
            id,
            "alice",
            "ci",
            Some(NOW + 3 * DAY),
            None,
            Some("alice@example.com"),
        )
    );
    // Leased: nobody else gets it, also not through another pool (another server).
    let other = backend.open().await;
    assert!(
        store
            .claim_notice(NOW + 299, NOW + 600, BOTH)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        other
            .claim_notice(NOW + 299, NOW + 600, BOTH)
            .await
            .unwrap()
            .is_none()
    );

    // The lease ran out (the first claimant died): another takes over; the first one's late
    // answer is refused.
    let second = other
        .claim_notice(NOW + 300, NOW + 600, BOTH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((second.id, second.attempt), (first.id, 2));
    assert!(
        !store
            .finish_notice(&first, &NoticeOutcome::Delivered, NOW + 301)
            .await
            .unwrap()
    );

    // A failure is retried from retry_at on, not before.
    let failed = NoticeOutcome::Failed {
        retry_at: NOW + 400,
        reason: "the webhook answered 500".to_owned(),
    };
    assert!(
        other
            .finish_notice(&second, &failed, NOW + 310)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_notice(NOW + 399, NOW + 700, BOTH)
            .await
            .unwrap()
            .is_none()
    );
    let third = store
        .claim_notice(NOW + 400, NOW + 700, BOTH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.attempt, 3);
    assert!(
        store
            .finish_notice(&third, &NoticeOutcome::Delivered, NOW + 401)
            .await
            .unwrap()
    );
    // Delivered: never again, whatever the time.
    assert!(
        store
            .claim_notice(NOW + 100 * DAY, NOW + 101 * DAY, BOTH)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !store
            .finish_notice(&third, &NoticeOutcome::Delivered, NOW + 402)
            .await
            .unwrap()
    );

    // A revoked token's pending notice still comes out once, showing the revocation (the
    // notifier then skips it).
    let revoked = token_expiring(&store, "alice", "old", Some(NOW + 2 * DAY)).await;
    store
        .add_notices(&[webhook(revoked, Threshold::Week)], NOW)
        .await
        .unwrap();
    store
        .revoke_token(&user("alice"), &token_name("old"), NOW + 1, &by())
        .await
        .unwrap();
    let claim = store
        .claim_notice(NOW + 2, NOW + 300, BOTH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim.revoked_at, Some(NOW + 1));
    let skipped = NoticeOutcome::Skipped {
        reason: "the token was revoked".to_owned(),
    };
    assert!(
        store
            .finish_notice(&claim, &skipped, NOW + 2)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_notice(NOW + 1000, NOW + 2000, BOTH)
            .await
            .unwrap()
            .is_none()
    );
}

pub(super) async fn concurrent_claims_from_two_pools_never_share_a_notice(backend: Backend) {
    let store = store_with_users(&backend, &["alice"]).await;
    let mut notices = Vec::new();
    for n in 0..6 {
        let id = token_expiring(&store, "alice", &format!("t{n}"), Some(NOW + 3 * DAY)).await;
        notices.push(webhook(id, Threshold::Week));
    }
    store.add_notices(&notices, NOW).await.unwrap();
    let stores = [store, backend.open().await];
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let store = Arc::clone(&stores[worker % 2]);
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(claim) = store.claim_notice(NOW, NOW + 300, BOTH).await.unwrap() {
                got.push(claim.id);
            }
            got
        }));
    }
    let mut claimed = Vec::new();
    for task in tasks {
        claimed.extend(task.await.unwrap());
    }
    let unique: BTreeSet<i64> = claimed.iter().copied().collect();
    assert_eq!(
        unique.len(),
        claimed.len(),
        "a notice was claimed twice: {claimed:?}"
    );
    // A claimant that lost a race stops early; whatever is left is claimed on the next round.
    let mut rest = 0;
    while stores[0]
        .claim_notice(NOW, NOW + 300, BOTH)
        .await
        .unwrap()
        .is_some()
    {
        rest += 1;
    }
    assert_eq!(claimed.len() + rest, 6);
}
