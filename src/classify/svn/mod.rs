//! Subversion mod_dav_svn, HTTP v1 and v2 (PROTOCOLS.md §4).
//!
//! The method decides, except that anything under a commit-only `!svn/` area is a write
//! whatever the method ([`area`]), POST is only accepted on `<repo>/!svn/me`, COPY/MOVE need a
//! `Destination` inside the same repository ([`href`]), and MERGE needs its body's source
//! href inside the same repository ([`MergeBody`]). Methods are exact, case-sensitive
//! tokens; anything else is refused (mod_authz_svn would treat an unknown method as a write,
//! Apache a lower-case one as unknown).

mod area;
mod href;
mod merge;
#[cfg(test)]
mod tests;

use crate::vocabulary::Access;

use super::{BodyRule, Classified, Operation, Refusal, Request, Verdict};
use crate::canon::truncated;
use area::{Place, SPECIAL};

pub use href::UrlPath;
pub use merge::MergeBody;

/// Every Subversion request vcsgate lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvnOp {
    /// GET, HEAD, OPTIONS, PROPFIND, REPORT outside commit-only areas.
    Read,
    /// GET, HEAD, OPTIONS, PROPFIND, REPORT inside a commit-only area (an open commit).
    CommitAreaRead,
    /// POST on `!svn/me`: creates a commit transaction (HTTP v2).
    CreateTransaction,
    Put,
    Delete,
    Proppatch,
    /// PROPPATCH on `!svn/rev/N` or `!svn/bln/N`: changes revision properties.
    RevpropChange,
    Mkcol,
    Mkactivity,
    Checkout,
    Merge,
    Lock,
    Unlock,
    Copy,
    Move,
}

impl SvnOp {
    pub fn access(self) -> Access {
        match self {
            SvnOp::Read => Access::Read,
            SvnOp::CommitAreaRead
            | SvnOp::CreateTransaction
            | SvnOp::Put
            | SvnOp::Delete
            | SvnOp::Proppatch
            | SvnOp::RevpropChange
            | SvnOp::Mkcol
            | SvnOp::Mkactivity
            | SvnOp::Checkout
            | SvnOp::Merge
            | SvnOp::Lock
            | SvnOp::Unlock
            | SvnOp::Copy
            | SvnOp::Move => Access::Write,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SvnOp::Read => "svn-read",
            SvnOp::CommitAreaRead => "svn-commit-read",
            SvnOp::CreateTransaction => "svn-create-txn",
            SvnOp::Put => "svn-put",
            SvnOp::Delete => "svn-delete",
            SvnOp::Proppatch => "svn-proppatch",
            SvnOp::RevpropChange => "svn-revprop-change",
            SvnOp::Mkcol => "svn-mkcol",
            SvnOp::Mkactivity => "svn-mkactivity",
            SvnOp::Checkout => "svn-checkout",
            SvnOp::Merge => "svn-merge",
            SvnOp::Lock => "svn-lock",
            SvnOp::Unlock => "svn-unlock",
            SvnOp::Copy => "svn-copy",
            SvnOp::Move => "svn-move",
        }
    }
}

/// How repositories sit below an svn route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvnLayout {
    /// `SVNParentPath`: the first segment below the prefix names the repository. The bare
    /// route root (the repository list) is refused.
    ParentPath,
    /// `SVNPath`: the route itself is the repository; verdicts carry an empty repository and
    /// the proxy uses the route prefix.
    SingleRepository,
}

/// What the classifier needs to know about an svn route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SvnRoute {
    /// Decoded segments of the route prefix (`["svn"]` for `/svn`). svn routes keep paths
    /// unchanged, so this is also where the backend's repositories start.
    pub prefix: Vec<String>,
    pub layout: SvnLayout,
}

/// Classifies a canonical svn request below its route prefix.
pub fn classify(request: &Request<'_>, route: &SvnRoute) -> Result<Classified, Refusal> {
    let (repo, inner) = split_repository(request.segments, route.layout)?;
    let place = area::locate(inner)?;
    let commit_area = matches!(place, Place::Special(area) if area.is_commit_only());
    let op = match request.method.as_str() {
        "GET" | "HEAD" | "OPTIONS" | "PROPFIND" | "REPORT" if commit_area => SvnOp::CommitAreaRead,
        "GET" | "HEAD" | "OPTIONS" | "PROPFIND" | "REPORT" => SvnOp::Read,
        "POST" if inner.len() == 2 && place == Place::Special(area::Area::Me) => {
            SvnOp::CreateTransaction
        }
        "POST" => {
            return Err(Refusal::UnknownEndpoint {
                vcs: "svn",
                what: "POST is only accepted on <repository>/!svn/me".to_owned(),
            });
        }
        "PUT" => SvnOp::Put,
        "DELETE" => SvnOp::Delete,
        "PROPPATCH" => match place {
            Place::Special(area) if area.holds_revision_properties() => SvnOp::RevpropChange,
            Place::Special(_) | Place::Public => SvnOp::Proppatch,
        },
        "MKCOL" => SvnOp::Mkcol,
        "MKACTIVITY" => SvnOp::Mkactivity,
        "CHECKOUT" => SvnOp::Checkout,
        "LOCK" => SvnOp::Lock,
        "UNLOCK" => SvnOp::Unlock,
        "COPY" | "MOVE" => {
            let destination = check_destination(request, route, &repo)?;
            let op = if request.method.as_str() == "COPY" {
                SvnOp::Copy
            } else {
                SvnOp::Move
            };
            let mut verdict = Verdict::new(repo, Operation::Svn(op));
            verdict.forwarding.destination = Some(destination);
            return Ok(Classified::Final(verdict));
        }
        "MERGE" => {
            let root = repo_root(route, &repo);
            return Ok(Classified::NeedsBody {
                repo,
                rule: BodyRule::Svn(MergeBody::new(root)),
            });
        }
        other => {
            return Err(Refusal::Method {
                method: truncated(other),
            });
        }
    };
    Ok(Classified::Final(Verdict::new(repo, Operation::Svn(op))))
}

/// Parses a COPY/MOVE `Destination` header value (an absolute `http(s)` URL, checked like a
/// request path). The proxy uses the same function to rewrite it to the backend's origin.
pub fn parse_destination(value: &str) -> Result<UrlPath<'_>, Refusal> {
    href::parse(value, href::Form::AbsoluteUrl).map_err(|href::BadUrl(reason)| Refusal::BadHeader {
        name: "destination".to_owned(),
        reason,
    })
}

fn split_repository(
    segments: &[String],
    layout: SvnLayout,
) -> Result<(Vec<String>, &[String]), Refusal> {
    match layout {
        SvnLayout::SingleRepository => Ok((Vec::new(), segments)),
        SvnLayout::ParentPath => {
            let (repo, inner) = segments.split_first().ok_or(Refusal::NoRepository)?;
            if repo == SPECIAL {
                return Err(Refusal::BadRepository {
                    reason: "\"!svn\" is not a repository",
                });
            }
            Ok((vec![repo.clone()], inner))
        }
    }
}

/// Segments of the repository root from the server root.
fn repo_root(route: &SvnRoute, repo: &[String]) -> Vec<String> {
    route.prefix.iter().chain(repo).cloned().collect()
}

/// Whether `segments` (from the server root) lie in the repository at `root`, and locate
/// to a valid place there.
fn inside(segments: &[String], root: &[String]) -> bool {
    segments
        .strip_prefix(root)
        .is_some_and(|inner| area::locate(inner).is_ok())
}

/// The `Destination` path, when it is given once and stays inside the repository.
fn check_destination(
    request: &Request<'_>,
    route: &SvnRoute,
    repo: &[String],
) -> Result<String, Refusal> {
    let mut values = request.headers.get_all("destination").iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(Refusal::BadHeader {
            name: "destination".to_owned(),
            reason: "must be given exactly once",
        });
    };
    let value = value.to_str().map_err(|_| Refusal::BadHeader {
        name: "destination".to_owned(),
        reason: "is not visible ASCII",
    })?;
    let destination = parse_destination(value)?;
    if !inside(&destination.segments, &repo_root(route, repo)) {
        return Err(Refusal::OutsideRepository {
            what: "the Destination",
        });
    }
    Ok(destination.raw_path.to_owned())
}
