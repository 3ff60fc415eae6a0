//! Where a path inside a Subversion repository points: the public tree, or one of
//! mod_dav_svn's special areas below `<repo>/!svn/` (`mod_dav_svn/repos.c`, the
//! `special_subdirs` table; vcsgate assumes the default `SVNSpecialURI` of `!svn`).

use crate::canon::truncated;
use crate::classify::Refusal;

/// The special URI segment mod_dav_svn reserves directly below a repository root.
pub(super) const SPECIAL: &str = "!svn";

/// A place inside a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// A path of the versioned tree (or the repository root).
    Public,
    /// `!svn/<area>/…`
    Special(Area),
}

/// mod_dav_svn's special areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Area {
    /// `act`: activities (HTTP v1 commits).
    Activity,
    /// `wrk`: working resources of an activity.
    Working,
    /// `wbl`: working baselines.
    WorkingBaseline,
    /// `txn`: HTTP v2 transaction.
    Transaction,
    /// `txr`: HTTP v2 transaction root (paths being committed).
    TransactionRoot,
    /// `vtxn`: HTTP v2 transaction under a client-chosen name.
    VirtualTransaction,
    /// `vtxr`: its root.
    VirtualTransactionRoot,
    /// `ver`: a node at a revision.
    Version,
    /// `his`: version history.
    History,
    /// `bln`: a baseline (a revision as a whole).
    Baseline,
    /// `bc`: a baseline collection (the tree at a revision).
    BaselineCollection,
    /// `vcc`: the version-controlled configuration.
    Vcc,
    /// `me`: the HTTP v2 "me" resource (POST creates a transaction).
    Me,
    /// `rev`: HTTP v2 revision resource.
    Revision,
    /// `rvr`: HTTP v2 revision root.
    RevisionRoot,
}

impl Area {
    const ALL: [Area; 15] = [
        Area::Activity,
        Area::Working,
        Area::WorkingBaseline,
        Area::Transaction,
        Area::TransactionRoot,
        Area::VirtualTransaction,
        Area::VirtualTransactionRoot,
        Area::Version,
        Area::History,
        Area::Baseline,
        Area::BaselineCollection,
        Area::Vcc,
        Area::Me,
        Area::Revision,
        Area::RevisionRoot,
    ];

    fn segment(self) -> &'static str {
        match self {
            Area::Activity => "act",
            Area::Working => "wrk",
            Area::WorkingBaseline => "wbl",
            Area::Transaction => "txn",
            Area::TransactionRoot => "txr",
            Area::VirtualTransaction => "vtxn",
            Area::VirtualTransactionRoot => "vtxr",
            Area::Version => "ver",
            Area::History => "his",
            Area::Baseline => "bln",
            Area::BaselineCollection => "bc",
            Area::Vcc => "vcc",
            Area::Me => "me",
            Area::Revision => "rev",
            Area::RevisionRoot => "rvr",
        }
    }

    /// Areas that only exist to build a commit: any request there is a write.
    pub(super) fn is_commit_only(self) -> bool {
        match self {
            Area::Activity
            | Area::Working
            | Area::WorkingBaseline
            | Area::Transaction
            | Area::TransactionRoot
            | Area::VirtualTransaction
            | Area::VirtualTransactionRoot => true,
            Area::Version
            | Area::History
            | Area::Baseline
            | Area::BaselineCollection
            | Area::Vcc
            | Area::Me
            | Area::Revision
            | Area::RevisionRoot => false,
        }
    }

    /// Areas whose properties are revision properties (`svn:log`, `svn:author`…).
    pub(super) fn holds_revision_properties(self) -> bool {
        matches!(self, Area::Revision | Area::Baseline)
    }
}

/// Locates `inner` (the segments below the repository root). `!svn` is only special directly
/// below the root; anywhere deeper it would be an ordinary file name to mod_dav_svn, but
/// other tools may not agree, so it is refused. An unknown area is refused.
pub(super) fn locate(inner: &[String]) -> Result<Place, Refusal> {
    if inner.iter().skip(1).any(|segment| segment == SPECIAL) {
        return Err(Refusal::UnknownEndpoint {
            vcs: "svn",
            what: "\"!svn\" below the repository root".to_owned(),
        });
    }
    if inner.first().map(String::as_str) != Some(SPECIAL) {
        return Ok(Place::Public);
    }
    let Some(name) = inner.get(1) else {
        return Err(Refusal::UnknownEndpoint {
            vcs: "svn",
            what: "\"!svn\" without an area".to_owned(),
        });
    };
    Area::ALL
        .into_iter()
        .find(|area| area.segment() == name)
        .map(Place::Special)
        .ok_or_else(|| Refusal::UnknownEndpoint {
            vcs: "svn",
            what: format!("unknown area \"!svn/{}\"", truncated(name)),
        })
}
