//! Git smart HTTP (v0/v1/v2) and dumb HTTP (PROTOCOLS.md §1).
//!
//! | method    | endpoint (after the repository)  | condition                       | verdict |
//! |-----------|----------------------------------|---------------------------------|---------|
//! | GET, HEAD | `info/refs`                      | `service=git-upload-pack`       | read    |
//! | GET, HEAD | `info/refs`                      | `service=git-receive-pack`      | write   |
//! | GET, HEAD | `info/refs`                      | no query (dumb)                 | read    |
//! | POST      | `git-upload-pack`                | no query, exact content type    | read    |
//! | POST      | `git-upload-archive`             | no query, exact content type    | read    |
//! | POST      | `git-receive-pack`               | no query, exact content type    | write   |
//! | GET, HEAD | `HEAD`, `objects/…` (dumb files) | no query                        | read    |
//!
//! Everything else is refused: other methods (WebDAV from `git http-push`), other suffixes,
//! a trailing `/`, other query keys or values (compared after decoding, so
//! `service=git%2Dreceive-pack` is receive-pack), a query on POST (the path alone names
//! the service). Git LFS (`info/lfs/…`) is classified by [`lfs`].
//!
//! Content types are compared byte for byte with what git sends: parameters such as
//! `; charset=utf-8` and case variants are refused, as git-http-backend itself answers 415
//! to them. `Git-Protocol` never changes the verdict; [`git_protocol_header_ok`] tells the
//! proxy whether to forward it.

mod endpoint;
pub mod lfs;
mod repository;

#[cfg(test)]
mod tests;

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method};

use crate::canon::truncated;
use crate::vocabulary::Access;

use super::{Classified, Operation, Refusal, Request, Verdict};
use endpoint::{Endpoint, lfs_at, match_suffix};

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
    /// LFS `POST info/lfs/objects/batch` with `operation` `download`
    LfsBatchDownload,
    /// LFS `POST info/lfs/objects/batch` with `operation` `upload`
    LfsBatchUpload,
    /// LFS `GET info/lfs/objects/<oid>`
    LfsDownload,
    /// LFS `PUT info/lfs/objects/<oid>`
    LfsUpload,
    /// LFS `POST info/lfs/objects/<oid>/verify`
    LfsVerify,
    /// LFS `GET info/lfs/locks`
    LfsLockList,
    /// LFS `POST info/lfs/locks`
    LfsLockCreate,
    /// LFS `POST info/lfs/locks/verify`
    LfsLockVerify,
    /// LFS `POST info/lfs/locks/<id>/unlock`
    LfsUnlock,
}

impl GitOp {
    pub fn access(self) -> Access {
        match self {
            GitOp::UploadPackAdvertisement
            | GitOp::UploadPack
            | GitOp::UploadArchive
            | GitOp::DumbFetch
            | GitOp::LfsBatchDownload
            | GitOp::LfsDownload
            | GitOp::LfsLockList => Access::Read,
            GitOp::ReceivePackAdvertisement
            | GitOp::ReceivePack
            | GitOp::LfsBatchUpload
            | GitOp::LfsUpload
            | GitOp::LfsVerify
            | GitOp::LfsLockCreate
            | GitOp::LfsLockVerify
            | GitOp::LfsUnlock => Access::Write,
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
            GitOp::LfsBatchDownload => "lfs-batch-download",
            GitOp::LfsBatchUpload => "lfs-batch-upload",
            GitOp::LfsDownload => "lfs-download",
            GitOp::LfsUpload => "lfs-upload",
            GitOp::LfsVerify => "lfs-verify",
            GitOp::LfsLockList => "lfs-lock-list",
            GitOp::LfsLockCreate => "lfs-lock-create",
            GitOp::LfsLockVerify => "lfs-lock-verify",
            GitOp::LfsUnlock => "lfs-unlock",
        }
    }

    /// Whether the operation is Git LFS (`info/lfs/…`).
    pub fn is_lfs(self) -> bool {
        match self {
            GitOp::UploadPackAdvertisement
            | GitOp::ReceivePackAdvertisement
            | GitOp::UploadPack
            | GitOp::UploadArchive
            | GitOp::ReceivePack
            | GitOp::DumbFetch => false,
            GitOp::LfsBatchDownload
            | GitOp::LfsBatchUpload
            | GitOp::LfsDownload
            | GitOp::LfsUpload
            | GitOp::LfsVerify
            | GitOp::LfsLockList
            | GitOp::LfsLockCreate
            | GitOp::LfsLockVerify
            | GitOp::LfsUnlock => true,
        }
    }
}

const UPLOAD_PACK_REQUEST: &str = "application/x-git-upload-pack-request";
const UPLOAD_ARCHIVE_REQUEST: &str = "application/x-git-upload-archive-request";
const RECEIVE_PACK_REQUEST: &str = "application/x-git-receive-pack-request";

/// Classifies a canonical Git request below its route prefix. The verdict's repository is
/// every segment before the endpoint, `.git` not yet stripped.
pub fn classify(request: &Request<'_>) -> Result<Classified, Refusal> {
    let segments = request.segments;
    if let Some(at) = lfs_at(segments) {
        return lfs::classify(request, at);
    }
    let method = request.method;
    let (get, post) = (
        *method == Method::GET || *method == Method::HEAD,
        *method == Method::POST,
    );
    if !get && !post {
        return Err(refuse_method(method));
    }
    let (endpoint, len) = match match_suffix(segments) {
        Some(found) if !request.trailing_slash => found,
        _ => return Err(unknown_endpoint(segments, request.trailing_slash)),
    };
    if endpoint.is_rpc() != post {
        return Err(refuse_method(method));
    }
    let repo = segments
        .get(..segments.len().saturating_sub(len))
        .unwrap_or_default();
    repository::check(repo)?;
    let op = match endpoint {
        Endpoint::InfoRefs => info_refs(request)?,
        Endpoint::DumbFile => {
            no_query(request)?;
            GitOp::DumbFetch
        }
        Endpoint::UploadPack => rpc(request, UPLOAD_PACK_REQUEST, GitOp::UploadPack)?,
        Endpoint::UploadArchive => rpc(request, UPLOAD_ARCHIVE_REQUEST, GitOp::UploadArchive)?,
        Endpoint::ReceivePack => rpc(request, RECEIVE_PACK_REQUEST, GitOp::ReceivePack)?,
    };
    let mut verdict = Verdict::new(repo.to_vec(), Operation::Git(op));
    verdict.forwarding.git_protocol = accepted_git_protocol(request.headers);
    Ok(Classified::Final(verdict))
}

/// How many of `segments` (below the route prefix) name the repository: those before the
/// endpoint git-http-backend matches at the end. `None` when no endpoint matches.
pub fn repository_len<S: AsRef<str>>(segments: &[S]) -> Option<usize> {
    match_suffix(segments).map(|(_, len)| segments.len() - len)
}

/// `info/refs`: the service comes from the query, and only there.
fn info_refs(request: &Request<'_>) -> Result<GitOp, Refusal> {
    let query = request.query;
    if query.is_empty() {
        return Ok(GitOp::DumbFetch);
    }
    if query.first_key_outside(&["service"]).is_some() {
        return Err(Refusal::UnexpectedParam {
            allowed: &["service"],
        });
    }
    match query.get("service") {
        Some("git-upload-pack") => Ok(GitOp::UploadPackAdvertisement),
        Some("git-receive-pack") => Ok(GitOp::ReceivePackAdvertisement),
        _ => Err(Refusal::BadService),
    }
}

/// A POST endpoint: the path names the service; no query; the exact content type.
fn rpc(request: &Request<'_>, content_type: &'static str, op: GitOp) -> Result<GitOp, Refusal> {
    no_query(request)?;
    let mut values = request.headers.get_all(CONTENT_TYPE).iter();
    match (values.next(), values.next()) {
        (Some(value), None) if value.as_bytes() == content_type.as_bytes() => Ok(op),
        _ => Err(Refusal::ContentType {
            expected: content_type,
        }),
    }
}

fn no_query(request: &Request<'_>) -> Result<(), Refusal> {
    match request.query.is_empty() {
        false => Err(Refusal::UnexpectedParam { allowed: &[] }),
        true => Ok(()),
    }
}

fn refuse_method(method: &Method) -> Refusal {
    Refusal::Method {
        method: truncated(method.as_str()),
    }
}

fn unknown_endpoint(segments: &[String], trailing_slash: bool) -> Refusal {
    let mut path = segments.join("/");
    if trailing_slash {
        path.push('/');
    }
    // The end of the path is what names the endpoint: quote that part.
    let shown = match path.char_indices().rev().nth(MAX_QUOTED_PATH) {
        Some((cut, c)) => format!("…{}", &path[cut + c.len_utf8()..]),
        None => path,
    };
    let what = if trailing_slash {
        format!("{shown:?} (no Git endpoint ends with '/')")
    } else {
        format!(
            "{shown:?} (expected …/info/refs, …/git-upload-pack, …/git-receive-pack, \
             …/git-upload-archive or a dumb-protocol file)"
        )
    };
    Refusal::UnknownEndpoint { vcs: "git", what }
}

/// How many characters of the path end an unknown-endpoint message quotes.
const MAX_QUOTED_PATH: usize = 80;

/// Longest `Git-Protocol` value forwarded; git sends `version=2` (or `version=1`).
const MAX_GIT_PROTOCOL_LEN: usize = 256;

/// Whether a `Git-Protocol` header may be forwarded: `key=value(:key=value)*` with ASCII
/// alphanumeric keys and values, as git sends (`version=2`). A malformed one is dropped by
/// the proxy; it never changes the verdict.
/// The `Git-Protocol` value to forward: only a single well-formed one.
fn accepted_git_protocol(headers: &http::HeaderMap) -> Option<HeaderValue> {
    let mut values = headers.get_all("git-protocol").iter();
    match (values.next(), values.next()) {
        (Some(value), None) if git_protocol_header_ok(value) => Some(value.clone()),
        _ => None,
    }
}

pub fn git_protocol_header_ok(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    let alnum = |part: &[u8]| !part.is_empty() && part.iter().all(u8::is_ascii_alphanumeric);
    bytes.len() <= MAX_GIT_PROTOCOL_LEN
        && bytes.split(|b| *b == b':').all(|pair| {
            let mut halves = pair.split(|b| *b == b'=');
            matches!(
                (halves.next(), halves.next(), halves.next()),
                (Some(key), Some(value), None) if alnum(key) && alnum(value)
            )
        })
}
