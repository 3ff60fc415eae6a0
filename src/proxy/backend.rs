//! Where a route's requests go: one abstraction, [`Backend::send`], over a backend URL
//! (pooled HTTP/1.1 connections, [`super::upstream`]) and the built-in Git backend
//! (`git http-backend` as CGI, [`super::cgi`]).

use http::Response;

use super::body::Body;
use super::cgi::{CgiRequest, GitCgi};
use super::lfs;
use super::prepare::Prepared;
use super::rejection::Rejection;
use super::upstream::Upstream;

#[derive(Debug)]
pub enum Backend {
    Url(Box<Upstream>),
    BuiltinGit(GitCgi),
}

impl Backend {
    /// `scheme://authority` of a URL backend.
    pub fn origin(&self) -> Option<&str> {
        match self {
            Backend::Url(upstream) => Some(upstream.origin()),
            Backend::BuiltinGit(_) => None,
        }
    }

    /// Sends a prepared request; resolves with the response head (the body streams).
    pub async fn send(&self, request: Prepared<'_>) -> Result<Response<Body>, Rejection> {
        match self {
            Backend::Url(upstream) => {
                upstream
                    .send(
                        request.method,
                        request.below,
                        request.query,
                        request.headers,
                        request.body,
                    )
                    .await
            }
            Backend::BuiltinGit(cgi) if request.lfs.is_some() => serve_lfs(cgi, request).await,
            Backend::BuiltinGit(cgi) => {
                let cgi_request = CgiRequest {
                    method: &request.method,
                    path_info: request.below,
                    query: request.query,
                    headers: &request.headers,
                    remote_addr: request.peer,
                    remote_user: request.remote_user,
                    access: request.access,
                    no_rewind: request.no_rewind,
                };
                cgi.call(cgi_request, request.body).await.map_err(|error| {
                    tracing::error!(%error, "built-in git backend failed");
                    Rejection::BackendFailed
                })
            }
        }
    }
}

/// A Git LFS request on a built-in route: served from the repository's directory.
async fn serve_lfs(cgi: &GitCgi, request: Prepared<'_>) -> Result<Response<Body>, Rejection> {
    let Some(target) = request.lfs else {
        return Err(Rejection::BackendFailed);
    };
    let found = super::cgi::repository::directory(&cgi.project_root, target.repo);
    let repo_dir = match found {
        Ok(Some(dir)) => dir,
        Ok(None) => {
            return Ok(lfs::error(
                http::StatusCode::NOT_FOUND,
                "repository not found",
            ));
        }
        Err(error) => {
            tracing::error!(%error, "built-in git backend failed");
            return Err(Rejection::BackendFailed);
        }
    };
    let content_length = http_body::Body::size_hint(&request.body).exact();
    let lfs_request = lfs::LfsRequest {
        op: target.op,
        repo_dir,
        base_url: &target.base_url,
        below: target.below,
        query: request.query,
        user: target.user,
        content_length,
    };
    Ok(lfs::serve(cgi.lfs, lfs_request, request.body).await)
}
