//! Fetching an issuer's JWKS from its `jwks_url` over the backend client (rustls with the
//! ring provider, system roots plus an optional CA file, SNI), bounded in time and size.

use std::path::Path;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode, Uri};
use http_body_util::BodyExt;

use super::verify::{JwksError, KeySet};
use crate::proxy::body;
use crate::proxy::upstream::{self, Upstream};

/// Largest JWKS document accepted.
pub const MAX_JWKS_BYTES: usize = 1 << 20;
/// How long one fetch may take, connection included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Client(#[from] upstream::Error),
    #[error("the request failed")]
    Request,
    #[error("timed out")]
    Timeout,
    #[error("answered {status}")]
    Status { status: StatusCode },
    #[error("the answer is too large or broken")]
    Body,
    #[error("{0}")]
    Jwks(#[from] JwksError),
}

/// GETs `url` and parses the answer as a JWKS.
pub async fn fetch(url: &Uri, ca_file: Option<&Path>) -> Result<KeySet, FetchError> {
    tokio::time::timeout(FETCH_TIMEOUT, fetch_once(url, ca_file))
        .await
        .map_err(|_| FetchError::Timeout)?
}

async fn fetch_once(url: &Uri, ca_file: Option<&Path>) -> Result<KeySet, FetchError> {
    let client = Upstream::new(url, ca_file, FETCH_TIMEOUT)?;
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::ACCEPT,
        http::HeaderValue::from_static("application/json"),
    );
    let response = client
        .send(Method::GET, "", url.query(), headers, body::empty())
        .await
        .map_err(|_| FetchError::Request)?;
    if response.status() != StatusCode::OK {
        return Err(FetchError::Status {
            status: response.status(),
        });
    }
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| FetchError::Body)?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > MAX_JWKS_BYTES {
                return Err(FetchError::Body);
            }
            bytes.extend_from_slice(&data);
        }
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| FetchError::Body)?;
    Ok(KeySet::parse(text)?)
}
