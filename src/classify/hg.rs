//! Mercurial hgweb wire protocol v1 and web pages (PROTOCOLS.md §3).

use crate::access::Access;

use super::{Classified, Progress, Refusal, Request};

/// Every Mercurial request vcsgate lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HgOp {
    /// An hgweb page (log, file, archive…) or the repository root.
    Page,
}

impl HgOp {
    pub fn access(self) -> Access {
        match self {
            HgOp::Page => Access::Read,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HgOp::Page => "hg-page",
        }
    }
}

/// The body-dependent part of an hg request with `X-HgArgs-Post`.
#[derive(Debug)]
pub struct PostArgs {
    pub length: usize,
}

impl PostArgs {
    pub fn feed(&mut self, prefix: &[u8], eof: bool) -> Result<Progress, Refusal> {
        let _ = (prefix, eof);
        Err(Refusal::BadBody {
            reason: "not implemented",
        })
    }
}

/// Classifies a canonical hg request below its route prefix.
pub fn classify(request: &Request<'_>) -> Result<Classified, Refusal> {
    let _ = request;
    Err(Refusal::NoRepository)
}
