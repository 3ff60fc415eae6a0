//! The LFS locks API: one JSON file per lock in `<repo>/lfs/locks/<id>.json`, where the id
//! is the SHA-256 of the locked path (one lock per path; creating the file exclusively makes
//! two concurrent locks of one path impossible). The owner is the vcsgate user. Unlocking
//! another user's lock needs `force` (and, like every lock change, a write grant).

use std::path::{Path, PathBuf};

use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{Failure, LfsRequest, json};
use crate::classify::git::lfs::is_lock_id;
use crate::proxy::body::Body;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Lock {
    pub id: String,
    pub path: String,
    pub locked_at: String,
    pub owner: Owner,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Owner {
    pub name: String,
}

#[derive(Deserialize)]
struct CreateBody {
    path: String,
}

#[derive(Deserialize, Default)]
struct UnlockBody {
    #[serde(default)]
    force: bool,
}

/// Longest lockable path.
const MAX_PATH: usize = 4096;

fn locks_dir(repo: &Path) -> PathBuf {
    repo.join("lfs").join("locks")
}

fn lock_id(path: &str) -> String {
    Sha256::digest(path.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn lock_file(repo: &Path, id: &str) -> Option<PathBuf> {
    is_lock_id(id).then(|| locks_dir(repo).join(format!("{id}.json")))
}

async fn read_lock(file: &Path) -> Option<Lock> {
    let bytes = tokio::fs::read(file).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Every lock of the repository, by path.
async fn all_locks(repo: &Path) -> Result<Vec<Lock>, Failure> {
    let mut entries = match tokio::fs::read_dir(locks_dir(repo)).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Failure::internal("list locks", e)),
    };
    let mut locks = Vec::new();
    while let Some(entry) = entries
        .next_entry()
        .await
        .map_err(|e| Failure::internal("list locks", e))?
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json")
            && let Some(lock) = read_lock(&path).await
        {
            locks.push(lock);
        }
    }
    locks.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(locks)
}

/// `POST locks`: 201 with the new lock, or 409 with the existing one.
pub async fn create(request: &LfsRequest<'_>, body: Body) -> Result<Response<Body>, Failure> {
    let asked: CreateBody = super::read_json(body).await?;
    if asked.path.is_empty() || asked.path.len() > MAX_PATH || asked.path.contains('\0') {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "lock path must be a non-empty file path",
        ));
    }
    let lock = Lock {
        id: lock_id(&asked.path),
        path: asked.path,
        locked_at: now_rfc3339(),
        owner: Owner {
            name: request.user.to_owned(),
        },
    };
    let dir = locks_dir(&request.repo_dir);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| Failure::internal("create lfs/locks", e))?;
    let file = dir.join(format!("{}.json", lock.id));
    let text = serde_json::to_vec(&lock).map_err(|e| Failure::internal("encode lock", e))?;
    // Written under a temporary name and hard-linked into place: the link fails if the lock
    // exists, and a reader never sees a half-written lock.
    let mut salt = [0u8; 8];
    getrandom::fill(&mut salt).map_err(|e| Failure::internal("randomness", e.to_string()))?;
    let salt: String = salt.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = dir.join(format!(".{}.{salt}", lock.id));
    let mut out = tokio::fs::File::create(&tmp)
        .await
        .map_err(|e| Failure::internal("write lock", e))?;
    out.write_all(&text)
        .await
        .map_err(|e| Failure::internal("write lock", e))?;
    out.sync_all()
        .await
        .map_err(|e| Failure::internal("write lock", e))?;
    let linked = tokio::fs::hard_link(&tmp, &file).await;
    let _ = tokio::fs::remove_file(&tmp).await;
    match linked {
        Ok(()) => Ok(json(
            StatusCode::CREATED,
            &serde_json::json!({ "lock": lock }),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let existing = read_lock(&file).await;
            Ok(json(
                StatusCode::CONFLICT,
                &serde_json::json!({ "lock": existing, "message": "already created lock" }),
            ))
        }
        Err(e) => Err(Failure::internal("create lock", e)),
    }
}

/// `GET locks?path=&id=&limit=`: the matching locks.
pub async fn list(request: &LfsRequest<'_>) -> Result<Response<Body>, Failure> {
    let mut locks = all_locks(&request.repo_dir).await?;
    let mut limit = usize::MAX;
    for (key, value) in query_pairs(request.query.unwrap_or("")) {
        match key.as_str() {
            "path" => locks.retain(|l| l.path == value),
            "id" => locks.retain(|l| l.id == value),
            "limit" => limit = value.parse().unwrap_or(usize::MAX),
            _ => {}
        }
    }
    locks.truncate(limit);
    Ok(json(StatusCode::OK, &serde_json::json!({ "locks": locks })))
}

/// `POST locks/verify`: the caller's locks and everyone else's.
pub async fn verify(request: &LfsRequest<'_>, body: Body) -> Result<Response<Body>, Failure> {
    let _: serde_json::Value = super::read_json(body).await?;
    let (ours, theirs): (Vec<Lock>, Vec<Lock>) = all_locks(&request.repo_dir)
        .await?
        .into_iter()
        .partition(|l| l.owner.name == request.user);
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({ "ours": ours, "theirs": theirs }),
    ))
}

/// `POST locks/<id>/unlock`: removes the caller's lock, or another's with `force`.
pub async fn unlock(request: &LfsRequest<'_>, body: Body) -> Result<Response<Body>, Failure> {
    let asked: UnlockBody = super::read_json(body).await?;
    let missing = || Failure::new(StatusCode::NOT_FOUND, "no such lock");
    let id = request.below.get(1).ok_or_else(missing)?;
    let file = lock_file(&request.repo_dir, id).ok_or_else(missing)?;
    let lock = read_lock(&file).await.ok_or_else(missing)?;
    if lock.owner.name != request.user && !asked.force {
        return Err(Failure::new(
            StatusCode::FORBIDDEN,
            format!(
                "lock on {} is owned by {}; unlock with --force",
                lock.path, lock.owner.name
            ),
        ));
    }
    match tokio::fs::remove_file(&file).await {
        Ok(()) => Ok(json(StatusCode::OK, &serde_json::json!({ "lock": lock }))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(missing()),
        Err(e) => Err(Failure::internal("remove lock", e)),
    }
}

/// `a=b&c=d` decoded (`+` is a space, as git-lfs's Go client encodes).
fn query_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let spaced = s.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (decode(k), decode(v)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
