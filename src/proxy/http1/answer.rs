//! Writing a response on the HTTP/1.1 lane: the head and as much of the body as is ready
//! go out in one write; the body then streams frame by frame (a frame not ready yet never
//! holds back what is already buffered). Framing follows the body: its exact length when
//! known, a valid `Content-Length` from the backend otherwise, else chunked.

use std::cell::RefCell;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use http_body::Body as _;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::proxy::body::Body;

/// Buffered output beyond this is written before more is added.
const FLUSH_AT: usize = 64 * 1024;

/// How the body goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body bytes at all (`HEAD`, 1xx, 204, 304).
    None,
    Length(u64),
    Chunked,
}

/// Decides the framing and fixes the framing fields to match it.
pub fn plan(
    status: StatusCode,
    head_request: bool,
    headers: &mut HeaderMap,
    exact: Option<u64>,
) -> Framing {
    headers.remove(header::TRANSFER_ENCODING);
    if status.is_informational() || status == StatusCode::NO_CONTENT {
        headers.remove(header::CONTENT_LENGTH);
        return Framing::None;
    }
    if head_request || status == StatusCode::NOT_MODIFIED {
        return Framing::None;
    }
    if let Some(length) = exact {
        let stated = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u64>().ok());
        if stated != Some(length) || headers.get_all(header::CONTENT_LENGTH).iter().count() > 1 {
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        return Framing::Length(length);
    }
    let mut lengths = headers.get_all(header::CONTENT_LENGTH).iter();
    let declared = match (lengths.next(), lengths.next()) {
        (Some(value), None) => value
            .to_str()
            .ok()
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse().ok()),
        _ => None,
    };
    match declared {
        Some(length) => Framing::Length(length),
        None => {
            headers.remove(header::CONTENT_LENGTH);
            headers.insert(
                header::TRANSFER_ENCODING,
                HeaderValue::from_static("chunked"),
            );
            Framing::Chunked
        }
    }
}

/// Appends the status line (with the response's own reason phrase if it has one — hg shows
/// only that) and the fields (with `Date`, and `Connection: close` when the connection ends
/// after this response).
pub fn write_head(out: &mut Vec<u8>, parts: &http::response::Parts, close: bool) {
    let (status, headers) = (parts.status, &parts.headers);
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(status.as_str().as_bytes());
    out.push(b' ');
    match parts.extensions.get::<hyper::ext::ReasonPhrase>() {
        Some(reason) => out.extend_from_slice(reason.as_bytes()),
        None => out.extend_from_slice(status.canonical_reason().unwrap_or("").as_bytes()),
    }
    out.extend_from_slice(b"\r\n");
    crate::proxy::headers::write_fields(out, headers);
    if !headers.contains_key(header::DATE) {
        out.extend_from_slice(b"date: ");
        with_date(|date| out.extend_from_slice(date));
        out.extend_from_slice(b"\r\n");
    }
    if close && !headers.contains_key(header::CONNECTION) {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

thread_local! {
    /// The formatted `Date` and the second it was formatted for.
    static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

fn with_date(write: impl FnOnce(&[u8])) {
    let now = SystemTime::now();
    let second = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    DATE.with(|cell| {
        let mut cached = cell.borrow_mut();
        if cached.0 != second {
            *cached = (second, httpdate::fmt_http_date(now));
        }
        write(cached.1.as_bytes());
    });
}

/// Why a response could not be sent whole (the connection is closed).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("writing to the client failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the response body failed: {0}")]
    Body(String),
    #[error("the response body did not match its declared length")]
    Length,
}

/// Sends `response`; `head_request` for a `HEAD`, `close` when the connection ends after it.
/// `out` is the connection's reusable output buffer.
pub async fn send<W: AsyncWrite + Unpin>(
    io: &mut W,
    out: &mut Vec<u8>,
    response: Response<Body>,
    head_request: bool,
    close: bool,
) -> Result<(), SendError> {
    let (mut parts, mut body) = response.into_parts();
    let framing = plan(
        parts.status,
        head_request,
        &mut parts.headers,
        body.size_hint().exact(),
    );
    out.clear();
    write_head(out, &parts, close);
    drop(parts);
    let mut remaining = match framing {
        Framing::None => {
            drop(body);
            return Ok(io.write_all(out).await?);
        }
        Framing::Length(length) => Some(length),
        Framing::Chunked => None,
    };
    loop {
        // What is ready joins the buffer; the buffer goes out before waiting for more.
        let frame = match poll_now(&mut body) {
            Some(frame) => frame,
            None => {
                if !out.is_empty() {
                    io.write_all(out).await?;
                    out.clear();
                }
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx))
                    .await
                    .map(|frame| frame.map_err(|e| e.to_string()))
            }
        };
        match frame {
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue; // trailers are not sent on HTTP/1.1
                };
                if let Some(left) = remaining.as_mut() {
                    *left = left
                        .checked_sub(data.len() as u64)
                        .ok_or(SendError::Length)?;
                }
                append(io, out, data, remaining.is_none()).await?;
            }
            Some(Err(error)) => return Err(SendError::Body(error.to_string())),
            None => {
                match remaining {
                    Some(0) => {}
                    Some(_) => return Err(SendError::Length),
                    None => out.extend_from_slice(b"0\r\n\r\n"),
                }
                io.write_all(out).await?;
                out.clear();
                return Ok(());
            }
        }
    }
}

/// Adds one data frame to the output (as a chunk when `chunked`); large frames are written
/// straight after the buffer instead of being copied into it.
async fn append<W: AsyncWrite + Unpin>(
    io: &mut W,
    out: &mut Vec<u8>,
    data: Bytes,
    chunked: bool,
) -> std::io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    if chunked {
        out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    }
    if out.len() + data.len() <= FLUSH_AT {
        out.extend_from_slice(&data);
    } else {
        io.write_all(out).await?;
        out.clear();
        io.write_all(&data).await?;
    }
    if chunked {
        out.extend_from_slice(b"\r\n");
    }
    if out.len() >= FLUSH_AT {
        io.write_all(out).await?;
        out.clear();
    }
    Ok(())
}

/// The body's next frame if it is ready now; `None` when it would have to wait.
fn poll_now(body: &mut Body) -> Option<Option<Result<http_body::Frame<Bytes>, String>>> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(body).poll_frame(&mut cx) {
        Poll::Ready(frame) => Some(frame.map(|f| f.map_err(|e| e.to_string()))),
        Poll::Pending => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::proxy::body;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.parse().unwrap(), v.parse().unwrap()))
            .collect()
    }

    #[test]
    fn framing_follows_the_body_then_the_declared_length_then_chunks() {
        let mut h = headers(&[("content-length", "9"), ("transfer-encoding", "chunked")]);
        assert_eq!(
            plan(StatusCode::OK, false, &mut h, Some(3)),
            Framing::Length(3)
        );
        assert_eq!(h["content-length"], "3");
        assert!(!h.contains_key("transfer-encoding"));
        let mut h = headers(&[("content-length", "9")]);
        assert_eq!(
            plan(StatusCode::OK, false, &mut h, None),
            Framing::Length(9)
        );
        let mut h = headers(&[("content-length", "9"), ("content-length", "9")]);
        assert_eq!(plan(StatusCode::OK, false, &mut h, None), Framing::Chunked);
        assert!(!h.contains_key("content-length"));
        assert_eq!(h["transfer-encoding"], "chunked");
        let mut h = headers(&[("content-length", "5")]);
        assert_eq!(plan(StatusCode::OK, true, &mut h, Some(0)), Framing::None);
        assert_eq!(h["content-length"], "5", "HEAD keeps the GET's length");
        let mut h = headers(&[("content-length", "5")]);
        assert_eq!(
            plan(StatusCode::NO_CONTENT, false, &mut h, Some(0)),
            Framing::None
        );
        assert!(!h.contains_key("content-length"));
    }

    #[test]
    fn heads_carry_the_reason_date_and_close() {
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::NOT_FOUND;
        *response.headers_mut() = headers(&[("x-a", "1")]);
        let (mut parts, ()) = response.into_parts();
        let mut out = Vec::new();
        write_head(&mut out, &parts, true);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 404 Not Found\r\nx-a: 1\r\ndate: "),
            "{text}"
        );
        assert!(
            text.ends_with(" GMT\r\nconnection: close\r\n\r\n"),
            "{text}"
        );
        let reason = hyper::ext::ReasonPhrase::try_from(&b"no grant for hg/x"[..]).unwrap();
        parts.extensions.insert(reason);
        let mut out = Vec::new();
        write_head(&mut out, &parts, false);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 404 no grant for hg/x\r\n"),
            "{text}"
        );
        assert!(!text.contains("connection"), "{text}");
    }

    async fn sent(response: Response<Body>, head_request: bool) -> Result<Vec<u8>, SendError> {
        let mut wire = Vec::new();
        send(&mut wire, &mut Vec::new(), response, head_request, false).await?;
        Ok(wire)
    }

    fn body_of(wire: &[u8]) -> &[u8] {
        let end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        &wire[end + 4..]
    }

    #[tokio::test]
    async fn bodies_go_out_with_their_framing() {
        let wire = sent(Response::new(body::full("hello")), false)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&wire).contains("content-length: 5\r\n"));
        assert_eq!(body_of(&wire), b"hello");
        let wire = sent(Response::new(body::full("hello")), true)
            .await
            .unwrap();
        assert_eq!(body_of(&wire), b"");
        let streamed = http_body_util::StreamBody::new(futures_util::stream::iter(
            ["ab", "", "cde"]
                .map(|s| Ok::<_, body::BodyError>(http_body::Frame::data(Bytes::from(s)))),
        ));
        let response = Response::new(http_body_util::BodyExt::boxed(streamed));
        let wire = sent(response, false).await.unwrap();
        assert!(String::from_utf8_lossy(&wire).contains("transfer-encoding: chunked\r\n"));
        assert_eq!(body_of(&wire), b"2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
    }

    #[tokio::test]
    async fn a_body_shorter_or_longer_than_declared_is_an_error() {
        for (declared, data) in [("9", "short"), ("2", "longer")] {
            let streamed = http_body_util::StreamBody::new(futures_util::stream::iter([Ok::<
                _,
                body::BodyError,
            >(
                http_body::Frame::data(Bytes::from(data)),
            )]));
            let mut response = Response::new(http_body_util::BodyExt::boxed(streamed));
            response
                .headers_mut()
                .insert("content-length", declared.parse().unwrap());
            assert!(matches!(
                sent(response, false).await,
                Err(SendError::Length)
            ));
        }
    }
}
