//! Git smart HTTP (v0/v1/v2) and dumb HTTP (PROTOCOLS.md §1).

use crate::access::Access;

use super::{Classified, Refusal, Request};

/// Every Git request vcsgate lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitOp {
    /// `GET info/refs?service=git-upload-pack`
    UploadPackAdvertisement,
    /// `GET info/refs?service=git-receive-pack`
    ReceivePackAdvertisement,
    /// `POST git-upload-pack`
    UploadPack,
    /// `POST git-upload-archive`
    UploadArchive,
    /// `POST git-receive-pack`
    ReceivePack,
    /// Dumb protocol: `info/refs` without a service, `HEAD`, `objects/…`
    DumbFetch,
}

impl GitOp {
    pub fn access(self) -> Access {
        match self {
            GitOp::UploadPackAdvertisement
            | GitOp::UploadPack
            | GitOp::UploadArchive
            | GitOp::DumbFetch => Access::Read,
            GitOp::ReceivePackAdvertisement | GitOp::ReceivePack => Access::Write,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            GitOp::UploadPackAdvertisement => "git-upload-pack-refs",
            GitOp::ReceivePackAdvertisement => "git-receive-pack-refs",
            GitOp::UploadPack => "git-upload-pack",
            GitOp::UploadArchive => "git-upload-archive",
            GitOp::ReceivePack => "git-receive-pack",
            GitOp::DumbFetch => "git-dumb-fetch",
        }
    }
}

/// Classifies a canonical Git request below its route prefix.
pub fn classify(request: &Request<'_>) -> Result<Classified, Refusal> {
    let _ = request;
    Err(Refusal::NoRepository)
}
