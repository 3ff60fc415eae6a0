//! The HTTP API under `/-/api/v1/` (API.md): JSON in and out, authenticated by a token with
//! the `api` scope. [`routes`] maps method and path to an endpoint, [`input`] reads and
//! parses bodies, [`calls`] runs each endpoint through the same `manage` rules as the CLI,
//! [`views`] renders users, grants, tokens and audit events. The request plumbing
//! (authentication, throttling, the control runtime) is in `proxy::reserved`.

pub mod calls;
mod error;
pub mod input;
pub mod routes;
pub mod views;

pub use error::{ApiError, body as error_body, code as error_code};

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use serde_json::Value;

use crate::proxy::body::{self, Body};

/// The path segments every API path starts with: `/-/api/v1`.
pub const PREFIX: [&str; 3] = ["-", "api", "v1"];

/// A JSON answer (no body for 204). API answers are never cached: they may hold a secret.
pub fn json_response(status: StatusCode, value: Option<&Value>) -> Response<Body> {
    let mut response = match value {
        Some(value) => Response::new(body::full(format!("{value}\n"))),
        None => Response::new(body::empty()),
    };
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if value.is_some() {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The response for an API error.
pub fn error_response(error: &ApiError) -> Response<Body> {
    let value: Value = serde_json::json!({ "error": error.code(), "message": error.message });
    json_response(error.status, Some(&value))
}
