#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::VecDeque;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use http_body::Frame;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use super::*;

/// A request body arriving in these frames, optionally failing after them (a client that
/// went away mid-upload).
struct Frames(VecDeque<Bytes>, bool);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = crate::proxy::body::BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.0.pop_front() {
            Some(data) => Poll::Ready(Some(Ok(Frame::data(data)))),
            None if self.1 => Poll::Ready(Some(Err("connection reset".into()))),
            None => Poll::Ready(None),
        }
    }
}

fn body(data: &[u8], chunk: usize, fail: bool) -> Body {
    let frames = data
        .chunks(chunk.max(1))
        .map(Bytes::copy_from_slice)
        .collect();
    Frames(frames, fail).boxed()
}

fn oid(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn request<'a>(repo: &Path, op: GitOp, below: &[&str], len: Option<u64>) -> LfsRequest<'a> {
    LfsRequest {
        op,
        repo_dir: repo.to_path_buf(),
        base_url: "http://127.0.0.1:1/local/app.git/info/lfs",
        below: below.iter().map(|s| (*s).to_owned()).collect(),
        query: None,
        user: "alice",
        content_length: len,
    }
}

const SETTINGS: LfsSettings = LfsSettings {
    max_object_bytes: 1 << 20,
};

async fn put(repo: &Path, data: &[u8], id: &str, fail: bool) -> StatusCode {
    let req = request(repo, GitOp::LfsUpload, &["objects", id], None);
    serve(Some(SETTINGS), req, body(data, 1000, fail))
        .await
        .status()
}

fn temp_files(repo: &Path) -> usize {
    std::fs::read_dir(repo.join("lfs/tmp")).map_or(0, |d| d.count())
}

#[tokio::test]
async fn uploads_are_checked_before_they_become_visible() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let data = vec![7u8; 300_000];
    let id = oid(&data);
    let stored = objects::object_path(repo, &id).unwrap();
    // Wrong content, a broken stream, too large: nothing stored, nothing left behind.
    assert_eq!(
        put(repo, b"other", &id, false).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(put(repo, &data, &id, true).await, StatusCode::BAD_REQUEST);
    let big = vec![1u8; (SETTINGS.max_object_bytes + 1) as usize];
    assert_eq!(
        put(repo, &big, &oid(&big), false).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    assert!(!stored.exists());
    assert_eq!(temp_files(repo), 0);
    // A Content-Length over the limit is refused before reading.
    let req = request(repo, GitOp::LfsUpload, &["objects", &id], Some(u64::MAX));
    let answer = serve(Some(SETTINGS), req, body(&data, 1000, false)).await;
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // The right bytes, twice at once: one object, intact.
    let (a, b) = tokio::join!(put(repo, &data, &id, false), put(repo, &data, &id, false));
    assert_eq!((a, b), (StatusCode::OK, StatusCode::OK));
    assert_eq!(std::fs::read(&stored).unwrap(), data);
    assert_eq!(temp_files(repo), 0);
    // Download streams it back.
    let req = request(repo, GitOp::LfsDownload, &["objects", &id], None);
    let answer = serve(Some(SETTINGS), req, crate::proxy::body::empty()).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let got = answer.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&got[..], &data[..]);
}

#[tokio::test]
async fn batch_answers_point_back_at_the_lfs_url() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    let data = b"hello";
    let id = oid(data);
    let batch = |op: &str| {
        format!(
            r#"{{"operation":"{op}","objects":[{{"oid":"{id}","size":5}},{{"oid":"xyz","size":1}}]}}"#
        )
    };
    let ask = |op: GitOp, text: String| {
        let req = request(repo, op, &["objects", "batch"], None);
        async move {
            let answer = serve(Some(SETTINGS), req, body(text.as_bytes(), 7, false)).await;
            let bytes = answer.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        }
    };
    let up = ask(GitOp::LfsBatchUpload, batch("upload")).await;
    let href = format!("http://127.0.0.1:1/local/app.git/info/lfs/objects/{id}");
    assert_eq!(up["objects"][0]["actions"]["upload"]["href"], href.as_str());
    assert_eq!(
        up["objects"][0]["actions"]["verify"]["href"],
        format!("{href}/verify").as_str()
    );
    assert_eq!(up["objects"][1]["error"]["code"], 422);
    let down = ask(GitOp::LfsBatchDownload, batch("download")).await;
    assert_eq!(down["objects"][0]["error"]["code"], 404);
    assert_eq!(put(repo, data, &id, false).await, StatusCode::OK);
    let down = ask(GitOp::LfsBatchDownload, batch("download")).await;
    assert_eq!(
        down["objects"][0]["actions"]["download"]["href"],
        href.as_str()
    );
    let up = ask(GitOp::LfsBatchUpload, batch("upload")).await;
    assert!(
        up["objects"][0].get("actions").is_none(),
        "already stored: {up}"
    );
    // LFS off on the route.
    let req = request(repo, GitOp::LfsBatchUpload, &["objects", "batch"], None);
    let off = serve(None, req, body(batch("upload").as_bytes(), 7, false)).await;
    assert_eq!(off.status(), StatusCode::NOT_FOUND);
}
