//! The repository part of a Git path: every segment before the endpoint. The proxy strips
//! one trailing `.git` to form the repo path ([`crate::repo::RepoPath::from_segments`]);
//! this module refuses the names for which that would be ambiguous.

use super::Refusal;
use super::endpoint::{is_lfs, match_suffix};

/// Checks the segments before the endpoint.
///
/// Refused:
/// - no segment at all (`/info/refs` directly below the route);
/// - a segment other than the last that ends in `.git` (`team.git/app`, `.git/x`): forges
///   split the path at `.git/`, and `.git` is the working tree's metadata directory;
/// - a last segment that is `.git`, or that still ends in `.git` once one trailing `.git`
///   is removed (`app.git.git`);
/// - for those checks `.git` is compared case-insensitively and after dropping trailing dots
///   and spaces (`App.GIT`, `app.git.`), which name the same directory on case-insensitive
///   or Windows file systems;
/// - a repository that itself contains an endpoint (`team/info/refs/info/refs`,
///   `HEAD/info/refs`, `x/info/lfs/y/info/refs`): git-http-backend takes the endpoint at the
///   end of the path, but a server matching the first occurrence would pick another
///   repository. Such repositories are unreachable through vcsgate.
pub(super) fn check(repo: &[String]) -> Result<(), Refusal> {
    let Some((last, parents)) = repo.split_last() else {
        return Err(Refusal::NoRepository);
    };
    if parents.iter().any(|segment| names_git_dir(segment)) {
        return Err(Refusal::BadRepository {
            reason: "only the last segment may end in .git",
        });
    }
    let stem = last.strip_suffix(".git").unwrap_or(last);
    if stem.is_empty() || names_git_dir(stem) {
        return Err(Refusal::BadRepository {
            reason: "the name must not end in .git twice or be .git",
        });
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

/// Whether a segment ends in `.git` in the eyes of a case-insensitive or Windows file system.
fn names_git_dir(segment: &str) -> bool {
    segment
        .trim_end_matches(['.', ' '])
        .to_ascii_lowercase()
        .ends_with(".git")
}
