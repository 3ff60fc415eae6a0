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
