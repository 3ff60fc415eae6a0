//! The repository part of a Git path: every segment before the endpoint. The repo path
//! rule itself (one `.git` stripped, ambiguous `.git` names refused) lives in
//! [`crate::repo::for_route`]; this module refuses what is ambiguous about endpoints.

use super::Refusal;
use super::endpoint::{is_lfs, match_suffix};

/// Checks the segments before the endpoint.
///
/// Refused:
/// - no segment at all (`/info/refs` directly below the route);
/// - a name [`crate::repo::git_name_problem`] finds ambiguous (`team.git/app`,
///   `app.git.git`);
/// - a repository that itself contains an endpoint (`team/info/refs/info/refs`,
///   `HEAD/info/refs`, `x/info/lfs/y/info/refs`): git-http-backend takes the endpoint at the
///   end of the path, but a server matching the first occurrence would pick another
///   repository. Such repositories are unreachable through vcsgate.
pub(super) fn check(repo: &[String]) -> Result<(), Refusal> {
    if repo.is_empty() {
        return Err(Refusal::NoRepository);
    }
    if let Some(reason) = crate::repo::git_name_problem(repo) {
        return Err(Refusal::BadRepository { reason });
    }
    let contains_endpoint =
        (1..=repo.len()).any(|end| repo.get(..end).is_some_and(|p| match_suffix(p).is_some()));
    if contains_endpoint || is_lfs(repo) {
        return Err(Refusal::BadRepository {
            reason: "it contains a Git endpoint (info/refs, HEAD, objects/…, git-…-pack, \
                     info/lfs) before the end of the path",
        });
    }
    Ok(())
}
