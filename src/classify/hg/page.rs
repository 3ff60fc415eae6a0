//! hgweb pages: `GET <repo>/<web command>/…` (`hgweb_mod._runwsgi`, `webcommands.__all__`).

use crate::canon::truncated;
use crate::classify::{Classified, Refusal, Request, Verdict};

use super::{HgOp, HgRoute, operation};

/// hgweb's web commands (`webcommands.__all__`; `rev` and `diff` are aliases).
const WEB_COMMANDS: &[&str] = &[
    "log",
    "rawfile",
    "file",
    "changelog",
    "shortlog",
    "changeset",
    "rev",
    "manifest",
    "tags",
    "bookmarks",
    "branches",
    "summary",
    "filediff",
    "diff",
    "comparison",
    "annotate",
    "filelog",
    "archive",
    "static",
    "graph",
    "help",
];

/// A page request (no `cmd` in the query). See [`HgRoute`] for why the route must say where
/// the repository ends.
pub(super) fn classify(request: &Request<'_>, route: &HgRoute) -> Result<Classified, Refusal> {
    let method = request.method.as_str();
    if method != "GET" && method != "HEAD" {
        return Err(Refusal::Method {
            method: truncated(method),
        });
    }
    let Some(depth) = route.repo_depth else {
        return Err(Refusal::UnknownEndpoint {
            vcs: "hg",
            what: "this route serves only the wire protocol (requests with ?cmd=)".to_owned(),
        });
    };
    if request.segments.len() < depth {
        return Err(Refusal::NoRepository);
    }
    let (repo, rest) = request.segments.split_at(depth);
    super::check_repository(repo)?;
    if let Some(first) = rest.first()
        && !is_web_command(first)
    {
        return Err(Refusal::UnknownEndpoint {
            vcs: "hg",
            what: format!("{:?} is not an hgweb page", truncated(first)),
        });
    }
    Ok(Classified::Final(Verdict::new(
        repo.to_vec(),
        operation(HgOp::Page),
    )))
}

/// Whether a path segment names a web command. hgweb splits an optional style at the last
/// `-` (`json-log` is style `json`, command `log`; `raw-file` is style `raw`, command `file`);
/// the style must be a plain name.
pub(super) fn is_web_command(segment: &str) -> bool {
    let command = match segment.rsplit_once('-') {
        Some((style, command)) => {
            let plain = style
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if style.is_empty() || !plain {
                return false;
            }
            command
        }
        None => segment,
    };
    WEB_COMMANDS.contains(&command)
}
