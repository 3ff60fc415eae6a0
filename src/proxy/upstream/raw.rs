//! The lean exchange for requests without a body (`GET` and `HEAD`, the bulk of small
//! requests): the request head is written with one `write`, the answer's head parsed out of
//! the connection's own buffer, and its body read by the task that polls it — no connection
//! task, no channel, no hand-off between tasks. Requests with a body use hyper's client
//! ([`super::Upstream::send`]).
//!
//! The backend's framing is strict: `Content-Length` (one, digits), `Transfer-Encoding:
//! chunked` alone, or (without either) the body runs to the connection's end. Anything else
//! is a failed backend (502). A connection goes back to the pool only when its body was read
//! to the end with nothing after it, on HTTP/1.1 without `Connection: close`.

use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Response, StatusCode, Version};
use http_body::{Frame, SizeHint};
use tokio::io::AsyncWriteExt;
use tokio_util::io::poll_read_buf;

use super::chunked::{ChunkError, Chunked, Decoded};
use super::pool;
use super::stream::Stream;
use crate::proxy::body::BodyError;

/// The largest answer head read from a backend.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields in a backend's answer head.
const MAX_FIELDS: usize = 128;
/// How much room a read asks for.
const READ_CHUNK: usize = 16 * 1024;

/// An open backend connection with the bytes read from it but not yet used.
pub struct RawConn {
    stream: Stream,
    buf: BytesMut,
}

impl RawConn {
    pub fn new(stream: Stream) -> Self {
        RawConn {
            stream,
            buf: BytesMut::with_capacity(READ_CHUNK),
        }
    }

    /// Whether the idle connection may carry another request (see [`Stream::is_quiet`]).
    pub fn is_quiet(&self) -> bool {
        self.buf.is_empty() && self.stream.is_quiet()
    }
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// The connection ended or failed before any byte of an answer: a reused connection
    /// the backend had closed. Safe to retry a `GET`/`HEAD` on a new connection.
    #[error("connection closed before an answer: {0}")]
    Closed(String),
    #[error("{0}")]
    Failed(String),
}

/// Writes `head` (a complete request head) and reads the answer's head. The body streams
/// from the returned response; `id` names the backend's pool.
pub async fn exchange(
    mut conn: RawConn,
    head: &[u8],
    method: &Method,
    id: usize,
) -> Result<Response<RawBody>, ExchangeError> {
    if let Err(error) = conn.stream.write_all(head).await {
        return Err(ExchangeError::Closed(error.to_string()));
    }
    conn.buf.clear();
    // Whether any byte of an answer (an informational one included) has arrived: after
    // that, a failure is never retried.
    let mut got_any = false;
    loop {
        let parsed = parse_head(&mut conn.buf)?;
        let Some(mut parts) = parsed else {
            if conn.buf.len() >= MAX_HEAD {
                return Err(ExchangeError::Failed("answer head too large".into()));
            }
            got_any |= !conn.buf.is_empty();
            conn.buf.reserve(READ_CHUNK);
            let read = std::future::poll_fn(|cx| {
                poll_read_buf(Pin::new(&mut conn.stream), cx, &mut conn.buf)
            })
            .await;
            match read {
                Ok(0) | Err(_) if !got_any => {
                    let why = read.err().map_or("end of stream".into(), |e| e.to_string());
                    return Err(ExchangeError::Closed(why));
                }
                Ok(0) => return Err(ExchangeError::Failed("answer head cut short".into())),
                Err(error) => return Err(ExchangeError::Failed(error.to_string())),
                Ok(_) => continue,
            }
        };
        got_any = true;
        if parts.status.is_informational() {
            if parts.status == StatusCode::SWITCHING_PROTOCOLS {
                return Err(ExchangeError::Failed("unrequested protocol switch".into()));
            }
            continue;
        }
        let framing = framing(method, parts.status, &parts.headers)?;
        // After a HEAD nothing may follow the head; a backend that sends a body anyway would
        // have it read as the next answer: such connections are not kept.
        let reusable = parts.version == Version::HTTP_11
            && method != Method::HEAD
            && !crate::canon::hop_by_hop::connection_options(&parts.headers)
                .any(|option| option.eq_ignore_ascii_case(b"close"));
        parts.headers.remove(header::TRANSFER_ENCODING);
        let mut body = RawBody {
            conn: Some(conn),
            framing,
            reusable,
            id,
        };
        if framing == Framing::Length(0) {
            // Nothing to read: the connection is free now (a server may never poll an
            // empty body).
            body.ended();
        }
        return Ok(Response::from_parts(parts, body));
    }
}

/// One answer head out of the front of `buf` (informational ones included), or `None` if
/// it is not complete yet.
pub(crate) fn parse_head(
    buf: &mut BytesMut,
) -> Result<Option<http::response::Parts>, ExchangeError> {
    let failed = |what: &str| ExchangeError::Failed(format!("malformed answer head: {what}"));
    let mut fields = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_FIELDS];
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        &mut fields,
    );
    let len = match parsed {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(failed(&error.to_string())),
    };
    let status = response
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| failed("status"))?;
    let version = match response.version {
        Some(1) => Version::HTTP_11,
        _ => Version::HTTP_10,
    };
    // The backend's own reason phrase goes to the client (hg shows only that).
    let reason = response
        .reason
        .filter(|r| Some(*r) != status.canonical_reason())
        .and_then(|r| hyper::ext::ReasonPhrase::try_from(r.as_bytes()).ok());
    // Field values are kept as slices of the head: no copy per field.
    let base = buf.as_ptr() as usize;
    let mut ranges = Vec::with_capacity(response.headers.len());
    for field in response.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|_| failed("name"))?;
        let start = field.value.as_ptr() as usize - base;
        ranges.push((name, start, start + field.value.len()));
    }
    let head = buf.split_to(len).freeze();
    let mut headers = HeaderMap::with_capacity(ranges.len());
    for (name, start, end) in ranges {
        let value =
            HeaderValue::from_maybe_shared(head.slice(start..end)).map_err(|_| failed("value"))?;
        headers.append(name, value);
    }
    let (mut parts, ()) = Response::new(()).into_parts();
    parts.status = status;
    parts.version = version;
    parts.headers = headers;
    if let Some(reason) = reason {
        parts.extensions.insert(reason);
    }
    Ok(Some(parts))
}

/// How the answer's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    Length(u64),
    Chunked(Chunked),
    UntilClose,
}

pub(crate) fn framing(
    method: &Method,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<Framing, ExchangeError> {
    let failed = |what: &str| ExchangeError::Failed(format!("ambiguous answer framing: {what}"));
    if method == Method::HEAD
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
    {
        return Ok(Framing::Length(0));
    }
    let mut codings = headers.get_all(header::TRANSFER_ENCODING).iter();
    let mut lengths = headers.get_all(header::CONTENT_LENGTH).iter();
    match (codings.next(), lengths.next()) {
        (Some(coding), None) => {
            if codings.next().is_some()
                || !coding
                    .as_bytes()
                    .trim_ascii()
                    .eq_ignore_ascii_case(b"chunked")
            {
                return Err(failed("transfer coding other than chunked"));
            }
            Ok(Framing::Chunked(Chunked::default()))
        }
        (Some(_), Some(_)) => Err(failed("both Transfer-Encoding and Content-Length")),
        (None, Some(length)) => {
            if lengths.next().is_some() {
                return Err(failed("more than one Content-Length"));
            }
            let digits = length.as_bytes();
            if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
                return Err(failed("Content-Length"));
            }
            let value = std::str::from_utf8(digits)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| failed("Content-Length"))?;
            Ok(Framing::Length(value))
        }
        (None, None) => Ok(Framing::UntilClose),
    }
}

/// An answer's body, read from the backend connection as it is polled; the connection
/// goes back to the pool when the body ends cleanly.
pub struct RawBody {
    conn: Option<RawConn>,
    framing: Framing,
    reusable: bool,
    id: usize,
}

#[derive(Debug, thiserror::Error)]
enum BodyFailure {
    #[error("backend closed the connection before the answer's end")]
    CutShort,
    #[error(transparent)]
    Chunked(#[from] ChunkError),
    #[error("reading the answer failed: {0}")]
    Io(#[from] std::io::Error),
}

impl RawBody {
    /// The body ended: the connection is kept when nothing else came with it (nor waits
    /// already decrypted inside TLS).
    fn ended(&mut self) {
        if let Some(mut conn) = self.conn.take()
            && self.reusable
            && conn.buf.is_empty()
            && conn.stream.nothing_buffered()
        {
            pool::keep_raw(self.id, conn);
        }
    }

    /// The next frame out of what is buffered, or `None` when more must be read.
    fn next_buffered(&mut self) -> Result<Option<Option<Bytes>>, BodyFailure> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(Some(None));
        };
        match &mut self.framing {
            Framing::Length(0) => Ok(Some(None)),
            Framing::Length(remaining) => {
                if conn.buf.is_empty() {
                    return Ok(None);
                }
                let n = usize::try_from(*remaining)
                    .unwrap_or(usize::MAX)
                    .min(conn.buf.len());
                *remaining -= n as u64;
                Ok(Some(Some(conn.buf.split_to(n).freeze())))
            }
            Framing::Chunked(decoder) => match decoder.decode(&mut conn.buf)? {
                Decoded::Data(data) => Ok(Some(Some(data))),
                Decoded::NeedMore => Ok(None),
                Decoded::End => Ok(Some(None)),
            },
            Framing::UntilClose if conn.buf.is_empty() => Ok(None),
            Framing::UntilClose => Ok(Some(Some(conn.buf.split().freeze()))),
        }
    }
}

impl http_body::Body for RawBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        loop {
            match self.next_buffered() {
                Ok(Some(Some(data))) => {
                    if self.framing == Framing::Length(0) {
                        // The last bytes: free the connection now, a server may not poll
                        // again once the body says it ended.
                        self.ended();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                Ok(Some(None)) => {
                    self.ended();
                    return Poll::Ready(None);
                }
                Ok(None) => {}
                Err(error) => {
                    self.conn = None;
                    return Poll::Ready(Some(Err(error.into())));
                }
            }
            let until_close = self.framing == Framing::UntilClose;
            let Some(conn) = self.conn.as_mut() else {
                return Poll::Ready(None);
            };
            conn.buf.reserve(READ_CHUNK);
            match poll_read_buf(Pin::new(&mut conn.stream), cx, &mut conn.buf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(0)) if until_close => {
                    self.conn = None;
                    return Poll::Ready(None);
                }
                Poll::Ready(Ok(0)) => {
                    self.conn = None;
                    return Poll::Ready(Some(Err(BodyFailure::CutShort.into())));
                }
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(error)) => {
                    self.conn = None;
                    return Poll::Ready(Some(Err(BodyFailure::Io(error).into())));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.conn.is_none() || self.framing == Framing::Length(0)
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.conn, self.framing) {
            (None, _) => SizeHint::with_exact(0),
            (Some(_), Framing::Length(n)) => SizeHint::with_exact(n),
            (Some(_), _) => SizeHint::default(),
        }
    }
}

/// Writes a request head: `METHOD TARGET HTTP/1.1`, the fields, an empty line.
pub fn write_head(out: &mut Vec<u8>, method: &Method, target: &[&str], headers: &HeaderMap) {
    out.extend_from_slice(method.as_str().as_bytes());
    out.push(b' ');
    for part in target {
        out.extend_from_slice(part.as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\n");
    crate::proxy::headers::write_fields(out, headers);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn head_of(bytes: &[u8]) -> Result<Option<http::response::Parts>, ExchangeError> {
        parse_head(&mut BytesMut::from(bytes))
    }

    fn framing_of(method: Method, answer: &[u8]) -> Result<Framing, ExchangeError> {
        let parts = head_of(answer).unwrap().unwrap();
        framing(&method, parts.status, &parts.headers)
    }

    #[test]
    fn heads_parse_with_fields_shared_and_the_rest_left_in_the_buffer() {
        let mut buf =
            BytesMut::from(&b"HTTP/1.1 404 Not Found\r\nX-A: 1\r\nx-a: 2\r\n\r\nbody"[..]);
        let parts = parse_head(&mut buf).unwrap().unwrap();
        assert_eq!(parts.status, StatusCode::NOT_FOUND);
        assert_eq!(parts.version, Version::HTTP_11);
        let values: Vec<_> = parts.headers.get_all("x-a").iter().collect();
        assert_eq!(values, ["1", "2"]);
        assert_eq!(&buf[..], b"body");
        assert!(head_of(b"HTTP/1.1 200 OK\r\nX-A: 1\r\n").unwrap().is_none());
        assert!(head_of(b"HTTP/1.1 2000 OK\r\n\r\n").is_err());
        assert!(head_of(b"HTTP/1.1 200 OK\r\nX A: 1\r\n\r\n").is_err());
        assert_eq!(
            head_of(b"HTTP/1.0 200 OK\r\n\r\n")
                .unwrap()
                .unwrap()
                .version,
            Version::HTTP_10
        );
    }

    #[test]
    fn a_backends_own_reason_phrase_is_kept() {
        let parts = head_of(b"HTTP/1.1 403 ssl required\r\n\r\n")
            .unwrap()
            .unwrap();
        let reason = parts.extensions.get::<hyper::ext::ReasonPhrase>().unwrap();
        assert_eq!(reason.as_bytes(), b"ssl required");
        let parts = head_of(b"HTTP/1.1 403 Forbidden\r\n\r\n").unwrap().unwrap();
        assert!(parts.extensions.get::<hyper::ext::ReasonPhrase>().is_none());
    }

    #[test]
    fn framing_is_strict() {
        let ok = |answer: &[u8]| framing_of(Method::GET, answer).unwrap();
        assert_eq!(
            ok(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n"),
            Framing::Length(12)
        );
        assert_eq!(
            ok(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Framing::Chunked(Chunked::Size)
        );
        assert_eq!(ok(b"HTTP/1.1 200 OK\r\n\r\n"), Framing::UntilClose);
        assert_eq!(ok(b"HTTP/1.1 204 No Content\r\n\r\n"), Framing::Length(0));
        assert_eq!(
            ok(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"),
            Framing::Length(0)
        );
        assert_eq!(
            framing_of(
                Method::HEAD,
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
            )
            .unwrap(),
            Framing::Length(0)
        );
        let refused: [&[u8]; 7] = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1111111111111111111111\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        ];
        for answer in refused {
            assert!(framing_of(Method::GET, answer).is_err(), "{answer:?}");
        }
    }

    #[test]
    fn request_heads_are_written_as_given() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static("b:1"));
        headers.append("x-a", HeaderValue::from_static("1"));
        let mut out = Vec::new();
        write_head(
            &mut out,
            &Method::GET,
            &["/base", "/x", "?", "q=1"],
            &headers,
        );
        assert_eq!(
            out,
            b"GET /base/x?q=1 HTTP/1.1\r\nhost: b:1\r\nx-a: 1\r\n\r\n"
        );
    }
}
