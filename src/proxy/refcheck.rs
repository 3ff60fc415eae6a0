//! Ref rules on a push (ACCESS.md "Ref rules"), after authorization: when a ref rule applies
//! — ref patterns on the user's write grants or on the token, or a protection covering the
//! repository — read the receive-pack command list under the body cap, decide, and either
//! forward exactly the bytes read followed by the rest, or refuse the whole push with an
//! answer `git push` shows (`refs::report`).

use http::HeaderMap;
use http::header::CONTENT_ENCODING;
use http_body_util::BodyExt;

use super::body::Body;
use super::rejection::Rejection;
use super::settle::{Step, read_prefix};
use crate::authorize::Who;
use crate::classify::Refusal;
use crate::names::TokenName;
use crate::refs::RefPattern;
use crate::refs::commands::{self, CommandList, Parsed};
use crate::refs::decide::{self, RefDenial, RefRules};
use crate::refs::{Protection, RewindCheck};
use crate::repo::RepoPath;
use crate::store::{Principal, UserAccess};
use crate::vocabulary::Access;

/// How much of a refused push's remaining body is read and dropped before answering, so
/// that git, still sending its pack, reads the refusal instead of a reset connection.
pub const DRAIN_LIMIT: u64 = 64 * 1024 * 1024;

/// A refused push: what the client asked for and why it was refused.
#[derive(Debug)]
pub struct PushRefused {
    pub list: CommandList,
    pub denials: Vec<RefDenial>,
}

/// Where a push goes: rewinds are enforced only by the built-in backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    Builtin,
    Url,
}

/// Who pushes: the user's standing (its grants' ref patterns), how messages name it, and the
/// ref patterns of the token it used (none for an OIDC identity).
#[derive(Debug, Clone)]
pub struct Pusher<'a> {
    pub user: &'a UserAccess,
    pub who: Who,
    pub token_refs: &'a [RefPattern],
}

impl<'a> Pusher<'a> {
    /// A push with a vcsgate token.
    pub fn of(principal: &'a Principal) -> Self {
        Pusher {
            user: &principal.user,
            who: Who {
                user: principal.token.user.clone(),
                token: principal.token.name.clone(),
            },
            token_refs: &principal.token.refs,
        }
    }

    /// A push by a CI job's OIDC identity: its user's grants, no token refs.
    pub fn oidc(user: &'a UserAccess) -> Self {
        Pusher {
            user,
            who: Who {
                user: user.name.clone(),
                token: TokenName::oidc(),
            },
            token_refs: &[],
        }
    }
}

/// Checks a receive-pack request; returns the body to forward and the protected refs the
/// built-in backend must not let the push rewind.
pub async fn check(
    pusher: Pusher<'_>,
    repo: &RepoPath,
    protections: &[Protection],
    (headers, body): (&HeaderMap, Body),
    limit: usize,
    enforcement: Enforcement,
) -> Result<(Body, Vec<RewindCheck>), Rejection> {
    let rules = rules(pusher, repo, protections);
    if !rules.any() {
        return Ok((body, Vec::new()));
    }
    if headers.contains_key(CONTENT_ENCODING) {
        return Err(Rejection::Classify(Refusal::NotSupported {
            what: "a compressed (Content-Encoding) push when ref rules apply",
        }));
    }
    let parse = |prefix: &[u8], eof: bool| match commands::parse(prefix, eof) {
        Ok(Parsed::Complete { list, .. }) => Ok(Step::Done(list)),
        Ok(Parsed::NeedMore { total }) => Ok(Step::NeedMore(total)),
        Err(error) => Err(Rejection::Classify(Refusal::BadBody {
            reason: error.reason(),
        })),
    };
    let (list, body) = read_prefix(body, limit, parse).await?;
    match decide::decide(&list.commands, &rules) {
        Ok(rewinds) => match enforcement {
            Enforcement::Builtin => Ok((body, rewinds)),
            Enforcement::Url => Ok((body, Vec::new())),
        },
        Err(denials) => {
            drain(body).await;
            Err(Rejection::PushRefused(Box::new(PushRefused {
                list,
                denials,
            })))
        }
    }
}

/// The rules that apply to a push by `pusher` to `repo`.
pub fn rules<'a>(
    pusher: Pusher<'a>,
    repo: &'a RepoPath,
    protections: &'a [Protection],
) -> RefRules<'a> {
    let mut grant_refs = Some(Vec::new());
    for grant in &pusher.user.grants {
        if !(grant.access.covers(Access::Write) && grant.pattern.matches(repo)) {
            continue;
        }
        match (&mut grant_refs, grant.refs.is_empty()) {
            (_, true) => grant_refs = None,
            (Some(all), false) => all.extend(grant.refs.iter()),
            (None, false) => {}
        }
    }
    RefRules {
        who: pusher.who,
        repo: repo.as_str(),
        grant_refs,
        token_refs: pusher.token_refs,
        protections: protections
            .iter()
            .filter(|p| p.repo.matches(repo))
            .collect(),
    }
}

/// Reads and drops what the client still sends, up to [`DRAIN_LIMIT`].
async fn drain(mut body: Body) {
    let mut read = 0u64;
    while read < DRAIN_LIMIT {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    read += data.len() as u64;
                }
            }
            Some(Err(_)) | None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::refs::RefPattern;
    use crate::repo::RepoPattern;
    use crate::store::{GrantRule, TokenId, TokenInfo, UserAccess};

    fn principal(grants: &[(&str, Access, &[&str])], token_refs: &[&str]) -> Principal {
        let refs = |list: &[&str]| -> Vec<RefPattern> {
            list.iter().map(|r| RefPattern::parse(r).unwrap()).collect()
        };
        Principal {
            token: TokenInfo {
                id: TokenId(1),
                user: "alice".parse().unwrap(),
                name: "ci".parse().unwrap(),
                public_prefix: String::new(),
                scopes: crate::vocabulary::ScopeSet::default(),
                repos: Vec::new(),
                refs: refs(token_refs),
                created_at: 0,
                expires_at: None,
                last_used_at: None,
                last_used_ip: None,
                revoked_at: None,
            },
            user: UserAccess {
                name: "alice".parse().unwrap(),
                active: true,
                grants: grants
                    .iter()
                    .map(|(pattern, access, list)| GrantRule {
                        pattern: RepoPattern::parse(pattern).unwrap(),
                        access: *access,
                        refs: refs(list),
                    })
                    .collect(),
            },
        }
    }

    fn grant_refs(p: &Principal) -> Option<Vec<String>> {
        let repo = RepoPath::parse("git/team/app").unwrap();
        let rules = rules(Pusher::of(p), &repo, &[]);
        rules
            .grant_refs
            .map(|all| all.iter().map(|r| r.to_string()).collect())
    }

    #[test]
    fn covering_write_grants_union_their_refs_and_one_without_refs_lifts_the_limit() {
        let a: &[&str] = &["refs/heads/a"];
        let b: &[&str] = &["refs/heads/b"];
        let none: &[&str] = &[];
        let p = principal(
            &[
                ("git/**", Access::Write, a),
                ("git/team/*", Access::Write, b),
            ],
            &[],
        );
        assert_eq!(grant_refs(&p).unwrap(), ["refs/heads/a", "refs/heads/b"]);
        // Read grants and grants for other repositories do not count.
        let p = principal(
            &[
                ("git/**", Access::Write, a),
                ("git/team/app", Access::Read, none),
                ("git/other", Access::Write, none),
            ],
            &[],
        );
        assert_eq!(grant_refs(&p).unwrap(), ["refs/heads/a"]);
        let p = principal(
            &[
                ("git/**", Access::Write, a),
                ("git/team/**", Access::Write, none),
            ],
            &[],
        );
        assert_eq!(grant_refs(&p), None);
        let p = principal(&[("git/**", Access::Write, none)], &[]);
        let repo = RepoPath::parse("git/team/app").unwrap();
        assert!(!rules(Pusher::of(&p), &repo, &[]).any());
        let p = principal(&[("git/**", Access::Write, none)], &["refs/heads/ci/*"]);
        assert!(rules(Pusher::of(&p), &repo, &[]).any());
    }
}
