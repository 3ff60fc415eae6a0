//! Where a credential may come from, and what the narrow scopes grant (ACCESS.md "Scopes",
//! "URL tokens", "Feed tokens"). Pure functions over the classified request and the route's
//! path rules; no IO.
//!
//! - [`area`]: whether a request reads one of the route's `url_token_paths` (web) or
//!   `feed_paths` (feed). Only a GET/HEAD read with a non-empty path below the repository can
//!   be either: a repository root (where the hg wire protocol lives) never is.
//! - [`check_url_token`]: `?auth_token=` only where the area accepts it, never together
//!   with an `Authorization` header (both 400, before any token lookup).
//! - [`check_scopes`]: by URL a token needs `read_web` (web paths) or `read_feed` (feed
//!   paths); by header a feed path takes `read_feed` or `read_repository`; everything else
//!   needs the repository scope of its access.

#[cfg(test)]
mod tests;

use http::Method;

use crate::classify::Classified;
use crate::repo::RepoPattern;
use crate::vocabulary::{Access, Scope, ScopeSet};

/// hgweb's feeds (`<style>-<command>`), each optionally followed by `/…`: the default
/// `feed_paths` of hg routes.
pub const HG_DEFAULT_FEED_PATHS: &[&str] = &[
    "atom-log/**",
    "rss-log/**",
    "atom-tags/**",
    "rss-tags/**",
    "atom-bookmarks/**",
    "rss-bookmarks/**",
    "atom-branches/**",
    "rss-branches/**",
];

/// A route's path rules over the path below the repository.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathRules {
    /// Paths that accept `?auth_token=` with scope `read_web` (empty: the feature is off).
    pub url_token_paths: Vec<RepoPattern>,
    /// Paths a `read_feed` token may read (by header or by `?auth_token=`).
    pub feed_paths: Vec<RepoPattern>,
}

/// Which narrow-scope paths a request reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Area {
    /// Matches one of `url_token_paths`.
    pub web: bool,
    /// Matches one of `feed_paths`.
    pub feed: bool,
}

impl Area {
    pub fn accepts_url_token(self) -> bool {
        self.web || self.feed
    }
}

/// The area of a classified request. `below_prefix` are the decoded segments below the
/// route prefix; the classified repository is a prefix of them (when it is not, nothing
/// matches).
pub fn area(
    rules: &PathRules,
    method: &Method,
    below_prefix: &[String],
    classified: &Classified,
) -> Area {
    let read = matches!(classified, Classified::Final(v) if v.access() == Access::Read);
    if !read || (*method != Method::GET && *method != Method::HEAD) {
        return Area::default();
    }
    let repo = classified.repo();
    let below = match below_prefix.split_at_checked(repo.len()) {
        Some((head, rest)) if head == repo && !rest.is_empty() => rest,
        _ => return Area::default(),
    };
    let any = |patterns: &[RepoPattern]| patterns.iter().any(|p| p.matches_segments(below));
    Area {
        web: any(&rules.url_token_paths),
        feed: any(&rules.feed_paths),
    }
}

/// Why `?auth_token=` was refused (400, before the token is looked at).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlTokenRefusal {
    #[error(
        "auth_token is not accepted here: only on GET or HEAD reads of the route's \
         url_token_paths and feed_paths"
    )]
    NotAccepted,
    #[error("send a token either in the Authorization header or as auth_token, not both")]
    Both,
}

/// Whether a request may carry `?auth_token=` (`url_token`) here.
pub fn check_url_token(
    area: Area,
    url_token: bool,
    authorization: bool,
) -> Result<(), UrlTokenRefusal> {
    match (url_token, authorization) {
        (false, _) => Ok(()),
        (true, true) => Err(UrlTokenRefusal::Both),
        (true, false) if area.accepts_url_token() => Ok(()),
        (true, false) => Err(UrlTokenRefusal::NotAccepted),
    }
}

/// Whether `scopes` cover a request of `access` in `area`, the token sent `by_url` or in a
/// header; otherwise the scope that is missing.
pub fn check_scopes(
    scopes: ScopeSet,
    access: Access,
    area: Area,
    by_url: bool,
) -> Result<(), Scope> {
    if by_url {
        let web = area.web && scopes.contains(Scope::ReadWeb);
        let feed = area.feed && scopes.contains(Scope::ReadFeed);
        return if access == Access::Read && (web || feed) {
            Ok(())
        } else if area.feed && !area.web {
            Err(Scope::ReadFeed)
        } else {
            Err(Scope::ReadWeb)
        };
    }
    let feed = area.feed && access == Access::Read && scopes.contains(Scope::ReadFeed);
    if feed || scopes.allows(access) {
        Ok(())
    } else {
        Err(access.required_scope())
    }
}
