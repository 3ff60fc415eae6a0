//! LFS objects on disk: download, upload (temp file → checked → renamed), verify.

use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{Failure, LfsRequest, json};
use crate::classify::git::lfs::is_oid;
use crate::config::LfsSettings;
use crate::proxy::body::{Body, BodyError};

/// Where an object lives: `<repo>/lfs/objects/aa/bb/<oid>` (git-lfs's own layout).
pub fn object_path(repo: &Path, oid: &str) -> Option<PathBuf> {
    if !is_oid(oid) {
        return None;
    }
    Some(
        repo.join("lfs")
            .join("objects")
            .join(&oid[0..2])
            .join(&oid[2..4])
            .join(oid),
    )
}

/// The size of a stored object, `None` when absent.
pub async fn stored_size(repo: &Path, oid: &str) -> Option<u64> {
    let path = object_path(repo, oid)?;
    let meta = tokio::fs::metadata(path).await.ok()?;
    meta.is_file().then_some(meta.len())
}

fn oid_of(request: &LfsRequest<'_>) -> Result<String, Failure> {
    match request.below.get(1) {
        Some(oid) if is_oid(oid) => Ok(oid.clone()),
        _ => Err(Failure::new(StatusCode::NOT_FOUND, "not an LFS object")),
    }
}

/// `GET objects/<oid>`: the object, streamed from disk.
pub async fn download(request: &LfsRequest<'_>) -> Result<Response<Body>, Failure> {
    let oid = oid_of(request)?;
    let missing = || Failure::new(StatusCode::NOT_FOUND, "object does not exist");
    let path = object_path(&request.repo_dir, &oid).ok_or_else(missing)?;
    let file = tokio::fs::File::open(&path).await.map_err(|_| missing())?;
    let len = file
        .metadata()
        .await
        .map_err(|e| Failure::internal("stat object", e))?
        .len();
    let stream = tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024)
        .map(|chunk| chunk.map(http_body::Frame::data).map_err(BodyError::from));
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(stream)));
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    Ok(response)
}

/// `PUT objects/<oid>`: streamed to a temporary file while hashing and counting; renamed
/// into place only when the SHA-256 is the oid and the size is within the limit (and equal
/// to `Content-Length` when given). A temporary file that is not renamed is removed.
pub async fn upload(
    settings: &LfsSettings,
    request: &LfsRequest<'_>,
    body: Body,
) -> Result<Response<Body>, Failure> {
    let oid = oid_of(request)?;
    let max = settings.max_object_bytes;
    if request.content_length.is_some_and(|len| len > max) {
        return Err(too_large(max));
    }
    let target = object_path(&request.repo_dir, &oid)
        .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, "not an LFS object"))?;
    let tmp_dir = request.repo_dir.join("lfs").join("tmp");
    tokio::fs::create_dir_all(&tmp_dir)
        .await
        .map_err(|e| Failure::internal("create lfs/tmp", e))?;
    let mut tmp = Temp {
        path: tmp_dir.join(format!("{oid}-{}", random_suffix()?)),
        armed: true,
    };
    let size = receive(&tmp.path, body, max).await?;
    if request.content_length.is_some_and(|len| len != size.1) {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "upload ended before Content-Length bytes",
        ));
    }
    if size.0 != oid {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "uploaded data does not match the object id (SHA-256)",
        ));
    }
    if let Some(parent) = target.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| Failure::internal("create object directory", e))?;
    }
    // Same content under the same name: whichever of two concurrent uploads renames last
    // replaces an identical file, atomically.
    tokio::fs::rename(&tmp.path, &target)
        .await
        .map_err(|e| Failure::internal("rename object into place", e))?;
    tmp.armed = false;
    Ok(json(StatusCode::OK, &serde_json::json!({})))
}

/// Streams `body` into a new file at `path`; returns (SHA-256 hex, size).
async fn receive(path: &Path, mut body: Body, max: u64) -> Result<(String, u64), Failure> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .map_err(|e| Failure::internal("create temporary object", e))?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| Failure::new(StatusCode::BAD_REQUEST, "upload interrupted"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        size += data.len() as u64;
        if size > max {
            return Err(too_large(max));
        }
        hasher.update(&data);
        file.write_all(&data)
            .await
            .map_err(|e| Failure::internal("write temporary object", e))?;
    }
    file.sync_all()
        .await
        .map_err(|e| Failure::internal("sync temporary object", e))?;
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, size))
}

fn too_large(max: u64) -> Failure {
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("object larger than lfs_max_object_bytes ({max} bytes)"),
    )
}

fn random_suffix() -> Result<String, Failure> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| Failure::internal("randomness", e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A temporary file removed when dropped while armed (not renamed into place).
struct Temp {
    path: PathBuf,
    armed: bool,
}

impl Drop for Temp {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[derive(Deserialize)]
struct VerifyBody {
    oid: String,
    size: u64,
}

/// `POST objects/<oid>/verify`: the object exists with the size the client uploaded.
pub async fn verify(request: &LfsRequest<'_>, body: Body) -> Result<Response<Body>, Failure> {
    let oid = oid_of(request)?;
    let asked: VerifyBody = super::read_json(body).await?;
    if asked.oid != oid {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "verify body names another object",
        ));
    }
    match stored_size(&request.repo_dir, &oid).await {
        Some(size) if size == asked.size => Ok(json(StatusCode::OK, &serde_json::json!({}))),
        Some(_) => Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "stored object has another size",
        )),
        None => Err(Failure::new(StatusCode::NOT_FOUND, "object does not exist")),
    }
}
