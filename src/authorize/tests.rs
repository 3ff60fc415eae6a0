#![allow(clippy::unwrap_used)]

use super::*;
use crate::repo::RepoPattern;
use crate::store::{GrantRule, TokenId, TokenInfo, UserAccess};
use crate::vocabulary::ScopeSet;

const NOW: i64 = 1_800_000_000;

fn principal(scopes: &[Scope], grants: &[(&str, Access)], limits: &[&str]) -> Principal {
    let user = UserName::parse("alice").unwrap();
    Principal {
        token: TokenInfo {
            id: TokenId(1),
            user: user.clone(),
            name: TokenName::parse("ci").unwrap(),
            public_prefix: "vcsg_abcdefgh".to_owned(),
            scopes: scopes.iter().copied().collect::<ScopeSet>(),
            repos: limits
                .iter()
                .map(|p| RepoPattern::parse(p).unwrap())
                .collect(),
            refs: Vec::new(),
            created_at: NOW - 10,
            expires_at: None,
            last_used_at: None,
            last_used_ip: None,
            revoked_at: None,
        },
        user: UserAccess {
            name: user,
            active: true,
            grants: grants
                .iter()
                .map(|(p, a)| GrantRule::new(RepoPattern::parse(p).unwrap(), *a))
                .collect(),
        },
    }
}

fn repo(p: &str) -> RepoPath {
    RepoPath::parse(p).unwrap()
}

#[test]
fn decision_table() {
    use Access::{Read, Write};
    use Scope::{Api, ReadRepository as R, WriteRepository as W};
    type Row<'a> = (
        &'a [Scope],
        &'a [(&'a str, Access)],
        &'a [&'a str],
        Access,
        &'a str,
        bool,
    );
    let rows: &[Row] = &[
        (
            &[R],
            &[("git/team/**", Write)],
            &[],
            Read,
            "git/team/app",
            true,
        ),
        (
            &[R],
            &[("git/team/**", Write)],
            &[],
            Write,
            "git/team/app",
            false,
        ),
        (
            &[W],
            &[("git/team/**", Write)],
            &[],
            Write,
            "git/team/app",
            true,
        ),
        (
            &[W],
            &[("git/team/**", Write)],
            &[],
            Read,
            "git/team/app",
            true,
        ),
        (
            &[W],
            &[("git/team/**", Read)],
            &[],
            Write,
            "git/team/app",
            false,
        ),
        (
            &[W],
            &[("git/team/**", Read)],
            &[],
            Read,
            "git/team/app",
            true,
        ),
        (
            &[W],
            &[("git/other", Write)],
            &[],
            Read,
            "git/team/app",
            false,
        ),
        (&[Api], &[("**", Write)], &[], Read, "git/team/app", false),
        (
            &[R, W],
            &[("**", Write)],
            &["git/team/app"],
            Write,
            "git/team/app",
            true,
        ),
        (
            &[R, W],
            &[("**", Write)],
            &["git/team/app"],
            Read,
            "git/team/other",
            false,
        ),
        // A repo-limited write token writing outside its limit, where the user may write.
        (
            &[R, W],
            &[("git/team/**", Write)],
            &["git/team/app"],
            Write,
            "git/team/other",
            false,
        ),
        (&[R], &[], &[], Read, "git/team/app", false),
        (
            &[R],
            &[("git/team/*", Read), ("git/team/app", Write)],
            &[],
            Read,
            "git/team/app",
            true,
        ),
    ];
    for (i, (scopes, grants, limits, access, path, allowed)) in rows.iter().enumerate() {
        let result = authorize(
            &principal(scopes, grants, limits),
            *access,
            &repo(path),
            NOW,
        );
        assert_eq!(result.is_ok(), *allowed, "row {i}: {result:?}");
        if let Err(denial) = result {
            assert!(!denial.is_unauthenticated(), "row {i}");
        }
    }
}

#[test]
fn standing_problems_are_unauthenticated() {
    let base = principal(&[Scope::ReadRepository], &[("**", Access::Write)], &[]);
    let mut revoked = base.clone();
    revoked.token.revoked_at = Some(NOW - 1);
    let mut expired = base.clone();
    expired.token.expires_at = Some(NOW);
    let mut not_yet = base.clone();
    not_yet.token.expires_at = Some(NOW + 1);
    let mut disabled = base.clone();
    disabled.user.active = false;
    let repo = repo("git/x");
    for (p, expected) in [
        (&revoked, Some(Denial::Revoked)),
        (&expired, Some(Denial::Expired)),
        (&not_yet, None),
        (&disabled, Some(Denial::UserDisabled)),
    ] {
        let result = authorize(p, Access::Read, &repo, NOW).err();
        assert_eq!(result, expected);
        assert!(result.is_none_or(|d| d.is_unauthenticated()));
    }
}

#[test]
fn messages_name_what_is_missing() {
    let p = principal(&[Scope::ReadRepository], &[("**", Access::Write)], &[]);
    let denial = authorize(&p, Access::Write, &repo("git/team/app"), NOW).unwrap_err();
    assert_eq!(
        denial.to_string(),
        "token \"ci\" of alice lacks write_repository for git/team/app"
    );
    let p = principal(&[Scope::WriteRepository], &[("git/x", Access::Read)], &[]);
    let denial = authorize(&p, Access::Write, &repo("git/x"), NOW).unwrap_err();
    assert_eq!(denial.to_string(), "alice has no write grant for git/x");
}

#[test]
fn anonymous_only_reads_what_its_grants_cover() {
    let p = principal(&[], &[("git/oss/**", Access::Write)], &[]);
    let anonymous = p.user;
    let public = repo("git/oss/lib");
    assert_eq!(
        authorize_anonymous(&anonymous, Access::Read, &public),
        Ok(())
    );
    // a write grant (which the store refuses to hold) still never lets anonymous write
    let denial = authorize_anonymous(&anonymous, Access::Write, &public).unwrap_err();
    assert!(
        denial.is_unauthenticated(),
        "a write without credentials gets the challenge"
    );
    assert_eq!(
        denial.to_string(),
        "authentication required to write git/oss/lib: use an access token as the password"
    );
    let private = repo("git/team/app");
    let denial = authorize_anonymous(&anonymous, Access::Read, &private).unwrap_err();
    assert!(denial.is_unauthenticated());
    let mut disabled = anonymous.clone();
    disabled.active = false;
    assert!(authorize_anonymous(&disabled, Access::Read, &public).is_err());
}

#[test]
fn narrow_scopes_by_url_and_by_header() {
    let web_area = Area {
        web: true,
        feed: false,
    };
    let feed_area = Area {
        web: false,
        feed: true,
    };
    let grants = &[("hg/team/app", Access::Read)][..];
    let app = repo("hg/team/app");
    let by_url = |area| Presented { area, by_url: true };
    let by_header = |area| Presented {
        area,
        by_url: false,
    };
    let web = principal(&[Scope::ReadWeb], grants, &[]);
    let feed = principal(&[Scope::ReadFeed], grants, &[]);
    let read = principal(&[Scope::ReadRepository], grants, &[]);
    let ok = |p: &Principal, presented| authorize_presented(p, Access::Read, &app, presented, NOW);
    assert_eq!(ok(&web, by_url(web_area)), Ok(()));
    assert_eq!(ok(&feed, by_url(feed_area)), Ok(()));
    assert_eq!(ok(&feed, by_header(feed_area)), Ok(()));
    assert_eq!(ok(&read, by_header(feed_area)), Ok(()));
    let denial = ok(&read, by_url(web_area)).unwrap_err();
    assert_eq!(
        denial.to_string(),
        "token \"ci\" of alice lacks read_web for hg/team/app"
    );
    assert!(ok(&web, by_header(web_area)).is_err());
    assert!(ok(&web, by_header(Area::default())).is_err());
    assert!(ok(&feed, by_header(Area::default())).is_err());
    // grants and token limits still apply
    let elsewhere = principal(&[Scope::ReadWeb], &[("hg/other", Access::Read)], &[]);
    assert!(matches!(
        ok(&elsewhere, by_url(web_area)),
        Err(Denial::NoGrant { .. })
    ));
    let limited = principal(&[Scope::ReadFeed], grants, &["hg/other"]);
    assert!(matches!(
        ok(&limited, by_url(feed_area)),
        Err(Denial::OutsideTokenRepos { .. })
    ));
}

#[test]
fn oidc_needs_a_rule_and_a_grant() {
    let ci = principal(&[], &[("git/team/**", Access::Write)], &[]).user;
    let rules = [
        (RepoPattern::parse("git/team/app").unwrap(), Access::Write),
        (RepoPattern::parse("git/team/lib").unwrap(), Access::Read),
        (RepoPattern::parse("git/other").unwrap(), Access::Write),
    ];
    let app = repo("git/team/app");
    assert_eq!(authorize_oidc(&ci, &rules, Access::Write, &app), Ok(()));
    let lib = repo("git/team/lib");
    assert_eq!(authorize_oidc(&ci, &rules, Access::Read, &lib), Ok(()));
    let denial = authorize_oidc(&ci, &rules, Access::Write, &lib).unwrap_err();
    assert_eq!(
        denial.to_string(),
        "the OIDC identity acting as alice has no write rule for git/team/lib"
    );
    assert!(!denial.is_unauthenticated());
    // a rule without a grant
    let other = repo("git/other");
    assert!(matches!(
        authorize_oidc(&ci, &rules, Access::Read, &other),
        Err(Denial::NoGrant { .. })
    ));
    // a grant without a rule
    assert!(matches!(
        authorize_oidc(&ci, &rules, Access::Read, &repo("git/team/x")),
        Err(Denial::OutsideOidcRules { .. })
    ));
    let mut disabled = ci.clone();
    disabled.active = false;
    assert_eq!(
        authorize_oidc(&disabled, &rules, Access::Read, &app),
        Err(Denial::UserDisabled)
    );
}
