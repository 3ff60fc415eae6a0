//! The JSON forms of users, grants, tokens and audit events (API.md), shared by the API and
//! the CLI's `--json` listings.

use serde_json::{Value, json};

use crate::manage::expiry::format;
use crate::names::UserName;
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

/// A grant's id: its user and pattern (the grant's key), hex-encoded so it is one path
/// segment.
pub fn grant_id(user: &UserName, pattern: &RepoPattern) -> String {
    format!("{user}\n{pattern}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The user and pattern a grant id names, or `None` for a string that is no grant id.
pub fn parse_grant_id(id: &str) -> Option<(UserName, RepoPattern)> {
    if !id.len().is_multiple_of(2) || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = (0..id.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&id[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, pattern) = text.split_once('\n')?;
    Some((
        UserName::parse(user).ok()?,
        RepoPattern::parse(pattern).ok()?,
    ))
}

pub fn grant(grant: &Grant) -> Value {
    json!({
        "id": grant_id(&grant.user, &grant.pattern),
        "user": grant.user.as_str(),
        "pattern": grant.pattern.as_str(),
        "access": grant.access.as_str(),
        "refs": Vec::<String>::new(),
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
        "refs": Vec::<String>::new(),
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
