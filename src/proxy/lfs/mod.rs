//! Git LFS served by the built-in backend (ACCESS.md "Git LFS"): the batch API with the
//! `basic` transfer, object download and upload, verify, and the locks API. The request was
//! classified and authorized like every other (an upload is a write); this module only
//! serves it, from the repository directory the built-in Git backend serves.
//!
//! - [`batch`]: answers a batch request with hrefs back at vcsgate (same origin, same
//!   credentials: git-lfs sends the remote's credentials along);
//! - [`objects`]: `<repo>/lfs/objects/aa/bb/<oid>`, streamed to and from disk; an upload
//!   goes to a temporary file in `<repo>/lfs/tmp`, is checked against its oid (SHA-256) and
//!   size, then renamed into place, so an object is never partial or wrong, concurrent
//!   uploads of one object are harmless and a crash leaves at most a temporary file;
//! - [`locks`]: one JSON file per lock in `<repo>/lfs/locks`, created exclusively.

pub mod batch;
pub mod locks;
pub mod objects;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;
use serde::Serialize;

use super::body::{self, Body};
use crate::classify::git::GitOp;
use crate::config::LfsSettings;

/// The media type of every LFS API request and answer.
pub const LFS_JSON: &str = "application/vnd.git-lfs+json";

/// Largest JSON body of a batch, verify or lock request read here (the batch was already
/// read under `[limits] body_prefix_bytes` to classify it).
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// One LFS request for the built-in backend.
#[derive(Debug)]
pub struct LfsRequest<'a> {
    pub op: GitOp,
    /// The repository directory (already resolved: `ROOT/team/app.git` or `ROOT/team/app`).
    pub repo_dir: PathBuf,
    /// The URL of `…/info/lfs` as the client reached it, for batch hrefs.
    pub base_url: &'a str,
    /// The path segments below `info/lfs` (`objects/<oid>`, `locks/<id>/unlock`, …).
    pub below: Vec<String>,
    pub query: Option<&'a str>,
    /// The vcsgate user (lock owner).
    pub user: &'a str,
    pub content_length: Option<u64>,
}

/// Serves one LFS request; every failure becomes an LFS JSON error answer.
pub async fn serve(
    settings: Option<LfsSettings>,
    request: LfsRequest<'_>,
    body: Body,
) -> Response<Body> {
    let Some(settings) = settings else {
        return error(
            StatusCode::NOT_FOUND,
            "Git LFS is not enabled on this route",
        );
    };
    let result = match request.op {
        GitOp::LfsBatchDownload | GitOp::LfsBatchUpload => {
            batch::serve(&settings, &request, body).await
        }
        GitOp::LfsDownload => objects::download(&request).await,
        GitOp::LfsUpload => objects::upload(&settings, &request, body).await,
        GitOp::LfsVerify => objects::verify(&request, body).await,
        GitOp::LfsLockList => locks::list(&request).await,
        GitOp::LfsLockCreate => locks::create(&request, body).await,
        GitOp::LfsLockVerify => locks::verify(&request, body).await,
        GitOp::LfsUnlock => locks::unlock(&request, body).await,
        GitOp::UploadPackAdvertisement
        | GitOp::ReceivePackAdvertisement
        | GitOp::UploadPack
        | GitOp::UploadArchive
        | GitOp::ReceivePack
        | GitOp::DumbFetch => Err(Failure::new(StatusCode::NOT_FOUND, "not an LFS request")),
    };
    result.unwrap_or_else(|failure| {
        if failure.status.is_server_error() {
            tracing::error!(message = %failure.message, "built-in LFS failed");
        }
        error(failure.status, &failure.message)
    })
}

/// An LFS error answer to give.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub message: String,
}

impl Failure {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// Our fault: the message is logged, the client gets a generic one.
    pub fn internal(what: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "built-in LFS: {what}");
        Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "LFS storage error")
    }
}

/// `{"message": …}` with the LFS media type, as git-lfs shows it.
pub fn error(status: StatusCode, message: &str) -> Response<Body> {
    json(status, &serde_json::json!({ "message": message }))
}

pub fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(body::full(Bytes::from(text)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(LFS_JSON),
    );
    response
}

/// Reads a small JSON request body (at most [`MAX_JSON_BYTES`]).
pub async fn read_json<T: serde::de::DeserializeOwned>(mut body: Body) -> Result<T, Failure> {
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| Failure::new(StatusCode::BAD_REQUEST, "body read failed"))?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_JSON_BYTES {
                return Err(Failure::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "LFS request body too large",
                ));
            }
            bytes.extend_from_slice(&data);
        }
    }
    serde_json::from_slice(&bytes).map_err(|_| {
        Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "malformed LFS request body",
        )
    })
}
