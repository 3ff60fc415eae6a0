//! The built-in Git backend: `git http-backend` run as a CGI process per request.
//! (Placeholder until the CGI implementation lands.)

use std::net::SocketAddr;
use std::path::PathBuf;

use http::{HeaderMap, Method, Response};

use super::body::Body;
use crate::access::Access;

#[derive(Debug, Clone)]
pub struct GitCgi {
    pub git: PathBuf,
    pub project_root: PathBuf,
}

pub struct CgiRequest<'a> {
    pub method: &'a Method,
    pub path_info: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub remote_addr: SocketAddr,
    pub remote_user: Option<&'a str>,
    pub access: Access,
}

#[derive(Debug, thiserror::Error)]
pub enum CgiError {
    #[error("not implemented")]
    NotImplemented,
}

impl GitCgi {
    pub async fn call(&self, req: CgiRequest<'_>, body: Body) -> Result<Response<Body>, CgiError> {
        let _ = (req, body);
        Err(CgiError::NotImplemented)
    }
}
