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
use crate::refs::commands::{self, CommandList, Parsed};
use crate::refs::decide::{self, RefDenial, RefRules};
use crate::refs::{Protection, RewindCheck};
use crate::repo::RepoPath;
use crate::store::Principal;
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

/// Checks a receive-pack request; returns the body to forward and the protected refs the
/// built-in backend must not let the push rewind.
pub async fn check(
    principal: &Principal,
    repo: &RepoPath,
    protections: &[Protection],
    (headers, body): (&HeaderMap, Body),
    limit: usize,
    enforcement: Enforcement,
) -> Result<(Body, Vec<RewindCheck>), Rejection> {
    let rules = rules(principal, repo, protections);
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

/// The rules that apply to a push by `principal` to `repo`.
pub fn rules<'a>(
    principal: &'a Principal,
    repo: &'a RepoPath,
    protections: &'a [Protection],
) -> RefRules<'a> {
    let mut grant_refs = Some(Vec::new());
    for grant in &principal.user.grants {
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
        who: Who {
            user: principal.token.user.clone(),
            token: principal.token.name.clone(),
        },
        repo: repo.as_str(),
        grant_refs,
        token_refs: &principal.token.refs,
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
