//! Subversion mod_dav_svn, HTTP v1 and v2 (PROTOCOLS.md §4).

use crate::access::Access;

use super::{Classified, Progress, Refusal, Request};

/// Every Subversion request vcsgate lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SvnOp {
    /// GET, HEAD, OPTIONS, PROPFIND, REPORT outside commit-only areas.
    Read,
}

impl SvnOp {
    pub fn access(self) -> Access {
        match self {
            SvnOp::Read => Access::Read,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SvnOp::Read => "svn-read",
        }
    }
}

/// The body-dependent part of a MERGE: its `<D:source><D:href>` must stay in the repository.
#[derive(Debug)]
pub struct MergeBody {
    pub repo_root: String,
}

impl MergeBody {
    pub fn feed(&mut self, prefix: &[u8], eof: bool) -> Result<Progress, Refusal> {
        let _ = (prefix, eof);
        Err(Refusal::BadBody {
            reason: "not implemented",
        })
    }
}

/// Classifies a canonical svn request below its route prefix.
pub fn classify(request: &Request<'_>) -> Result<Classified, Refusal> {
    let _ = request;
    Err(Refusal::NoRepository)
}
