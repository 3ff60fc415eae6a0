//! Classification: from a canonical request head to a verdict — which repository, and
//! whether the request reads or writes it — or a refusal. Pure functions, no IO.
//!
//! Each protocol has its own module with a closed operation enum whose `access()` is an
//! exhaustive match, so a new operation cannot compile without a verdict. When a verdict
//! depends on body bytes (hg post args, svn MERGE), the classifier returns
//! [`Classified::NeedsBody`] with a pure incremental [`BodyRule`]; the proxy authenticates
//! first, then feeds it a bounded prefix of the body. The bound is the configured
//! `[limits] body_prefix_bytes` alone: a rule says how many bytes it needs
//! ([`Progress::NeedMore`]) and the proxy refuses a need beyond the bound.

pub mod git;
pub mod hg;
pub mod svn;
#[cfg(test)]
pub(crate) mod test_rows;
#[cfg(test)]
mod transcripts;

use http::{HeaderMap, HeaderValue, Method};

use crate::canon::Query;
use crate::vocabulary::Access;

/// A canonical request below its route prefix, as the classifiers see it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a Method,
    /// Decoded path segments below the route prefix (never empty strings, never `.`/`..`).
    pub segments: &'a [String],
    /// Whether the raw path ended with `/`.
    pub trailing_slash: bool,
    /// Decoded query with unique keys.
    pub query: &'a Query,
    pub headers: &'a HeaderMap,
}

/// Operation names for logs and messages, one closed enum per protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Git(git::GitOp),
    Hg(hg::HgOp),
    Svn(svn::SvnOp),
}

impl Operation {
    pub fn access(self) -> Access {
        match self {
            Operation::Git(op) => op.access(),
            Operation::Hg(op) => op.access(),
            Operation::Svn(op) => op.access(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Operation::Git(op) => op.name(),
            Operation::Hg(op) => op.name(),
            Operation::Svn(op) => op.name(),
        }
    }
}

/// A decided request: the repository (as path segments below the route prefix, before
/// `.git` stripping), the operation, and what forwarding needs from the headers the
/// classifier already read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub repo: Vec<String>,
    pub operation: Operation,
    pub forwarding: Forwarding,
}

/// Header values the classifier checked and forwarding passes on, so nothing is parsed
/// twice: whatever is not here is not forwarded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// Git: the one well-formed `Git-Protocol` value (it selects the protocol version only).
    pub git_protocol: Option<HeaderValue>,
    /// svn COPY/MOVE: the `Destination` path, checked to stay in the repository; sent with
    /// the backend's origin (mod_dav refuses another scheme, host or port).
    pub destination: Option<String>,
}

impl Verdict {
    pub fn new(repo: Vec<String>, operation: Operation) -> Self {
        Verdict {
            repo,
            operation,
            forwarding: Forwarding::default(),
        }
    }

    pub fn access(&self) -> Access {
        self.operation.access()
    }
}

/// What the classifier could decide from the head.
#[derive(Debug)]
pub enum Classified {
    Final(Verdict),
    /// The repository is known; the operation needs a prefix of the body.
    NeedsBody {
        repo: Vec<String>,
        rule: BodyRule,
    },
}

impl Classified {
    /// The repository, known from the head in both cases (segments below the route prefix).
    pub fn repo(&self) -> &[String] {
        match self {
            Classified::Final(verdict) => &verdict.repo,
            Classified::NeedsBody { repo, .. } => repo,
        }
    }
}

/// Result of feeding body bytes to a [`BodyRule`].
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The rule has decided; the bytes fed so far (and all later ones) are forwarded unchanged.
    Complete(Operation),
    /// The rule cannot decide before the prefix holds at least `total` bytes (always more
    /// than it holds now). The caller reads until then, and refuses when `total` exceeds
    /// its cap.
    NeedMore { total: usize },
}

/// A body-dependent decision.
#[derive(Debug)]
pub enum BodyRule {
    Hg(hg::PostArgs),
    Svn(svn::MergeBody),
    LfsBatch(git::lfs::LfsBatch),
}

impl BodyRule {
    /// Offers the whole prefix read so far (`prefix` grows between calls, and holds at least
    /// the `total` of the last [`Progress::NeedMore`] unless the body ended); `eof` says the
    /// body ended. Returns a refusal when the prefix cannot be classified. The answer depends
    /// only on the bytes, never on how they were split into calls.
    pub fn feed(&mut self, prefix: &[u8], eof: bool) -> Result<Progress, Refusal> {
        match self {
            BodyRule::Hg(rule) => rule.feed(prefix, eof),
            BodyRule::Svn(rule) => rule.feed(prefix, eof),
            BodyRule::LfsBatch(rule) => rule.feed(prefix, eof),
        }
    }
}

/// Why a request is not a valid VCS request. Every variant becomes a 400 whose text says
/// what was wrong. It names keys and headers from the protocol's own vocabulary, and
/// quotes nothing from the query, the headers or the body: a user may paste a token
/// anywhere, and the message reaches the response and the access log. Only parts of the
/// request path (which the access log records anyway) and the method are quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("method {method} is not allowed here")]
    Method { method: String },
    #[error("not a {vcs} endpoint: {what}")]
    UnknownEndpoint { vcs: &'static str, what: String },
    #[error("the query has a parameter other than {}", one_of(.allowed))]
    UnexpectedParam { allowed: &'static [&'static str] },
    #[error("query parameter {name:?} has an unsupported value")]
    BadParamValue { name: &'static str },
    #[error("missing query parameter {name:?}")]
    MissingParam { name: String },
    #[error("content type must be {expected}")]
    ContentType { expected: &'static str },
    #[error("no repository in the request path")]
    NoRepository,
    #[error("repository name is not allowed: {reason}")]
    BadRepository { reason: &'static str },
    #[error("bad header {name}: {reason}")]
    BadHeader { name: String, reason: &'static str },
    #[error("unknown {vcs} command")]
    UnknownCommand { vcs: &'static str },
    #[error("{vcs} arguments: {reason}")]
    BadArgument {
        vcs: &'static str,
        reason: &'static str,
    },
    #[error("malformed hg batch command list: {reason}")]
    BadBatch { reason: &'static str },
    #[error("{vcs} command {name} must be sent with POST")]
    WriteOverGet { vcs: &'static str, name: String },
    #[error("malformed request body: {reason}")]
    BadBody { reason: &'static str },
    #[error("{what} leaves the repository")]
    OutsideRepository { what: &'static str },
    #[error("{what} is not supported")]
    NotSupported { what: &'static str },
    #[error(
        "unsupported service: info/refs serves service=git-upload-pack (fetch) or \
         service=git-receive-pack (push)"
    )]
    BadService,
}

/// `"a"`, `"a" or "b"`, …; `no parameters` for none.
fn one_of(allowed: &[&str]) -> String {
    match allowed.split_last() {
        None => "none (no parameters are allowed)".to_owned(),
        Some((last, [])) => format!("{last:?}"),
        Some((last, rest)) => {
            let rest: Vec<String> = rest.iter().map(|name| format!("{name:?}")).collect();
            format!("{} or {last:?}", rest.join(", "))
        }
    }
}
