//! Routes for the hg and svn classifiers, chosen by the first path segment (the route
//! prefix, one segment deep), so the fuzzer explores every route shape:
//!
//! - hg: `hgwire` serves wire requests only (`repo_depth` unset), `hg0` is one repository,
//!   `hg1` has one-segment repositories, anything else (`hg`, `hgpost` in the transcripts)
//!   two-segment repositories;
//! - svn: a prefix starting with `single` is one repository (`SVNPath`), anything else
//!   holds repositories (`SVNParentPath`).

use crate::classify::hg::HgRoute;
use crate::classify::svn::{SvnLayout, SvnRoute};

pub fn hg(prefix: &str) -> HgRoute {
    let repo_depth = match prefix {
        "hgwire" => None,
        "hg0" => Some(0),
        "hg1" => Some(1),
        _ => Some(2),
    };
    HgRoute { repo_depth }
}

pub fn svn(prefix: &str) -> SvnRoute {
    let layout = if prefix.starts_with("single") {
        SvnLayout::SingleRepository
    } else {
        SvnLayout::ParentPath
    };
    SvnRoute {
        prefix: vec![prefix.to_owned()],
        layout,
    }
}
