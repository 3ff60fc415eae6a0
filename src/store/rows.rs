//! Rows as the database returns them, and their checked conversion into store records. A
//! value that no longer parses (edited by hand, written by a newer version) is `Corrupt`,
//! never guessed at.

use std::str::FromStr;

use super::{AuditEvent, Change, Error, Grant, Principal, TokenId, TokenInfo, User, UserAccess};
use crate::names::{Email, TokenName, UserName};
use crate::repo::RepoPattern;
use crate::vocabulary::{Access, ScopeSet};

/// Separates the repo patterns of a token in the `repos` column (patterns never hold one).
const REPOS_SEPARATOR: char = '\n';

/// The `repos` column for a token's patterns.
pub fn repos_column(repos: &[RepoPattern]) -> String {
    let patterns: Vec<&str> = repos.iter().map(RepoPattern::as_str).collect();
    patterns.join(&REPOS_SEPARATOR.to_string())
}

fn parse_repos(column: &str) -> Result<Vec<RepoPattern>, Error> {
    if column.is_empty() {
        return Ok(Vec::new());
    }
    column.split(REPOS_SEPARATOR).map(pattern).collect()
}

fn checked<T, E>(what: &'static str, value: &str, parsed: Result<T, E>) -> Result<T, Error> {
    parsed.map_err(|_| Error::Corrupt {
        what,
        value: value.to_owned(),
    })
}

pub(super) fn parse<T: FromStr>(what: &'static str, value: &str) -> Result<T, Error> {
    checked(what, value, value.parse())
}

fn pattern(value: &str) -> Result<RepoPattern, Error> {
    checked("repo pattern", value, RepoPattern::parse(value))
}

/// A row that converts into one store record.
pub trait IntoRecord {
    type Record;
    fn into_record(self) -> Result<Self::Record, Error>;
}

/// Converts every row, failing on the first corrupt one.
pub fn records<R: IntoRecord>(rows: Vec<R>) -> Result<Vec<R::Record>, Error> {
    rows.into_iter().map(IntoRecord::into_record).collect()
}

/// A user with one of its managers (NULL for none), as [`super::sql::LIST_USERS`] returns.
#[derive(sqlx::FromRow)]
pub struct UserRow {
    name: String,
    active: bool,
    created_at: i64,
    role: String,
    bot: bool,
    email: Option<String>,
    manager_name: Option<String>,
}

impl UserRow {
    fn user(&self) -> Result<User, Error> {
        Ok(User {
            name: parse("user name", &self.name)?,
            active: self.active,
            created_at: self.created_at,
            role: parse("role", &self.role)?,
            bot: self.bot,
            email: self
                .email
                .as_deref()
                .map(|e| parse::<Email>("email", e))
                .transpose()?,
            managers: Vec::new(),
        })
    }
}

/// Folds user rows (sorted by user name) into users with their managers.
pub fn into_users(rows: Vec<UserRow>) -> Result<Vec<User>, Error> {
    let mut users: Vec<User> = Vec::new();
    for row in rows {
        let same = users.last().is_some_and(|u| u.name.as_str() == row.name);
        if !same {
            users.push(row.user()?);
        }
        if let (Some(manager), Some(user)) = (&row.manager_name, users.last_mut()) {
            user.managers.push(parse("user name", manager)?);
        }
    }
    Ok(users)
}

#[derive(sqlx::FromRow)]
pub struct GrantRow {
    user_name: String,
    pattern: String,
    access: String,
}

impl IntoRecord for GrantRow {
    type Record = Grant;
    fn into_record(self) -> Result<Grant, Error> {
        Ok(Grant {
            user: parse("user name", &self.user_name)?,
            pattern: pattern(&self.pattern)?,
            access: parse("access", &self.access)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct TokenRow {
    id: i64,
    user_name: String,
    name: String,
    public_prefix: String,
    scopes: String,
    repos: String,
    created_at: i64,
    expires_at: Option<i64>,
    last_used_at: Option<i64>,
    last_used_ip: Option<String>,
    revoked_at: Option<i64>,
}

impl IntoRecord for TokenRow {
    type Record = TokenInfo;
    fn into_record(self) -> Result<TokenInfo, Error> {
        Ok(TokenInfo {
            id: TokenId(self.id),
            user: parse::<UserName>("user name", &self.user_name)?,
            name: parse::<TokenName>("token name", &self.name)?,
            public_prefix: self.public_prefix,
            scopes: checked(
                "scope list",
                &self.scopes,
                ScopeSet::parse_list(&self.scopes),
            )?,
            repos: parse_repos(&self.repos)?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            last_used_at: self.last_used_at,
            last_used_ip: self.last_used_ip,
            revoked_at: self.revoked_at,
        })
    }
}

/// A user's standing, one row per grant (NULL pattern and access for a user without any).
#[derive(sqlx::FromRow)]
pub struct StandingRow {
    user_name: String,
    active: bool,
    pattern: Option<String>,
    access: Option<String>,
}

/// Folds standing rows into one `UserAccess`; `None` for no rows.
pub fn into_access(rows: Vec<StandingRow>) -> Result<Option<UserAccess>, Error> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let name: UserName = parse("user name", &first.user_name)?;
    let active = first.active;
    let mut grants = Vec::with_capacity(rows.len());
    for row in rows {
        match (row.pattern, row.access) {
            (Some(repo), Some(access)) => {
                grants.push((pattern(&repo)?, parse::<Access>("access", &access)?));
            }
            (None, None) => {}
            (pattern, access) => {
                return Err(Error::Corrupt {
                    what: "grant",
                    value: format!("{pattern:?} {access:?}"),
                });
            }
        }
    }
    Ok(Some(UserAccess {
        name,
        active,
        grants,
    }))
}

/// A token with its user's standing, one row per grant of the user.
#[derive(sqlx::FromRow)]
pub struct PrincipalRow {
    #[sqlx(flatten)]
    token: TokenRow,
    #[sqlx(flatten)]
    standing: StandingRow,
}

/// Folds principal rows (all for one token) into a `Principal`; `None` for no rows.
pub fn into_principal(rows: Vec<PrincipalRow>) -> Result<Option<Principal>, Error> {
    let mut token = None;
    let mut standing = Vec::with_capacity(rows.len());
    for row in rows {
        token.get_or_insert(row.token);
        standing.push(row.standing);
    }
    match (token, into_access(standing)?) {
        (Some(token), Some(user)) => Ok(Some(Principal {
            token: token.into_record()?,
            user,
        })),
        _ => Ok(None),
    }
}

#[derive(sqlx::FromRow)]
pub struct ChangeRow {
    seq: i64,
    user_name: String,
}

impl IntoRecord for ChangeRow {
    type Record = Change;
    fn into_record(self) -> Result<Change, Error> {
        Ok(Change {
            seq: self.seq,
            user: parse("user name", &self.user_name)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub struct AuditRow {
    id: i64,
    at: i64,
    actor: String,
    actor_user: Option<String>,
    client: Option<String>,
    action: String,
    target: String,
    detail: String,
}

impl IntoRecord for AuditRow {
    type Record = AuditEvent;
    fn into_record(self) -> Result<AuditEvent, Error> {
        Ok(AuditEvent {
            id: self.id,
            at: self.at,
            actor_user: self
                .actor_user
                .as_deref()
                .map(|u| parse("user name", u))
                .transpose()?,
            actor: self.actor,
            client: self.client,
            action: parse("audit action", &self.action)?,
            target: parse("user name", &self.target)?,
            detail: self.detail,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn standing(pattern: Option<&str>, access: Option<&str>) -> StandingRow {
        StandingRow {
            user_name: "alice".to_owned(),
            active: true,
            pattern: pattern.map(str::to_owned),
            access: access.map(str::to_owned),
        }
    }

    #[test]
    fn repo_limits_round_trip_through_their_column() {
        let repos = vec![
            RepoPattern::parse("git/team/**").unwrap(),
            RepoPattern::parse("hg/app-*").unwrap(),
        ];
        assert_eq!(parse_repos(&repos_column(&repos)).unwrap(), repos);
        assert_eq!(repos_column(&[]), "");
        assert!(parse_repos("").unwrap().is_empty());
    }

    #[test]
    fn values_that_no_longer_parse_are_corrupt() {
        let corrupt = |result: Result<Option<UserAccess>, Error>| {
            matches!(result, Err(Error::Corrupt { .. }))
        };
        assert!(corrupt(into_access(vec![standing(
            Some("/abs"),
            Some("read")
        )])));
        assert!(corrupt(into_access(vec![standing(
            Some("git/x"),
            Some("admin")
        )])));
        assert!(corrupt(into_access(vec![standing(Some("git/x"), None)])));
        assert!(matches!(parse_repos("git/x\n"), Err(Error::Corrupt { .. })));
        let user = |name: &str, role: &str, email: Option<&str>| UserRow {
            name: name.to_owned(),
            active: true,
            created_at: 0,
            role: role.to_owned(),
            bot: false,
            email: email.map(str::to_owned),
            manager_name: None,
        };
        for row in [
            user("bad name", "user", None),
            user("alice", "root", None),
            user("alice", "user", Some("no-at")),
        ] {
            assert!(matches!(into_users(vec![row]), Err(Error::Corrupt { .. })));
        }
    }

    #[test]
    fn user_rows_fold_managers_into_their_bot() {
        let row = |name: &str, manager: Option<&str>| UserRow {
            name: name.to_owned(),
            active: true,
            created_at: 0,
            role: "user".to_owned(),
            bot: manager.is_some(),
            email: None,
            manager_name: manager.map(str::to_owned),
        };
        let users = into_users(vec![
            row("alice", None),
            row("ci", Some("alice")),
            row("ci", Some("bob")),
            row("deploy", Some("bob")),
        ])
        .unwrap();
        let view: Vec<(&str, Vec<&str>)> = users
            .iter()
            .map(|u| {
                (
                    u.name.as_str(),
                    u.managers.iter().map(|m| m.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            view,
            [
                ("alice", vec![]),
                ("ci", vec!["alice", "bob"]),
                ("deploy", vec!["bob"])
            ]
        );
    }

    #[test]
    fn standing_rows_fold_into_one_user() {
        assert_eq!(into_access(Vec::new()).unwrap(), None);
        let lone = into_access(vec![standing(None, None)]).unwrap().unwrap();
        assert!(lone.grants.is_empty());
        let rows = vec![
            standing(Some("git/a"), Some("read")),
            standing(Some("git/b"), Some("write")),
        ];
        let access = into_access(rows).unwrap().unwrap();
        assert_eq!(access.name.as_str(), "alice");
        assert_eq!(access.grants.len(), 2);
        assert_eq!(access.grants[1].1, Access::Write);
    }
}
