//! Which directory a request names. `git http-backend` does not serve PATH_INFO's directory
//! as is: like `git daemon` it looks for a repository under several names (`enter_repo` in
//! git's setup.c tries `P/.git`, `P`, `P.git/.git`, `P.git`, and follows a `gitdir:` file),
//! so `/team/x.git/…` could be answered from `x.git.git` or `x.git/.git`, which no repo path
//! names. The proxy therefore picks the directory itself and hands git a PATH_INFO under
//! which git's first try is impossible and its second is the directory picked:
//!
//! - the repo path `team/app` (from `/team/app/…` or `/team/app.git/…`) is served from
//!   exactly `ROOT/team/app.git` or `ROOT/team/app`, whichever is a bare repository
//!   (a directory with `HEAD`, `objects/` and `refs/`, and without a `.git` inside);
//! - neither: 404; both: a misconfiguration (DESIGN.md), refused as a backend failure.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::CgiError;
use crate::classify::git::repository_len;

/// The outcome of [`resolve`].
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Resolved {
    /// The decoded PATH_INFO to give git, naming the chosen directory exactly.
    Found(OsString),
    /// No repository of that name.
    Missing,
}

/// Picks the repository directory for a decoded PATH_INFO (`/team/app.git/info/refs`).
pub(super) fn resolve(root: &Path, path_info: &OsString) -> Result<Resolved, CgiError> {
    let bytes = path_info.as_bytes();
    let Some(inner) = bytes.strip_prefix(b"/") else {
        return Ok(Resolved::Missing);
    };
    let Ok(inner) = std::str::from_utf8(inner) else {
        return Ok(Resolved::Missing);
    };
    let segments: Vec<&str> = inner.split('/').collect();
    let Some(len) = repository_len(&segments).filter(|len| *len > 0) else {
        return Ok(Resolved::Missing);
    };
    let (repo, endpoint) = segments.split_at(len);
    let Some((parents, name)) = pick(root, repo)? else {
        return Ok(Resolved::Missing);
    };
    let mut rewritten = String::new();
    for segment in parents.iter().chain([&name.as_str()]).chain(endpoint) {
        rewritten.push('/');
        rewritten.push_str(segment);
    }
    Ok(Resolved::Found(OsString::from_vec(rewritten.into_bytes())))
}

/// The directory serving the repository named by `repo` (segments below the route, the
/// last one with or without `.git`): `ROOT/…/x.git` or `ROOT/…/x`, `None` when neither is
/// a bare repository.
pub fn directory<S: AsRef<str>>(root: &Path, repo: &[S]) -> Result<Option<PathBuf>, CgiError> {
    let repo: Vec<&str> = repo.iter().map(AsRef::as_ref).collect();
    Ok(pick(root, &repo)?.map(|(parents, name)| {
        parents
            .iter()
            .fold(root.to_path_buf(), |dir, s| dir.join(s))
            .join(name)
    }))
}

/// The parent segments and the chosen directory name for `repo`.
fn pick<'r>(root: &Path, repo: &'r [&'r str]) -> Result<Option<(&'r [&'r str], String)>, CgiError> {
    let Some((last, parents)) = repo.split_last() else {
        return Ok(None);
    };
    let stem = last.strip_suffix(".git").unwrap_or(last);
    let parent: PathBuf = parents
        .iter()
        .fold(root.to_path_buf(), |dir, s| dir.join(s));
    let dot_git = format!("{stem}.git");
    let found: Vec<&str> = [dot_git.as_str(), stem]
        .into_iter()
        .filter(|name| is_bare_repository(&parent.join(name)))
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [name] => Ok(Some((parents, (*name).to_owned()))),
        _ => Err(CgiError::AmbiguousRepository {
            stem: parent.join(stem),
        }),
    }
}

/// A directory git takes for a bare repository when asked for it by this exact path: it has
/// `HEAD`, `objects/` and `refs/`, and no `.git` entry (which git would try first).
fn is_bare_repository(dir: &Path) -> bool {
    dir.is_dir()
        && dir.join("HEAD").is_file()
        && dir.join("objects").is_dir()
        && dir.join("refs").is_dir()
        && dir.join(".git").symlink_metadata().is_err()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::fs;

    use super::*;

    fn bare(root: &Path, rel: &str) {
        let dir = root.join(rel);
        fs::create_dir_all(dir.join("objects")).unwrap();
        fs::create_dir_all(dir.join("refs")).unwrap();
        fs::write(dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    }

    fn resolved(root: &Path, path_info: &str) -> Result<Resolved, CgiError> {
        resolve(root, &OsString::from(path_info))
    }

    fn found(path_info: &str) -> Result<Resolved, CgiError> {
        Ok(Resolved::Found(OsString::from(path_info)))
    }

    #[test]
    fn only_the_named_directory_is_served() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        bare(root, "team/app.git");
        bare(root, "team/plain");
        bare(root, "team/x.git.git");
        bare(root, "team/y.git/.git");
        bare(root, "team/z/.git");
        bare(root, "team/w.git");
        fs::create_dir_all(root.join("team/w.git/.git")).unwrap();
        bare(root, "team/both");
        bare(root, "team/both.git");
        let rows: &[(&str, Result<Resolved, CgiError>)] = &[
            ("/team/app.git/info/refs", found("/team/app.git/info/refs")),
            ("/team/app/info/refs", found("/team/app.git/info/refs")),
            (
                "/team/app/git-upload-pack",
                found("/team/app.git/git-upload-pack"),
            ),
            ("/team/plain/HEAD", found("/team/plain/HEAD")),
            ("/team/plain.git/info/refs", found("/team/plain/info/refs")),
            ("/team/x.git/info/refs", Ok(Resolved::Missing)),
            ("/team/x/info/refs", Ok(Resolved::Missing)),
            ("/team/y.git/info/refs", Ok(Resolved::Missing)),
            ("/team/y/info/refs", Ok(Resolved::Missing)),
            ("/team/z/info/refs", Ok(Resolved::Missing)),
            ("/team/w/info/refs", Ok(Resolved::Missing)),
            ("/team/none/info/refs", Ok(Resolved::Missing)),
            ("/info/refs", Ok(Resolved::Missing)),
            ("/team/app.git/nothing", Ok(Resolved::Missing)),
        ];
        for (path_info, expected) in rows {
            let got = resolved(root, path_info);
            assert_eq!(format!("{got:?}"), format!("{expected:?}"), "{path_info}");
        }
        assert!(matches!(
            resolved(root, "/team/both/info/refs"),
            Err(CgiError::AmbiguousRepository { .. })
        ));
    }
}
