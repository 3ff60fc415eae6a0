//! The decision for an authenticated token, as pure functions: token standing (401 when
//! revoked, expired or its user disabled) and access (403 when a scope, a grant or the
//! token's own repo limits do not cover the request). `now` is a parameter; no IO here.

use std::fmt;

use crate::access::{self, Area};
use crate::names::{TokenName, UserName};
use crate::repo::RepoPath;
use crate::store::{Principal, UserAccess};
use crate::vocabulary::{Access, Scope};

/// Why a token may not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    Revoked,
    Expired,
    UserDisabled,
    MissingScope {
        who: Who,
        scope: Scope,
        repo: RepoPath,
    },
    NoGrant {
        who: Who,
        access: Access,
        repo: RepoPath,
    },
    OutsideTokenRepos {
        who: Who,
        repo: RepoPath,
    },
    /// A CI job's JWT whose claims allow no such access to the repository (`[[oidc.allow]]`).
    OutsideOidcRules {
        user: UserName,
        access: Access,
        repo: RepoPath,
    },
    /// A request without credentials that the reserved user `anonymous` may not make: a
    /// write, or a read no grant of `anonymous` covers (401, so clients prompt).
    Anonymous {
        access: Access,
        repo: RepoPath,
    },
}

/// A token named in messages: `token "ci" of alice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub user: UserName,
    pub token: TokenName,
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token \"{}\" of {}", self.token, self.user)
    }
}

impl Denial {
    /// Whether the credentials themselves are invalid (401) rather than insufficient (403).
    pub fn is_unauthenticated(&self) -> bool {
        match self {
            Denial::Revoked | Denial::Expired | Denial::UserDisabled | Denial::Anonymous { .. } => {
                true
            }
            Denial::MissingScope { .. }
            | Denial::NoGrant { .. }
            | Denial::OutsideTokenRepos { .. }
            | Denial::OutsideOidcRules { .. } => false,
        }
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Invalid credentials get one message, so they reveal nothing about the token.
            Denial::Revoked | Denial::Expired | Denial::UserDisabled => {
                f.write_str("invalid credentials: the token is unknown, expired or revoked")
            }
            Denial::MissingScope { who, scope, repo } => {
                write!(f, "{who} lacks {scope} for {repo}")
            }
            Denial::NoGrant { who, access, repo } => {
                write!(f, "{} has no {access} grant for {repo}", who.user)
            }
            Denial::OutsideTokenRepos { who, repo } => {
                write!(f, "{who} is not valid for {repo}")
            }
            Denial::OutsideOidcRules { user, access, repo } => write!(
                f,
                "the OIDC identity acting as {user} has no {access} rule for {repo}"
            ),
            Denial::Anonymous { access, repo } => write!(
                f,
                "authentication required to {access} {repo}: use an access token as the password"
            ),
        }
    }
}

impl std::error::Error for Denial {}

/// Whether the token itself is usable at `now` (not revoked, not expired, user active).
pub fn check_standing(principal: &Principal, now: i64) -> Result<(), Denial> {
    if principal.token.revoked_at.is_some() {
        return Err(Denial::Revoked);
    }
    if principal.token.expires_at.is_some_and(|at| now >= at) {
        return Err(Denial::Expired);
    }
    if !principal.user.active {
        return Err(Denial::UserDisabled);
    }
    Ok(())
}

/// What a request asks for, beyond its access and repository: which narrow-scope paths
/// it reads ([`access::area`]) and whether the token came as `?auth_token=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Presented {
    pub area: Area,
    pub by_url: bool,
}

/// The whole decision for a token in an `Authorization` header on an ordinary path.
pub fn authorize(
    principal: &Principal,
    access: Access,
    repo: &RepoPath,
    now: i64,
) -> Result<(), Denial> {
    authorize_presented(principal, access, repo, Presented::default(), now)
}

/// The whole decision: standing, scope (ACCESS.md's narrow scopes included), grant, token
/// repo limits.
pub fn authorize_presented(
    principal: &Principal,
    access: Access,
    repo: &RepoPath,
    presented: Presented,
    now: i64,
) -> Result<(), Denial> {
    check_standing(principal, now)?;
    let who = || Who {
        user: principal.token.user.clone(),
        token: principal.token.name.clone(),
    };
    let scopes = principal.token.scopes;
    if let Err(scope) = access::check_scopes(scopes, access, presented.area, presented.by_url) {
        return Err(Denial::MissingScope {
            who: who(),
            scope,
            repo: repo.clone(),
        });
    }
    let granted = principal
        .user
        .grants
        .iter()
        .any(|grant| grant.access.covers(access) && grant.pattern.matches(repo));
    if !granted {
        return Err(Denial::NoGrant {
            who: who(),
            access,
            repo: repo.clone(),
        });
    }
    let limits = &principal.token.repos;
    if !limits.is_empty() && !limits.iter().any(|pattern| pattern.matches(repo)) {
        return Err(Denial::OutsideTokenRepos {
            who: who(),
            repo: repo.clone(),
        });
    }
    Ok(())
}

/// The decision for a request without credentials, made as the reserved user `anonymous`
/// (`user`, its standing): only reads, only where one of its grants covers the repository
/// (whatever access a grant names: `anonymous` never writes), only while it is enabled.
pub fn authorize_anonymous(
    user: &UserAccess,
    access: Access,
    repo: &RepoPath,
) -> Result<(), Denial> {
    let covered = user.grants.iter().any(|g| g.pattern.matches(repo));
    if user.active && access == Access::Read && covered {
        Ok(())
    } else {
        Err(Denial::Anonymous {
            access,
            repo: repo.clone(),
        })
    }
}

/// The decision for a CI job's JWT acting as `user` (its standing): the user is active, one
/// of the repositories its claims allow (`allowed`, from `[[oidc.allow]]`) covers the repo
/// path with enough access, and so does one of the user's grants.
pub fn authorize_oidc(
    user: &UserAccess,
    allowed: &[(crate::repo::RepoPattern, Access)],
    access: Access,
    repo: &RepoPath,
) -> Result<(), Denial> {
    if !user.active {
        return Err(Denial::UserDisabled);
    }
    let ruled = allowed
        .iter()
        .any(|(pattern, level)| level.covers(access) && pattern.matches(repo));
    if !ruled {
        return Err(Denial::OutsideOidcRules {
            user: user.name.clone(),
            access,
            repo: repo.clone(),
        });
    }
    let granted = user
        .grants
        .iter()
        .any(|g| g.access.covers(access) && g.pattern.matches(repo));
    if !granted {
        return Err(Denial::NoGrant {
            who: Who {
                user: user.name.clone(),
                token: TokenName::oidc(),
            },
            access,
            repo: repo.clone(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
