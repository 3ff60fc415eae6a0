//! Raw HTTP/1.1 on the wire: exact bytes (that a client library would normalise) sent from
//! a chosen loopback source address (any of 127.0.0.0/8, so one test can be several
//! clients), and every response read back, with whether the server closed the connection.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::http::Response;

/// The usual client address.
pub const LOCALHOST: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
/// How long an exchange waits for the server by default.
pub const WAIT: Duration = Duration::from_secs(30);

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("build the socket runtime")
    })
}

/// A blocking connection to 127.0.0.1:`port` whose source address is `source`.
pub fn connect_from(source: Ipv4Addr, port: u16) -> std::io::Result<TcpStream> {
    let target = SocketAddr::from((LOCALHOST, port));
    let stream = runtime().block_on(async move {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from((source, 0)))?;
        tokio::time::timeout(Duration::from_secs(10), socket.connect(target))
            .await
            .map_err(|_| std::io::Error::new(ErrorKind::TimedOut, "connect timed out"))?
    })?;
    let stream = stream.into_std()?;
    stream.set_nonblocking(false)?;
    Ok(stream)
}

/// `METHOD TARGET HTTP/1.1`, `Host`, the `headers`, `Connection: close` (unless `headers`
/// has a `Connection`), blank line.
pub fn head(method: &str, target: &str, headers: &[(String, String)]) -> String {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("connection"))
    {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    head
}

/// A request with `body` after a `Content-Length` header (and `Connection: close`).
pub fn with_body(method: &str, target: &str, headers: &[(String, String)], body: &[u8]) -> Vec<u8> {
    let mut headers = headers.to_vec();
    headers.push(("Content-Length".to_string(), body.len().to_string()));
    let mut bytes = head(method, target, &headers).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A `(name, value)` header pair.
pub fn header(name: &str, value: &str) -> (String, String) {
    (name.to_string(), value.to_string())
}

/// What came back on one connection.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub raw: Vec<u8>,
    /// The server closed (or reset) the connection within the wait.
    pub closed: bool,
    /// From connect to the end of reading.
    pub elapsed: Duration,
}

impl Exchange {
    /// Every complete response, in order.
    pub fn responses(&self) -> Vec<Response> {
        parse_all(&self.raw)
    }

    /// The first response; fails the test when there is none.
    #[track_caller]
    pub fn first(&self) -> Response {
        self.responses().into_iter().next().unwrap_or_else(|| {
            panic!(
                "no HTTP response (closed: {}): {:?}",
                self.closed,
                String::from_utf8_lossy(&self.raw)
            )
        })
    }

    /// Every status line, e.g. `["HTTP/1.1 400 Bad Request"]`.
    pub fn status_lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.raw)
            .split("\r\n")
            .filter(|l| l.starts_with("HTTP/1."))
            .map(str::to_string)
            .collect()
    }
}

/// Connects from `source`, sends `bytes`, and reads until the server closes the connection
/// or `wait` has passed.
#[track_caller]
pub fn exchange(source: Ipv4Addr, port: u16, bytes: &[u8], wait: Duration) -> Exchange {
    let start = Instant::now();
    let mut stream = connect_from(source, port)
        .unwrap_or_else(|e| panic!("connect from {source} to 127.0.0.1:{port}: {e}"));
    // A server that refuses early may close before everything is written: read anyway.
    let _ = stream.write_all(bytes);
    let (raw, closed) = read_until_close(&mut stream, wait);
    Exchange {
        raw,
        closed,
        elapsed: start.elapsed(),
    }
}

/// `exchange` of a `GET` from `source` with `Connection: close`; the first response.
#[track_caller]
pub fn get_from(
    source: Ipv4Addr,
    port: u16,
    target: &str,
    headers: &[(String, String)],
) -> (Response, Duration) {
    let done = exchange(source, port, head("GET", target, headers).as_bytes(), WAIT);
    (done.first(), done.elapsed)
}

/// Reads until EOF, a reset, or `wait`; returns the bytes and whether the server closed.
pub fn read_until_close(stream: &mut TcpStream, wait: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + wait;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return (raw, false);
        }
        match stream.read(&mut buf) {
            Ok(0) => return (raw, true),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return (raw, false);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (raw, true),
        }
    }
}

/// Splits `raw` into responses: each head, then a body framed by `Content-Length`, by
/// chunks, or (neither) by the end of the data. Stops at the first incomplete response.
pub fn parse_all(raw: &[u8]) -> Vec<Response> {
    let mut out = Vec::new();
    let mut rest = raw;
    while let Some(end) = find(rest, b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&rest[..end]).into_owned();
        let after = &rest[end + 4..];
        let mut lines = head.split("\r\n");
        let mut status_line = lines.next().unwrap_or_default().splitn(3, ' ').skip(1);
        let Some(status) = status_line.next().and_then(|s| s.parse().ok()) else {
            break;
        };
        let reason = status_line.next().unwrap_or_default().to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let value = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_ascii_lowercase())
        };
        let (body, used) = if value("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            match dechunk(after) {
                Some(found) => found,
                None => break,
            }
        } else if let Some(len) = value("content-length").and_then(|v| v.parse::<usize>().ok()) {
            if after.len() < len {
                break;
            }
            (after[..len].to_vec(), len)
        } else {
            (after.to_vec(), after.len())
        };
        out.push(Response {
            status,
            reason,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        rest = &after[used..];
    }
    out
}

/// A chunked body at the start of `data`: the body and how many bytes it took.
fn dechunk(data: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let line_end = at + find(&data[at..], b"\r\n")?;
        let size = String::from_utf8_lossy(&data[at..line_end]);
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        at = line_end + 2;
        if size == 0 {
            // Trailers (none expected), then the final CRLF.
            let end = at + find(&data[at..], b"\r\n")?;
            return Some((body, end + 2));
        }
        body.extend_from_slice(data.get(at..at + size)?);
        at += size + 2;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
