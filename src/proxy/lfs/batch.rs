//! The batch API (`POST info/lfs/objects/batch`), `basic` transfer only: for a download,
//! an href per stored object; for an upload, an upload and a verify href per object not
//! yet stored. Hrefs point back at vcsgate under the same `…/info/lfs` URL, so the client
//! sends the same credentials and every transfer is classified and authorized again.

use http::{Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::objects::stored_size;
use super::{Failure, LfsRequest, json};
use crate::classify::git::GitOp;
use crate::classify::git::lfs::is_oid;
use crate::config::LfsSettings;
use crate::proxy::body::Body;

#[derive(Deserialize)]
struct BatchRequest {
    #[serde(default)]
    transfers: Option<Vec<String>>,
    objects: Vec<Pointer>,
    #[serde(default)]
    hash_algo: Option<String>,
}

#[derive(Deserialize)]
struct Pointer {
    oid: String,
    size: u64,
}

#[derive(Serialize)]
struct BatchResponse {
    transfer: &'static str,
    objects: Vec<ObjectAnswer>,
    hash_algo: &'static str,
}

#[derive(Serialize)]
struct ObjectAnswer {
    oid: String,
    size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    actions: Option<Actions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ObjectError>,
}

#[derive(Serialize, Default)]
struct Actions {
    #[serde(skip_serializing_if = "Option::is_none")]
    download: Option<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upload: Option<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verify: Option<Action>,
}

#[derive(Serialize)]
struct Action {
    href: String,
}

#[derive(Serialize)]
struct ObjectError {
    code: u16,
    message: String,
}

/// Most objects one batch request may name (git-lfs sends at most 100).
const MAX_OBJECTS: usize = 1000;

pub async fn serve(
    settings: &LfsSettings,
    request: &LfsRequest<'_>,
    body: Body,
) -> Result<Response<Body>, Failure> {
    let batch: BatchRequest = super::read_json(body).await?;
    let unprocessable = |m: &str| Failure::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    if let Some(transfers) = &batch.transfers
        && !transfers.iter().any(|t| t == "basic")
    {
        return Err(unprocessable("only the basic transfer is supported"));
    }
    if batch.hash_algo.as_deref().is_some_and(|h| h != "sha256") {
        return Err(unprocessable("only the sha256 hash algorithm is supported"));
    }
    if batch.objects.len() > MAX_OBJECTS {
        return Err(unprocessable("too many objects in one batch request"));
    }
    let upload = request.op == GitOp::LfsBatchUpload;
    let mut objects = Vec::with_capacity(batch.objects.len());
    for Pointer { oid, size } in batch.objects {
        let answer = if !is_oid(&oid) {
            refused(
                oid,
                size,
                422,
                "object id must be 64 lower-case hex digits (SHA-256)",
            )
        } else if upload {
            upload_answer(settings, request, oid, size).await
        } else {
            download_answer(request, oid, size).await
        };
        objects.push(answer);
    }
    let response = BatchResponse {
        transfer: "basic",
        objects,
        hash_algo: "sha256",
    };
    Ok(json(StatusCode::OK, &response))
}

fn href(request: &LfsRequest<'_>, oid: &str, suffix: &str) -> Action {
    Action {
        href: format!("{}/objects/{oid}{suffix}", request.base_url),
    }
}

fn refused(oid: String, size: u64, code: u16, message: &str) -> ObjectAnswer {
    ObjectAnswer {
        oid,
        size,
        actions: None,
        error: Some(ObjectError {
            code,
            message: message.to_owned(),
        }),
    }
}

async fn upload_answer(
    settings: &LfsSettings,
    request: &LfsRequest<'_>,
    oid: String,
    size: u64,
) -> ObjectAnswer {
    if size > settings.max_object_bytes {
        let message = format!(
            "object larger than lfs_max_object_bytes ({} bytes)",
            settings.max_object_bytes
        );
        return refused(oid, size, 422, &message);
    }
    if stored_size(&request.repo_dir, &oid).await == Some(size) {
        // Already stored: nothing to transfer.
        return ObjectAnswer {
            oid,
            size,
            actions: None,
            error: None,
        };
    }
    let actions = Actions {
        upload: Some(href(request, &oid, "")),
        verify: Some(href(request, &oid, "/verify")),
        ..Actions::default()
    };
    ObjectAnswer {
        oid,
        size,
        actions: Some(actions),
        error: None,
    }
}

async fn download_answer(request: &LfsRequest<'_>, oid: String, size: u64) -> ObjectAnswer {
    match stored_size(&request.repo_dir, &oid).await {
        Some(stored) if stored == size => {
            let actions = Actions {
                download: Some(href(request, &oid, "")),
                ..Actions::default()
            };
            ObjectAnswer {
                oid,
                size,
                actions: Some(actions),
                error: None,
            }
        }
        Some(_) => refused(oid, size, 422, "stored object has another size"),
        None => refused(oid, size, 404, "object does not exist"),
    }
}
