//! The JSON forms of users, grants, tokens and audit events (API.md), shared by the API and
//! the CLI's `--json` listings.

use serde_json::{Value, json};

use crate::manage::expiry::format;
use crate::names::UserName;
use crate::refs::{Protection, RefPattern};
use crate::repo::RepoPattern;
use crate::store::{AuditEvent, Grant, TokenInfo, User};

pub fn user(user: &User) -> Value {
    json!({
        "name": user.name.as_str(),
        "role": user.role.as_str(),
        "bot": user.bot,
        "disabled": !user.active,
        "email": user.email.as_ref().map(|e| e.as_str()),
        "managers": user.managers.iter().map(UserName::as_str).collect::<Vec<_>>(),
        "created_at": format(user.created_at),
    })
}

/// An id made of an object's two-part key, hex-encoded so it is one path segment.
fn pair_id(first: &str, second: &str) -> String {
    format!("{first}\n{second}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The two parts of a [`pair_id`], or `None` for a string that is none.
fn parse_pair_id(id: &str) -> Option<(String, String)> {
    if !id.len().is_multiple_of(2) || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let text = String::from_utf8(bytes).ok()?;
    let (first, second) = text.split_once('\n')?;
    Some((first.to_owned(), second.to_owned()))
}

/// A grant's id: its user and pattern (the grant's key).
pub fn grant_id(user: &UserName, pattern: &RepoPattern) -> String {
    pair_id(user.as_str(), pattern.as_str())
}

/// The user and pattern a grant id names, or `None` for a string that is no grant id.
pub fn parse_grant_id(id: &str) -> Option<(UserName, RepoPattern)> {
    let (user, pattern) = parse_pair_id(id)?;
    Some((
        UserName::parse(&user).ok()?,
        RepoPattern::parse(&pattern).ok()?,
    ))
}

/// A protection's id: its repository and ref patterns.
pub fn protection_id(protection: &Protection) -> String {
    pair_id(protection.repo.as_str(), protection.refs.as_str())
}

/// The patterns a protection id names.
pub fn parse_protection_id(id: &str) -> Option<(RepoPattern, RefPattern)> {
    let (repo, refs) = parse_pair_id(id)?;
    Some((
        RepoPattern::parse(&repo).ok()?,
        RefPattern::parse(&refs).ok()?,
    ))
}

/// The fields of `protect list --json`, with the id.
pub fn protection(protection: &Protection) -> Value {
    json!({
        "id": protection_id(protection),
        "repo_pattern": protection.repo.as_str(),
        "ref_pattern": protection.refs.as_str(),
        "allow_delete": protection.allow_delete,
        "allow_force": protection.allow_force,
    })
}

pub fn grant(grant: &Grant) -> Value {
    json!({
        "id": grant_id(&grant.user, &grant.pattern),
        "user": grant.user.as_str(),
        "pattern": grant.pattern.as_str(),
        "access": grant.access.as_str(),
        "refs": grant.refs.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

/// `active`, `revoked` or `expired` at `now`.
pub fn token_status(token: &TokenInfo, now: i64) -> &'static str {
    if token.revoked_at.is_some() {
        "revoked"
    } else if token.expires_at.is_some_and(|at| now >= at) {
        "expired"
    } else {
        "active"
    }
}

pub fn token(token: &TokenInfo, now: i64) -> Value {
    json!({
        "id": token.id.0.to_string(),
        "user": token.user.as_str(),
        "name": token.name.as_str(),
        "scopes": token.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "repos": token.repos.iter().map(RepoPattern::as_str).collect::<Vec<_>>(),
        "refs": token.refs.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "created_at": format(token.created_at),
        "expires_at": token.expires_at.map(format),
        "last_used_at": token.last_used_at.map(format),
        "last_used_ip": token.last_used_ip,
        "revoked_at": token.revoked_at.map(format),
        "status": token_status(token, now),
        "prefix": token.public_prefix,
    })
}

pub fn audit(event: &AuditEvent) -> Value {
    json!({
        "id": event.id.to_string(),
        "at": format(event.at),
        "actor": event.actor,
        "client": event.client,
        "action": event.action.as_str(),
        "target": event.target.as_str(),
        "detail": event.detail,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn grant_ids_round_trip_and_refuse_anything_else() {
        let user = UserName::parse("alice").unwrap();
        let pattern = RepoPattern::parse("git/team/**").unwrap();
        let id = grant_id(&user, &pattern);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_eq!(parse_grant_id(&id), Some((user, pattern)));
        for bad in ["", "zz", "616", "616c696365", "0a6769742f2a2a"] {
            assert_eq!(parse_grant_id(bad), None, "{bad}");
        }
    }
}
