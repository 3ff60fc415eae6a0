//! Raw HTTP/1.1 requests over a plain TCP connection, to check status codes and headers
//! exactly as a client sees them.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const IO_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// The reason phrase of the status line (hg shows only this to its users).
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `Authorization: Basic base64(user:password)`
pub fn basic(user: &str, password: &str) -> (String, String) {
    let value = STANDARD.encode(format!("{user}:{password}"));
    ("Authorization".to_string(), format!("Basic {value}"))
}

/// `Authorization: Bearer TOKEN`
pub fn bearer(token: &str) -> (String, String) {
    ("Authorization".to_string(), format!("Bearer {token}"))
}

/// `GET target` on 127.0.0.1:`port` with `Connection: close` and the extra `headers`.
pub fn get(port: u16, target: &str, headers: &[(String, String)]) -> Response {
    request(port, "GET", target, headers)
}

pub fn request(port: u16, method: &str, target: &str, headers: &[(String, String)]) -> Response {
    send(port, method, target, headers, None)
}

/// Like [`request`], with `body` sent after a `Content-Length` header.
pub fn request_with_body(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Response {
    send(port, method, target, headers, Some(body))
}

fn send(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Response {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    let raw = exchange(port, &bytes);
    parse(&raw).unwrap_or_else(|| {
        panic!(
            "{method} {target}: not an HTTP response: {:?}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// Sends `bytes` and reads until the server closes the connection.
pub fn exchange(port: u16, bytes: &[u8]) -> Vec<u8> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(IO_TIMEOUT))
        .expect("set timeout");
    stream
        .set_write_timeout(Some(IO_TIMEOUT))
        .expect("set timeout");
    stream
        .write_all(bytes)
        .unwrap_or_else(|e| panic!("write to {addr}: {e}"));
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        assert!(!raw.is_empty(), "read from {addr}: {e}");
    }
    raw
}

/// Parses a response head and takes the rest as the body (chunked bodies are de-chunked).
fn parse(raw: &[u8]) -> Option<Response> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let mut status_line = lines.next()?.splitn(3, ' ').skip(1);
    let status = status_line.next()?.parse().ok()?;
    let reason = status_line.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some(Response {
        status,
        reason,
        headers,
        body,
    })
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = size.split(';').next().unwrap_or("");
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}
