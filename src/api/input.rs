//! Request bodies: `application/json`, at most [`MAX_BODY`] bytes, read whole (they are
//! small) and parsed into a typed request that refuses unknown and duplicate fields.

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use http_body::Body as _;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use super::ApiError;
use crate::proxy::body::Body;

/// The largest request body the API reads (API.md: larger ones get 413).
pub const MAX_BODY: usize = 64 * 1024;

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body exceeds {MAX_BODY} bytes"),
    )
}

/// Reads the body (refusing one over the limit before reading when its length is known).
pub async fn read(body: Body) -> Result<Bytes, ApiError> {
    if body.size_hint().lower() > MAX_BODY as u64 {
        return Err(too_large());
    }
    let mut body = body;
    let mut read = bytes::BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| ApiError::bad_request("could not read the request body"))?;
        if let Ok(data) = frame.into_data() {
            if read.len() + data.len() > MAX_BODY {
                return Err(too_large());
            }
            read.extend_from_slice(&data);
        }
    }
    Ok(read.freeze())
}

/// Whether the request says its body is JSON (`application/json`, parameters allowed).
pub fn is_json(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(CONTENT_TYPE).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return false;
    };
    let Ok(text) = value.to_str() else {
        return false;
    };
    let media = text.split(';').next().unwrap_or("").trim();
    media.eq_ignore_ascii_case("application/json")
}

/// Parses a JSON body into `T` (`declared_json`: the request said it sends JSON). An empty body reads as `{}` when `empty_ok` (a body that only
/// carries optional fields); otherwise one is required.
pub fn parse_body<T: DeserializeOwned>(
    declared_json: bool,
    bytes: &[u8],
    empty_ok: bool,
) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        if !empty_ok {
            return Err(ApiError::bad_request("a JSON body is required"));
        }
        b"{}"
    } else {
        if !declared_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as Content-Type: application/json",
            ));
        }
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|error| ApiError::bad_request(format!("malformed JSON: {error}")))
}

/// A field that may be absent (no change), `null` (clear it) or a value.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use http::HeaderValue;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Named {
        name: String,
        #[serde(default, deserialize_with = "double_option")]
        email: Option<Option<String>>,
    }

    fn json_headers(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn json_bodies_parse_and_refuse_unknown_or_duplicate_fields() {
        let headers = json_headers("application/json; charset=utf-8");
        let named: Named = parse_body(is_json(&headers), br#"{"name":"a"}"#, false).unwrap();
        assert_eq!((named.name.as_str(), named.email), ("a", None));
        let cleared: Named =
            parse_body(is_json(&headers), br#"{"name":"a","email":null}"#, false).unwrap();
        assert_eq!(cleared.email, Some(None));
        for bad in [
            &br#"{"name":"a","admin":true}"#[..],
            br#"{"name":"a","name":"b"}"#,
            br#"{"name":"a""#,
            br#"{"name":5}"#,
            br#"[]"#,
        ] {
            let error = parse_body::<Named>(is_json(&headers), bad, false).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{bad:?}");
        }
    }

    #[test]
    fn the_content_type_must_be_json_and_a_body_present_when_required() {
        let error = parse_body::<Named>(
            is_json(&json_headers("text/plain")),
            br#"{"name":"a"}"#,
            false,
        );
        assert_eq!(
            error.unwrap_err().status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        let error = parse_body::<Named>(false, br#"{"name":"a"}"#, false);
        assert_eq!(
            error.unwrap_err().status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        let error = parse_body::<Named>(false, b"", false).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Optional {
            #[allow(dead_code)]
            expires_at: Option<String>,
        }
        parse_body::<Optional>(false, b" ", true).unwrap();
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused_with_413() {
        let big = crate::proxy::body::full(vec![b' '; MAX_BODY + 1]);
        assert_eq!(
            read(big).await.unwrap_err().status,
            StatusCode::PAYLOAD_TOO_LARGE
        );
        let fits = crate::proxy::body::full(vec![b' '; MAX_BODY]);
        assert_eq!(read(fits).await.unwrap().len(), MAX_BODY);
    }
}
