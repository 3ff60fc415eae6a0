//! A small API client over raw HTTP/1.1: JSON in and out, every secret it sees remembered
//! for the log scan.

use serde_json::Value;

use crate::support::http::{self, Response};
use crate::support::secrets;

pub const BASE: &str = "/-/api/v1";

/// What an API call answered: status, parsed JSON body (`Null` when empty) and the raw
/// response.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub raw: Response,
}

impl Answer {
    /// The error code of an error answer (`{"error": CODE, "message": …}`).
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }
}

/// Calls `METHOD /-/api/v1PATH` on `port` with `token` (Bearer) and an optional JSON body.
#[track_caller]
pub fn call(
    port: u16,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Answer {
    let mut headers = Vec::new();
    if let Some(token) = token {
        headers.push(http::bearer(token));
    }
    let raw = match body {
        Some(body) => {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
            let bytes = body.to_string().into_bytes();
            http::request_with_body(port, method, &format!("{BASE}{path}"), &headers, &bytes)
        }
        None => http::request(port, method, &format!("{BASE}{path}"), &headers),
    };
    answer(raw)
}

/// Sends raw body bytes with the given content type.
#[track_caller]
pub fn call_raw(
    port: u16,
    token: &str,
    (method, path): (&str, &str),
    content_type: Option<&str>,
    body: &[u8],
) -> Answer {
    let mut headers = vec![http::bearer(token)];
    if let Some(content_type) = content_type {
        headers.push(("Content-Type".to_owned(), content_type.to_owned()));
    }
    answer(http::request_with_body(
        port,
        method,
        &format!("{BASE}{path}"),
        &headers,
        body,
    ))
}

#[track_caller]
fn answer(raw: Response) -> Answer {
    let json = if raw.body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&raw.body).unwrap_or_else(|e| {
            panic!(
                "API answered {} with non-JSON ({e}): {:?}",
                raw.status, raw.body
            )
        })
    };
    if let Some(secret) = json["token"].as_str() {
        secrets::remember(secret);
    }
    if raw.status != 204 && !raw.body.trim().is_empty() {
        assert_eq!(
            raw.header("content-type"),
            Some("application/json"),
            "API answers are JSON: {raw:?}"
        );
    }
    Answer {
        status: raw.status,
        json,
        raw,
    }
}
