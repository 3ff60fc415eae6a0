//! Mercurial hgweb: wire protocol v1 and web pages (PROTOCOLS.md §3).
//!
//! A request with `cmd` in the query is a wire request ([`wire`]): the command decides read
//! or write, `batch` is decided from every command it carries ([`batch`]), and arguments may
//! come from the query, `X-HgArg-N` headers or the body ([`args`], [`PostArgs`]). Any other
//! request is an hgweb page ([`page`]), always a read, when the route says where the
//! repository ends.
//!
//! Methods: wire requests are GET or POST (hg's clients send nothing else, and `hg serve`
//! answers HEAD with 501); write commands only POST, as hgweb itself requires. Pages are GET
//! or HEAD.

mod args;
mod batch;
mod command;
mod page;
mod post;
#[cfg(test)]
mod tests;
mod wire;

use crate::vocabulary::Access;

use super::{Classified, Operation, Refusal, Request};

pub use command::HgCommand;
pub use post::PostArgs;

/// Every Mercurial request vcsgate lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HgOp {
    /// An hgweb page (log, file, archive…) or the repository root.
    Page,
    /// One wire command.
    Wire(HgCommand),
    /// `batch`, with the highest access over the commands it carries.
    Batch(Access),
}

impl HgOp {
    pub fn access(self) -> Access {
        match self {
            HgOp::Page => Access::Read,
            HgOp::Wire(command) => command.access(),
            HgOp::Batch(access) => access,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HgOp::Page => "hg-page",
            HgOp::Wire(command) => command.op_name(),
            HgOp::Batch(Access::Read) => "hg-batch-read",
            HgOp::Batch(Access::Write) => "hg-batch-write",
        }
    }
}

/// What the classifier needs to know about an hg route.
///
/// hgweb (hgwebdir) serves the longest path prefix that is a configured repository. Wire
/// requests are only valid at a repository root, so their whole path is the repository. A page
/// URL (`team/app/log/tip`) does not say where the repository ends, and guessing from the
/// first web-command keyword would be wrong: `team/log/log` would be checked against `team`
/// while hgweb serves the repository `team/log`. So pages need `repo_depth`:
///
/// - `Some(n)`: every repository behind this route is exactly `n` segments below the prefix
///   (none nested in another); the next segment, if any, must be a web command, and wire
///   requests must name exactly `n` segments (a shorter path is a directory, which hgwebdir
///   answers with a listing of the repositories below it). `Some(0)` means the route itself
///   is one repository (`hg serve -R repo`): the verdict's repository is then empty, and the
///   proxy uses the route prefix.
/// - `None`: page requests are refused; only wire requests are served. A wire request may
///   then name a directory; the proxy withholds the listing hgwebdir answers with (its
///   content type is not a wire protocol one).
///
/// With either, a last segment `index` is refused ([`check_repository`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HgRoute {
    pub repo_depth: Option<usize>,
}

/// Refuses repositories hgwebdir would not serve as one: a last segment `index` (hgwebdir
/// answers `index` and `DIR/index` with a listing of the repositories below the top or
/// `DIR`, whatever the grants say). A repository really called `index` is unreachable.
fn check_repository(repo: &[String]) -> Result<(), Refusal> {
    if repo.last().is_some_and(|last| last == "index") {
        return Err(Refusal::BadRepository {
            reason: "hgweb lists repositories at a path ending in 'index'",
        });
    }
    Ok(())
}

/// Whether a successful answer to a wire request is one: hgweb sends wire responses as
/// `application/mercurial-*` (0.1, 0.2, cbor) or `application/hg-error`. hgwebdir answers a
/// wire request for a directory with an HTML listing of the repositories below it instead;
/// the proxy withholds any other answer.
pub fn is_wire_response(headers: &http::HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.starts_with("application/mercurial-") || value == "application/hg-error"
        })
}

/// Classifies a canonical hg request below its route prefix.
pub fn classify(request: &Request<'_>, route: &HgRoute) -> Result<Classified, Refusal> {
    match request.query.get("cmd") {
        Some(name) => wire::classify(request, route, name),
        None => page::classify(request, route),
    }
}

fn operation(op: HgOp) -> Operation {
    Operation::Hg(op)
}
