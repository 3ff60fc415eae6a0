//! The HTTP/1.1 lane: the server side of the common case, a keep-alive connection carrying
//! requests without a body (`GET` `info/refs`, hg `?cmd=` reads, svn `GET`s, pages). One
//! task per connection reads heads into its own buffer, runs each request through the same
//! [`Gate::handle`](super::gate::Gate::handle) as every other request, and writes the
//! answer itself ([`answer`]); with the lean backend exchange (`upstream::raw`) a request
//! is served without another task, channel or per-request header array.
//!
//! The first request the lane does not take whole ([`head`]: a body, `Expect`, `Upgrade`,
//! HTTP/1.0, anything malformed or beyond the limits, the HTTP/2 preface) hands the
//! connection to hyper with every byte read so far ([`Rewind`]): hyper serves it and the rest
//! of the connection exactly as before the lane existed.

mod answer;
pub(crate) mod head;
mod rewind;

use std::net::SocketAddr;

use bytes::BytesMut;
use http::{Method, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::Instant;

pub use rewind::Rewind;

use super::body;
use super::server::CurrentGate;
use head::Head;

/// The read buffer a connection starts with.
const READ_BUFFER: usize = 8 * 1024;
/// Output buffers grown beyond this (a large answer) are not kept between requests.
const KEEP_OUTPUT: usize = 64 * 1024;

/// How a lane connection ended.
pub enum Ended<I> {
    Closed,
    /// hyper takes over the connection, reading these bytes first. `http1_only` once the
    /// lane has served a request on it: an HTTP/1 connection never turns into HTTP/2.
    HandOff {
        io: Rewind<I>,
        http1_only: bool,
    },
}

/// Serves requests on `io` until the connection closes, the server stops (`stop` turns
/// true: an idle connection closes, one mid-request finishes it first), or a request needs
/// hyper.
pub async fn serve<I>(
    mut io: I,
    gate: &CurrentGate,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) -> Ended<I>
where
    I: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = BytesMut::with_capacity(READ_BUFFER);
    let mut out = Vec::with_capacity(READ_BUFFER);
    let mut served = false;
    loop {
        let current = gate.load_full();
        let limits = current.limits();
        let (max_fields, max_bytes) = (limits.max_headers, limits.max_header_bytes);
        // Like hyper's: from when a head is awaited, idle keep-alive time included.
        let deadline = Instant::now() + limits.header_timeout;
        let (parts, close) = loop {
            match head::parse(&mut buf, max_fields, max_bytes) {
                Head::Plain { parts, close } => break (parts, close),
                Head::HandOff => {
                    let io = Rewind::new(buf.freeze(), io);
                    return Ended::HandOff {
                        io,
                        http1_only: served,
                    };
                }
                Head::Partial => {}
            }
            if buf.capacity() - buf.len() < 1024 {
                buf.reserve(READ_BUFFER);
            }
            let idle = buf.is_empty();
            let read = tokio::select! {
                biased;
                read = tokio::time::timeout_at(deadline, io.read_buf(&mut buf)) => read,
                _ = stop.wait_for(|stop| *stop), if idle => return Ended::Closed,
            };
            // A timeout, the client's end or a failure: closed without an answer, as hyper does.
            match read {
                Ok(Ok(n)) if n > 0 => {}
                _ => return Ended::Closed,
            }
        };
        let head_request = parts.method == Method::HEAD;
        let mut response = current
            .handle(Request::from_parts(parts, body::empty()), peer)
            .await;
        drop(current);
        served = true;
        let mut close = close || *stop.borrow();
        if response.status().is_informational() {
            // Only a misbehaving backend answers a final 1xx (hyper's client passes a 101
            // through): never sent on as if the exchange were over.
            tracing::warn!(%peer, status = %response.status(), "backend answered 1xx as final; 502");
            response = http::Response::new(body::full(
                "bad gateway: informational status as the answer\n",
            ));
            *response.status_mut() = http::StatusCode::BAD_GATEWAY;
            close = true;
        }
        if let Err(error) = answer::send(&mut io, &mut out, response, head_request, close).await {
            tracing::debug!(%peer, %error, "answer not sent whole; connection closed");
            return Ended::Closed;
        }
        if close {
            let _ = io.shutdown().await;
            return Ended::Closed;
        }
        if out.capacity() > KEEP_OUTPUT {
            out = Vec::with_capacity(READ_BUFFER);
        }
    }
}
