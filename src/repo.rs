//! Repository paths as users see them, and the patterns that grants and token limits use.
//!
//! A [`RepoPath`] is the URL path of a repository without its leading `/` and without one
//! trailing `.git`, route prefix included: `git/team/app`. A [`RepoPattern`] matches whole
//! repo paths segment by segment (`*` inside one segment, `**` as a whole segment).

use std::fmt;

use crate::vocabulary::Vcs;

/// A canonical repository path: non-empty segments joined by `/`, no leading or trailing
/// `/`, no `.`/`..` segments, no trailing `.git`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoPath(String);

/// Why a repo path or pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoError {
    #[error("repository path {given:?} is empty")]
    Empty { given: String },
    #[error("{given:?} starts with '/'; write repository paths without the leading slash")]
    LeadingSlash { given: String },
    #[error("{given:?} has an empty segment")]
    EmptySegment { given: String },
    #[error("{given:?} has a '.' or '..' segment")]
    DotSegment { given: String },
    #[error("{given:?} ends in .git; write the repository path without it")]
    TrailingGit { given: String },
    #[error("{given:?} contains a character not allowed in a repository path")]
    BadCharacter { given: String },
    #[error("{given:?} uses '**' inside a segment; '**' must be a whole segment")]
    BadDoubleStar { given: String },
    #[error("repository names ending in .git are only served on Git routes")]
    DotGitOffGit,
    #[error("bad repository name: {reason}")]
    BadGitName { reason: &'static str },
}

/// The repo path of a request: the route prefix plus the segments naming the repository
/// below it (R8, each backend's own semantics). On Git routes one trailing `.git` is
/// removed (git http-backend serves `app` and `app.git` as one repository), and names
/// [`git_name_problem`] finds ambiguous are refused. hgweb and mod_dav_svn serve `app.git`
/// as a repository of its own, which no repo path can name (repo paths never end in
/// `.git`): such names are refused there.
pub fn for_route(vcs: Vcs, prefix: &[String], repo: &[String]) -> Result<RepoPath, RepoError> {
    let last = repo.last().or(prefix.last());
    match vcs {
        Vcs::Git => {
            if let Some(reason) = git_name_problem(repo) {
                return Err(RepoError::BadGitName { reason });
            }
        }
        Vcs::Hg | Vcs::Svn => {
            if last.is_some_and(|last| last.ends_with(".git")) {
                return Err(RepoError::DotGitOffGit);
            }
        }
    }
    let mut segments = Vec::with_capacity(prefix.len() + repo.len());
    segments.extend(prefix.iter().chain(repo).map(String::as_str));
    RepoPath::from_segments(&segments)
}

/// Why the segments before a Git endpoint cannot name a repository unambiguously, if so:
/// - a segment other than the last that ends in `.git` (`team.git/app`, `.git/x`): forges
///   split the path at `.git/`, and `.git` is the working tree's metadata directory;
/// - a last segment that is `.git`, or that still ends in `.git` once one trailing `.git`
///   is removed (`app.git.git`);
/// - `.git` is compared case-insensitively and after dropping trailing dots and spaces
///   (`App.GIT`, `app.git.`), which name the same directory on case-insensitive or Windows
///   file systems.
pub fn git_name_problem(repo: &[String]) -> Option<&'static str> {
    let (last, parents) = repo.split_last()?;
    if parents.iter().any(|segment| names_git_dir(segment)) {
        return Some("only the last segment may end in .git");
    }
    let stem = last.strip_suffix(".git").unwrap_or(last);
    if stem.is_empty() || names_git_dir(stem) {
        return Some("the name must not end in .git twice or be .git");
    }
    None
}

/// Whether a segment ends in `.git` in the eyes of a case-insensitive or Windows file system.
fn names_git_dir(segment: &str) -> bool {
    let trimmed = segment.trim_end_matches(['.', ' ']).as_bytes();
    trimmed.len() >= 4 && trimmed[trimmed.len() - 4..].eq_ignore_ascii_case(b".git")
}

fn check_segments(given: &str, allow_wildcards: bool) -> Result<(), RepoError> {
    let err = |make: fn(String) -> RepoError| Err(make(given.to_owned()));
    if given.is_empty() {
        return err(|given| RepoError::Empty { given });
    }
    if given.starts_with('/') {
        return err(|given| RepoError::LeadingSlash { given });
    }
    if given.ends_with(".git") {
        return err(|given| RepoError::TrailingGit { given });
    }
    for segment in given.split('/') {
        if segment.is_empty() {
            return err(|given| RepoError::EmptySegment { given });
        }
        if segment == "." || segment == ".." {
            return err(|given| RepoError::DotSegment { given });
        }
        if segment
            .chars()
            .any(|c| c.is_control() || c == '\\' || (!allow_wildcards && c == '*'))
        {
            return err(|given| RepoError::BadCharacter { given });
        }
        if allow_wildcards && segment.contains("**") && segment != "**" {
            return err(|given| RepoError::BadDoubleStar { given });
        }
    }
    Ok(())
}

impl RepoPath {
    /// Parses an already canonical repo path (`git/team/app`).
    pub fn parse(path: &str) -> Result<Self, RepoError> {
        check_segments(path, false)?;
        Ok(RepoPath(path.to_owned()))
    }

    /// Builds a repo path from decoded URL segments (route prefix included), stripping one
    /// trailing `.git` from the last segment.
    pub fn from_segments<S: AsRef<str>>(segments: &[S]) -> Result<Self, RepoError> {
        let mut joined =
            String::with_capacity(segments.iter().map(|s| s.as_ref().len() + 1).sum::<usize>());
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                joined.push('/');
            }
            joined.push_str(segment.as_ref());
        }
        if joined.ends_with(".git") {
            joined.truncate(joined.len() - 4);
        }
        check_segments(&joined, false)?;
        Ok(RepoPath(joined))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> + Clone {
        self.0.split('/')
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A grant or token-limit pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoPattern(String);

impl RepoPattern {
    pub fn parse(pattern: &str) -> Result<Self, RepoError> {
        check_segments(pattern, true)?;
        Ok(RepoPattern(pattern.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern covers the whole repo path.
    pub fn matches(&self, path: &RepoPath) -> bool {
        match_segments(self.0.split('/'), path.segments())
    }

    /// Whether the pattern covers exactly these (decoded) path segments; used for paths
    /// below a repository (`url_token_paths`, `feed_paths`).
    pub fn matches_segments<S: AsRef<str>>(&self, segments: &[S]) -> bool {
        match_segments(self.0.split('/'), segments.iter().map(AsRef::as_ref))
    }
}

impl fmt::Display for RepoPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the pattern's segments cover the path's segments exactly: `**` stands for any
/// number of whole segments (none included), `*` inside a segment for any run of
/// characters. Walks both lists without collecting them.
pub(crate) fn match_segments<'p, 's>(
    mut pattern: impl Iterator<Item = &'p str> + Clone,
    mut path: impl Iterator<Item = &'s str> + Clone,
) -> bool {
    match pattern.next() {
        None => path.next().is_none(),
        Some("**") => loop {
            if match_segments(pattern.clone(), path.clone()) {
                return true;
            }
            if path.next().is_none() {
                return false;
            }
        },
        Some(first) => match path.next() {
            Some(segment) => {
                match_one(first.as_bytes(), segment.as_bytes()) && match_segments(pattern, path)
            }
            None => false,
        },
    }
}

/// `*` matches any run of characters inside one (non-empty) segment.
fn match_one(pattern: &[u8], segment: &[u8]) -> bool {
    if segment.is_empty() {
        return false;
    }
    glob(pattern, segment)
}

/// Iterative wildcard match (linear backtracking over the last `*`), so hostile paths cannot
/// make matching exponential.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> RepoPath {
        RepoPath::parse(p).unwrap()
    }

    fn matches(pattern: &str, p: &str) -> bool {
        RepoPattern::parse(pattern).unwrap().matches(&path(p))
    }

    #[test]
    fn repo_path_strips_one_trailing_dot_git() {
        let p = RepoPath::from_segments(&["git", "team", "app.git"]).unwrap();
        assert_eq!(p.as_str(), "git/team/app");
        assert!(RepoPath::from_segments(&["git", "team", "app.git.git"]).is_err());
        assert!(RepoPath::from_segments(&["git", "", "app"]).is_err());
        assert!(RepoPath::from_segments(&["git", "..", "app"]).is_err());
    }

    #[test]
    fn patterns_match_whole_segments() {
        assert!(matches("git/team/app", "git/team/app"));
        assert!(!matches("git/team/app", "git/team/app2"));
        assert!(!matches("git/team/app", "git/team/app/x"));
        assert!(!matches("git/Team/app", "git/team/app"));
        assert!(matches("git/team/app-*", "git/team/app-web"));
        assert!(matches("git/team/app-*", "git/team/app-"));
        assert!(!matches("git/team/app-*", "git/team/ap"));
        assert!(matches("git/team/*", "git/team/x"));
        assert!(!matches("git/team/*", "git/team/x/y"));
        assert!(!matches("git/team/*", "git/team"));
        assert!(matches("git/*-*/app", "git/a-b/app"));
    }

    #[test]
    fn double_star_matches_zero_or_more_segments() {
        assert!(matches("git/team/**", "git/team"));
        assert!(matches("git/team/**", "git/team/app"));
        assert!(matches("git/team/**", "git/team/a/b"));
        assert!(!matches("git/team/**", "git/teamx"));
        assert!(matches("**", "svn/repo"));
        assert!(matches("git/**/app", "git/app"));
        assert!(matches("git/**/app", "git/a/b/app"));
        assert!(!matches("git/**/app", "git/a/b/app2"));
    }

    #[test]
    fn bad_patterns_are_refused() {
        for bad in [
            "/git/x",
            "git//x",
            "git/x.git",
            "git/x/",
            "",
            "git/a**",
            "git/./x",
        ] {
            assert!(RepoPattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// git http-backend serves `app` and `app.git` as one repository (it tries both), so Git
    /// repo paths drop one `.git`. hgweb and mod_dav_svn serve `app.git` as a repository of
    /// its own: stripping there would let a grant on `hg/team/app` reach it.
    #[test]
    fn only_git_routes_strip_dot_git() {
        let rows: &[(Vcs, &str, &[&str], Option<&str>)] = &[
            (Vcs::Git, "git", &["team", "app.git"], Some("git/team/app")),
            (Vcs::Git, "git", &["team", "app"], Some("git/team/app")),
            (Vcs::Git, "git", &["team.git", "app"], None),
            (Vcs::Git, "git", &["team", "app.git.git"], None),
            (Vcs::Git, "git", &["team", "App.GIT."], None),
            (Vcs::Hg, "hg", &["team", "app"], Some("hg/team/app")),
            (Vcs::Hg, "hg", &["team", "app.git"], None),
            (Vcs::Hg, "hg", &["team.git", "app"], Some("hg/team.git/app")),
            (Vcs::Hg, "hg", &["team", "app.GIT"], Some("hg/team/app.GIT")),
            (Vcs::Svn, "svn", &["repo"], Some("svn/repo")),
            (Vcs::Svn, "svn", &["repo.git"], None),
            (Vcs::Svn, "repo.git", &[], None),
        ];
        for (kind, prefix, segments, expected) in rows {
            let segments: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
            let got = for_route(*kind, &[(*prefix).to_owned()], &segments).ok();
            assert_eq!(
                got.as_ref().map(RepoPath::as_str),
                *expected,
                "{kind:?} {segments:?}"
            );
        }
    }
}
