//! The HTTP/1.1 lane (`src/proxy/http1`) and the lean backend exchange
//! (`src/proxy/upstream/raw.rs`) on the wire, through the real `vcsgate serve`. NEEDS THE
//! PROXY.
//!
//! The client side speaks raw bytes over one TCP connection (keep-alive, pipelining,
//! hand-off to hyper mid-connection, HEAD, malformed and oversized heads, the header
//! timeout). The backend is a loopback HTTP/1.1 server written here that answers fixed bytes
//! and records every request and connection: these are framing tests, not a VCS stand-in.
//! Each answer the client gets is read with strict framing ([`Client::response`]): the next
//! response must start exactly where the previous one ended.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::http;
use crate::support::vcsgate::{Gate, GateConfig};
use crate::support::wire;

/// A git read through the lane (`GET`, no body).
const REFS: &str = "/git/team/app.git/info/refs?service=git-upload-pack";
/// Another read on the same repository (a dumb-protocol file).
const DUMB_HEAD: &str = "/git/team/app.git/HEAD";
/// A read with a body: hyper serves it.
const UPLOAD_PACK: &str = "/git/team/app.git/git-upload-pack";
/// A write with a body: refused (403) for a read token, by hyper.
const RECEIVE_PACK: &str = "/git/team/app.git/git-receive-pack";
/// How long a client waits for anything.
const WAIT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------
// The loopback backend.

/// One request the backend read.
#[derive(Debug, Clone)]
struct Got {
    /// Which connection (0-based, in accept order).
    conn: usize,
    /// Which request on that connection (0-based).
    nth_on_conn: usize,
    /// Which request overall (0-based).
    nth: usize,
    method: String,
    target: String,
    /// The head, lines joined by `\n`.
    head: String,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// What the backend does with a request.
enum Reply {
    /// Writes these bytes and waits for the next request.
    Answer(Vec<u8>),
    /// Writes these bytes and closes the connection.
    AnswerThenClose(Vec<u8>),
    /// Closes the connection without a byte of answer.
    Close,
}

type Script = dyn Fn(&Got) -> Reply + Send + Sync;

struct Backend {
    port: u16,
    got: Arc<Mutex<Vec<Got>>>,
    connections: Arc<AtomicUsize>,
}

impl Backend {
    /// Answers every request it reads as `script` says.
    fn start(script: impl Fn(&Got) -> Reply + Send + Sync + 'static) -> Backend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test backend");
        let port = listener.local_addr().expect("backend address").port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        {
            let (got, connections) = (Arc::clone(&got), Arc::clone(&connections));
            thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let conn = connections.fetch_add(1, Ordering::SeqCst);
                    let (got, script) = (Arc::clone(&got), Arc::clone(&script));
                    thread::spawn(move || serve_backend_conn(stream, conn, &got, &*script));
                }
            });
        }
        Backend {
            port,
            got,
            connections,
        }
    }

    /// `http://127.0.0.1:PORT/git`
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/git", self.port)
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

fn serve_backend_conn(stream: TcpStream, conn: usize, got: &Mutex<Vec<Got>>, script: &Script) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let mut writer = stream.try_clone().expect("clone the backend stream");
    let mut reader = BufReader::new(stream);
    for nth_on_conn in 0.. {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let (method, target, head, body) = request;
        let seen = {
            let mut got = got.lock().unwrap();
            let seen = Got {
                conn,
                nth_on_conn,
                nth: got.len(),
                method,
                target,
                head,
                body,
            };
            got.push(seen.clone());
            seen
        };
        match script(&seen) {
            Reply::Answer(bytes) => {
                if writer.write_all(&bytes).is_err() {
                    return;
                }
            }
            Reply::AnswerThenClose(bytes) => {
                let _ = writer.write_all(&bytes);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Reply::Close => {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

/// One request: method, target, head, body (by `Content-Length` or chunked). `None` at the
/// connection's end.
fn read_request(reader: &mut impl BufRead) -> Option<(String, String, String, Vec<u8>)> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    let mut first = lines.first()?.split(' ');
    let (method, target) = (first.next()?.to_string(), first.next()?.to_string());
    let value = |name: &str| {
        lines.iter().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_ascii_lowercase())
        })
    };
    let mut body = Vec::new();
    if value("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                // Trailers, then the empty line.
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).ok()?;
                    if line.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            let mut chunk = vec![0u8; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = value("content-length").and_then(|v| v.parse().ok()) {
        body = vec![0u8; length];
        reader.read_exact(&mut body).ok()?;
    }
    Some((method, target, lines.join("\n"), body))
}

/// `HTTP/1.1 200 OK` with `Content-Length` and `body`.
fn ok(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// What the backend says to request `got`: its method, target and overall number.
fn echo(got: &Got) -> String {
    format!("{} {} #{}", got.method, got.target, got.nth)
}

// ---------------------------------------------------------------------------------------
// The gate and the client.

/// vcsgate with one route `/git` → `backend`, alice with a read grant on `git/team/app`
/// and a `read_repository` token; serving.
fn gate_for(backend: &Backend, limits: toml::Table) -> (Gate, String) {
    let mut config = GateConfig::new().route("/git", "git", &backend.url());
    if !limits.is_empty() {
        config = config.section("limits", limits);
    }
    let mut gate = Gate::new(config);
    gate.user_add("alice");
    gate.grant("alice", "git/team/app", "read");
    let token = gate.token("alice", "ci", &["--scope", "read_repository"]);
    gate.serve();
    (gate, token)
}

/// One response as read off the wire with strict framing.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// `Transfer-Encoding: chunked` framed it.
    chunked: bool,
    /// Trailer lines after the last chunk.
    trailers: Vec<String>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn closes(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.to_ascii_lowercase().contains("close"))
    }
}

/// A keep-alive client connection to the gate, with the bytes read but not yet used.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    what: String,
}

impl Client {
    fn connect(gate: &Gate) -> Client {
        let stream = wire::connect_from(wire::LOCALHOST, gate.port()).expect("connect to vcsgate");
        stream.set_write_timeout(Some(WAIT)).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            what: String::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.what
            .push_str(&String::from_utf8_lossy(&bytes[..bytes.len().min(300)]));
        self.stream.write_all(bytes).expect("write to vcsgate");
    }

    /// Reads more; false at the end of the connection or after `WAIT`.
    fn fill(&mut self, deadline: Instant) -> bool {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        self.stream.set_read_timeout(Some(left)).unwrap();
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => true,
            Err(_) => false,
        }
    }

    /// The next bytes up to and including `end`, reading as needed.
    fn take_until(&mut self, end: &[u8], deadline: Instant) -> Option<Vec<u8>> {
        loop {
            if let Some(at) = find(&self.buf, end) {
                return Some(self.buf.drain(..at + end.len()).collect());
            }
            if !self.fill(deadline) {
                return None;
            }
        }
    }

    fn take(&mut self, n: usize, deadline: Instant) -> Option<Vec<u8>> {
        while self.buf.len() < n {
            if !self.fill(deadline) {
                return None;
            }
        }
        Some(self.buf.drain(..n).collect())
    }

    /// The next response, strictly framed; fails the test when none comes whole. `head`:
    /// it answers a `HEAD` (no body whatever the fields say). A response framed by neither
    /// length nor chunks runs to the connection's end.
    #[track_caller]
    fn response(&mut self, head: bool) -> Answer {
        let deadline = Instant::now() + WAIT;
        let answer = self.try_response(head, deadline);
        answer.unwrap_or_else(|| {
            panic!(
                "no complete response; sent:\n{}\n--- got (unused): {:?}",
                self.what,
                String::from_utf8_lossy(&self.buf)
            )
        })
    }

    fn try_response(&mut self, head: bool, deadline: Instant) -> Option<Answer> {
        let raw = self.take_until(b"\r\n\r\n", deadline)?;
        let text = String::from_utf8_lossy(&raw[..raw.len() - 4]).into_owned();
        let mut lines = text.split("\r\n");
        let status_line = lines.next()?;
        assert!(
            status_line.starts_with("HTTP/1.1 ") || status_line.starts_with("HTTP/1.0 "),
            "not a status line where a response should start: {status_line:?} (framing of the \
             previous response?)"
        );
        let mut parts = status_line.splitn(3, ' ').skip(1);
        let status: u16 = parts.next()?.parse().ok()?;
        let reason = parts.next().unwrap_or_default().to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        let mut answer = Answer {
            status,
            reason,
            headers,
            body: Vec::new(),
            chunked: false,
            trailers: Vec::new(),
        };
        let lengths: Vec<&str> = answer
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.as_str())
            .collect();
        let chunked = answer
            .header("transfer-encoding")
            .map(str::to_ascii_lowercase);
        if head || status / 100 == 1 || status == 204 || status == 304 {
            return Some(answer);
        }
        assert!(
            lengths.len() <= 1 && (chunked.is_none() || lengths.is_empty()),
            "ambiguous framing sent to the client: {answer:?}"
        );
        if let Some(coding) = chunked {
            assert_eq!(coding, "chunked", "{answer:?}");
            answer.chunked = true;
            loop {
                let line = self.take_until(b"\r\n", deadline)?;
                let line = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
                let size = line.split(';').next().unwrap_or_default().trim();
                let size = usize::from_str_radix(size, 16)
                    .unwrap_or_else(|_| panic!("bad chunk size line {line:?} in {answer:?}"));
                if size == 0 {
                    loop {
                        let line = self.take_until(b"\r\n", deadline)?;
                        if line == b"\r\n" {
                            return Some(answer);
                        }
                        let line = String::from_utf8_lossy(&line[..line.len() - 2]);
                        answer.trailers.push(line.into_owned());
                    }
                }
                let data = self.take(size + 2, deadline)?;
                assert!(data.ends_with(b"\r\n"), "chunk without CRLF: {data:?}");
                answer.body.extend_from_slice(&data[..size]);
            }
        }
        if let Some(length) = lengths.first() {
            let length: usize = length.parse().expect("a Content-Length of digits");
            answer.body = self.take(length, deadline)?;
            return Some(answer);
        }
        // Until the connection's end.
        while self.fill(deadline) {}
        answer.body = std::mem::take(&mut self.buf);
        Some(answer)
    }

    /// Waits up to `wait` for the server to close; returns whether it did and any bytes
    /// that came first.
    fn wait_close(&mut self, wait: Duration) -> (bool, Vec<u8>) {
        let (raw, closed) = wire::read_until_close(&mut self.stream, wait);
        let mut all = std::mem::take(&mut self.buf);
        all.extend_from_slice(&raw);
        (closed, all)
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A keep-alive request head (no `Connection: close`) with `token`'s credentials.
fn get(method: &str, target: &str, token: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let (name, value) = http::basic("x", token);
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{name}: {value}\r\n");
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A keep-alive `POST` with `body` after a `Content-Length`.
fn post(target: &str, token: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let length = body.len().to_string();
    let mut bytes = get(
        "POST",
        target,
        token,
        &[("Content-Type", content_type), ("Content-Length", &length)],
    );
    bytes.extend_from_slice(body);
    bytes
}

#[track_caller]
fn assert_answer(answer: &Answer, status: u16, body: &str, gate: &Gate) {
    assert_eq!(
        (answer.status, answer.text().as_str()),
        (status, body),
        "{answer:?}\n--- vcsgate log\n{}",
        gate.log()
    );
}

/// Sends a keep-alive `GET target` on `client` and asserts a 200 with `body`.
#[track_caller]
fn get_ok(client: &mut Client, gate: &Gate, token: &str, target: &str, body: &str) {
    client.send(&get("GET", target, token, &[]));
    assert_answer(&client.response(false), 200, body, gate);
}

fn limits(pairs: &[(&str, i64)]) -> toml::Table {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), toml::Value::Integer(*v)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// The tests.

#[test]
fn keep_alive_gets_reuse_the_client_and_the_backend_connection() {
    let backend = Backend::start(|got| Reply::Answer(ok(&echo(got))));
    let (gate, token) = gate_for(&backend, toml::Table::new());
    let mut client = Client::connect(&gate);
    for n in 0..3 {
        client.send(&get("GET", REFS, &token, &[]));
        let answer = client.response(false);
        assert_answer(
            &answer,
            200,
            &format!("GET /git/team/app.git/info/refs?service=git-upload-pack #{n}"),
            &gate,
        );
        assert!(!answer.closes(), "keep-alive answer says close: {answer:?}");
        assert!(answer.header("date").is_some(), "no Date: {answer:?}");
    }
    let got = backend.got();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(
        backend.connections(),
        1,
        "the lean exchange reuses its idle backend connection: {got:?}"
    );
    assert!(
        got.iter().all(|g| g.header("authorization").is_none()),
        "client credentials reached the backend: {got:?}"
    );
}

#[test]
fn pipelined_gets_are_answered_in_order() {
    let backend = Backend::start(|got| Reply::Answer(ok(&echo(got))));
    let (gate, token) = gate_for(&backend, toml::Table::new());
    let mut client = Client::connect(&gate);
    let mut bytes = get("GET", REFS, &token, &[]);
    bytes.extend(get("GET", DUMB_HEAD, &token, &[]));
    bytes.extend(get("GET", REFS, &token, &[("Connection", "close")]));
    client.send(&bytes);
    let first = client.response(false);
    assert_answer(&first, 200, &format!("GET {REFS} #0"), &gate);
    let second = client.response(false);
    assert_answer(&second, 200, &format!("GET {DUMB_HEAD} #1"), &gate);
    let third = client.response(false);
    assert_answer(&third, 200, &format!("GET {REFS} #2"), &gate);
    assert!(third.closes(), "the last asked to close: {third:?}");
    let (closed, rest) = client.wait_close(WAIT);
    assert!(
        closed && rest.is_empty(),
        "closed after the last: {closed}, then {rest:?}"
    );
}

#[test]
fn bodied_requests_mid_connection_go_to_hyper_and_the_connection_goes_on() {
    let backend = Backend::start(|got| {
        let body = format!("{} body={}", echo(got), String::from_utf8_lossy(&got.body));
        Reply::Answer(ok(&body))
    });
    let (gate, token) = gate_for(&backend, toml::Table::new());

    // A read with a body (hyper forwards it) between two lane GETs.
    let mut client = Client::connect(&gate);
    get_ok(
        &mut client,
        &gate,
        &token,
        REFS,
        &format!("GET {REFS} #0 body="),
    );
    let want = b"0032want 0123456789012345678901234567890123456789\n0000";
    client.send(&post(
        UPLOAD_PACK,
        &token,
        "application/x-git-upload-pack-request",
        want,
    ));
    let answer = client.response(false);
    assert_answer(
        &answer,
        200,
        &format!(
            "POST {UPLOAD_PACK} #1 body={}",
            String::from_utf8_lossy(want)
        ),
        &gate,
    );
    get_ok(
        &mut client,
        &gate,
        &token,
        DUMB_HEAD,
        &format!("GET {DUMB_HEAD} #2 body="),
    );
    // And again: the connection is hyper's now, still keep-alive.
    get_ok(
        &mut client,
        &gate,
        &token,
        REFS,
        &format!("GET {REFS} #3 body="),
    );

    // A write with a body, refused (403, body never read by the backend), between two GETs;
    // the three pipelined in one write.
    let mut client = Client::connect(&gate);
    let mut bytes = get("GET", REFS, &token, &[]);
    bytes.extend(post(
        RECEIVE_PACK,
        &token,
        "application/x-git-receive-pack-request",
        b"0000",
    ));
    bytes.extend(get("GET", DUMB_HEAD, &token, &[]));
    client.send(&bytes);
    assert_answer(
        &client.response(false),
        200,
        &format!("GET {REFS} #4 body="),
        &gate,
    );
    let refused = client.response(false);
    assert_eq!(refused.status, 403, "{refused:?}\n{}", gate.log());
    let after = client.response(false);
    assert_answer(&after, 200, &format!("GET {DUMB_HEAD} #5 body="), &gate);
    let got = backend.got();
    assert_eq!(
        got.len(),
        6,
        "the refused write never reached the backend: {got:?}"
    );
    assert_eq!(got[1].body, want, "the POST body reached the backend whole");
}

#[test]
fn head_answers_carry_the_length_but_no_body_and_the_connection_goes_on() {
    let backend = Backend::start(|got| {
        if got.method == "HEAD" {
            Reply::Answer(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
                    .to_vec(),
            )
        } else {
            Reply::Answer(ok(&echo(got)))
        }
    });
    let (gate, token) = gate_for(&backend, toml::Table::new());
    let mut client = Client::connect(&gate);
    for round in 0..2 {
        client.send(&get("HEAD", REFS, &token, &[]));
        let head = client.response(true);
        assert_eq!(head.status, 200, "{head:?}\n{}", gate.log());
        assert_eq!(head.header("content-length"), Some("5"), "{head:?}");
        assert!(head.header("transfer-encoding").is_none(), "{head:?}");
        // No body bytes: the next thing on the wire is the GET's status line.
        client.send(&get("GET", REFS, &token, &[]));
        let answer = client.response(false);
        assert_answer(
            &answer,
            200,
            &format!("GET {REFS} #{}", round * 2 + 1),
            &gate,
        );
    }
    let got = backend.got();
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        got[0].method, "HEAD",
        "the HEAD went to the backend as HEAD"
    );
}

#[test]
fn chunked_backend_answers_arrive_whole_and_the_backend_connection_is_reused() {
    const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;name=value\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";
    let backend = Backend::start(|got| {
        if got.target.contains("service=") {
            Reply::Answer(CHUNKED.to_vec())
        } else {
            Reply::Answer(ok(&echo(got)))
        }
    });
    let (gate, token) = gate_for(&backend, toml::Table::new());
    let mut client = Client::connect(&gate);
    for _ in 0..2 {
        client.send(&get("GET", REFS, &token, &[]));
        let answer = client.response(false);
        assert_answer(&answer, 200, "hello world!0123456789", &gate);
    }
    // Pipelined behind a chunked answer: the framing ends exactly.
    let mut bytes = get("GET", REFS, &token, &[]);
    bytes.extend(get("GET", DUMB_HEAD, &token, &[]));
    client.send(&bytes);
    assert_answer(
        &client.response(false),
        200,
        "hello world!0123456789",
        &gate,
    );
    assert_answer(
        &client.response(false),
        200,
        &format!("GET {DUMB_HEAD} #3"),
        &gate,
    );
    assert_eq!(
        backend.connections(),
        1,
        "the backend connection is reused after a chunked answer read to its end: {:?}",
        backend.got()
    );
}

#[test]
fn ambiguous_backend_framing_gives_502() {
    let bad: [&[u8]; 4] = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
    ];
    let answers: Vec<Vec<u8>> = bad.iter().map(|b| b.to_vec()).collect();
    let cases = answers.len();
    // Request n gets bad answer n; then good ones.
    let backend = Backend::start(move |got| match answers.get(got.nth) {
        Some(bytes) => Reply::Answer(bytes.clone()),
        None => Reply::Answer(ok(&echo(got))),
    });
    let (gate, token) = gate_for(&backend, toml::Table::new());
    let mut failures = Vec::new();
    for (n, answer) in bad.iter().enumerate() {
        let mut client = Client::connect(&gate);
        client.send(&get("GET", REFS, &token, &[]));
        let got = client.response(false);
        if got.status != 502 {
            failures.push(format!(
                "{:?}: client got {} {:?}",
                String::from_utf8_lossy(answer),
                got.status,
                got.text()
            ));
        }
        assert_eq!(backend.got().len(), n + 1, "one request per case");
    }
    assert!(
        failures.is_empty(),
        "ambiguous framings passed on:\n{}\n--- vcsgate log\n{}",
        failures.join("\n"),
        gate.log()
    );
    // The backend itself is fine afterwards (the bad connections were not kept).
    let mut client = Client::connect(&gate);
    get_ok(
        &mut client,
        &gate,
        &token,
        REFS,
        &format!("GET {REFS} #{cases}"),
    );
}

#[test]
fn a_backend_closing_its_keep_alive_connection_gets_a_new_one() {
    // Answers (keep-alive by HTTP/1.1 default) and closes right after.
    let closing = Backend::start(|got| Reply::AnswerThenClose(ok(&echo(got))));
    let (gate, token) = gate_for(&closing, toml::Table::new());
    let mut client = Client::connect(&gate);
    for n in 0..3 {
        get_ok(
            &mut client,
            &gate,
            &token,
            REFS,
            &format!("GET {REFS} #{n}"),
        );
        // Give the close time to arrive before the next request.
        thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(closing.connections(), 3, "{:?}", closing.got());
    drop(gate);

    // Reads the second request on a connection and closes it without a byte of answer (the
    // race of a backend closing an idle connection as the request arrives): the request is
    // retried once on a new connection.
    let racing = Backend::start(|got| {
        if got.nth_on_conn == 0 {
            Reply::Answer(ok(&echo(got)))
        } else {
            Reply::Close
        }
    });
    let (gate, token) = gate_for(&racing, toml::Table::new());
    let mut client = Client::connect(&gate);
    get_ok(&mut client, &gate, &token, REFS, &format!("GET {REFS} #0"));
    get_ok(
        &mut client,
        &gate,
        &token,
        DUMB_HEAD,
        &format!("GET {DUMB_HEAD} #2"),
    );
    let got = racing.got();
    assert_eq!(
        (got.len(), racing.connections()),
        (3, 2),
        "the second GET: dropped on the idle connection, retried on a new one: {got:?}"
    );
    assert_eq!((got[2].conn, got[2].target.as_str()), (1, DUMB_HEAD));

    drop(gate);

    // A new connection that closes before answering is not retried: 502, one attempt.
    let silent = Backend::start(|_| Reply::Close);
    let (gate, token) = gate_for(&silent, toml::Table::new());
    let mut client = Client::connect(&gate);
    client.send(&get("GET", REFS, &token, &[]));
    let failed = client.response(false);
    assert_eq!(failed.status, 502, "{failed:?}\n{}", gate.log());
    assert_eq!(silent.got().len(), 1, "tried once: {:?}", silent.got());
}

#[test]
fn a_backend_answer_delimited_by_the_close_arrives_whole() {
    let big: String = (0..20_000)
        .map(|i| format!("{:05}\n", i % 100_000))
        .collect();
    let body = big.clone();
    let backend = Backend::start(move |got| {
        if got.target.contains("service=") {
            let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n".to_vec();
            bytes.extend_from_slice(body.as_bytes());
            Reply::AnswerThenClose(bytes)
        } else {
            Reply::Answer(ok(&echo(got)))
        }
    });
    let (gate, token) = gate_for(&backend, toml::Table::new());
    let mut client = Client::connect(&gate);
    for _ in 0..2 {
        client.send(&get("GET", REFS, &token, &[]));
        let answer = client.response(false);
        assert_eq!(answer.status, 200, "{answer:?}\n{}", gate.log());
        assert!(
            answer.text() == big,
            "the body arrived cut or changed: {} bytes of {}",
            answer.body.len(),
            big.len()
        );
    }
    get_ok(
        &mut client,
        &gate,
        &token,
        DUMB_HEAD,
        &format!("GET {DUMB_HEAD} #2"),
    );
}

#[test]
fn malformed_oversized_and_old_requests_still_get_hypers_answers() {
    let backend = Backend::start(|got| {
        let body = format!("{} body={}", echo(got), String::from_utf8_lossy(&got.body));
        Reply::Answer(ok(&body))
    });
    let (gate, token) = gate_for(&backend, limits(&[("max_header_bytes", 8192)]));

    // A bad method character after a lane GET: 400.
    let mut client = Client::connect(&gate);
    get_ok(
        &mut client,
        &gate,
        &token,
        REFS,
        &format!("GET {REFS} #0 body="),
    );
    client.send(b"G@T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    let bad = client.response(false);
    assert_eq!(bad.status, 400, "{bad:?}\n{}", gate.log());
    let (closed, _) = client.wait_close(WAIT);
    assert!(closed, "closed after the 400");

    // A head beyond max_header_bytes after a lane GET: 431.
    let mut client = Client::connect(&gate);
    get_ok(
        &mut client,
        &gate,
        &token,
        REFS,
        &format!("GET {REFS} #1 body="),
    );
    let padding = "a".repeat(10_000);
    client.send(&get("GET", REFS, &token, &[("X-Padding", &padding)]));
    let big = client.response(false);
    assert_eq!(big.status, 431, "{big:?}\n{}", gate.log());
    // Just under the limit passes.
    let mut client = Client::connect(&gate);
    let padding = "a".repeat(6_000);
    client.send(&get("GET", REFS, &token, &[("X-Padding", &padding)]));
    assert_answer(
        &client.response(false),
        200,
        &format!("GET {REFS} #2 body="),
        &gate,
    );

    // HTTP/1.0: answered, then closed.
    let mut client = Client::connect(&gate);
    let (name, value) = http::basic("x", &token);
    client.send(
        format!("GET {REFS} HTTP/1.0\r\nHost: 127.0.0.1\r\n{name}: {value}\r\n\r\n").as_bytes(),
    );
    let old = client.try_response(false, Instant::now() + WAIT);
    let old = old.expect("an answer to HTTP/1.0");
    assert_eq!(old.status, 200, "{old:?}\n{}", gate.log());
    assert!(old.text().starts_with(&format!("GET {REFS} #3")), "{old:?}");
    let (closed, rest) = client.wait_close(WAIT);
    assert!(
        closed && rest.is_empty(),
        "HTTP/1.0 closes: {closed} {rest:?}"
    );

    // Expect: 100-continue after a lane GET: 100 Continue (or the final answer), the body
    // goes through, the final answer follows.
    let mut client = Client::connect(&gate);
    get_ok(
        &mut client,
        &gate,
        &token,
        REFS,
        &format!("GET {REFS} #4 body="),
    );
    let body = b"0000";
    client.send(&get(
        "POST",
        UPLOAD_PACK,
        &token,
        &[
            ("Content-Type", "application/x-git-upload-pack-request"),
            ("Content-Length", "4"),
            ("Expect", "100-continue"),
        ],
    ));
    let first = client.response(false);
    let last = if first.status == 100 {
        client.send(body);
        client.response(false)
    } else {
        first
    };
    assert_answer(
        &last,
        200,
        &format!("POST {UPLOAD_PACK} #5 body=0000"),
        &gate,
    );
    get_ok(
        &mut client,
        &gate,
        &token,
        REFS,
        &format!("GET {REFS} #6 body="),
    );
}

/// The server closes `client` without a byte of answer, no sooner than 1 s after `since`
/// (the tests' header timeout is 2 s).
fn assert_closed_by_timeout(client: &mut Client, since: Instant, what: &str) {
    let (closed, bytes) = client.wait_close(WAIT);
    let took = since.elapsed();
    assert!(
        closed && bytes.is_empty(),
        "{what} is closed without an answer: closed {closed}, got {:?}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(
        took >= Duration::from_secs(1),
        "{what}: closed after {took:?}, before the timeout"
    );
}

#[test]
fn the_header_timeout_closes_stalled_and_idle_connections_without_an_answer() {
    let backend = Backend::start(|got| Reply::Answer(ok(&echo(got))));
    let (gate, token) = gate_for(&backend, limits(&[("header_timeout_secs", 2)]));

    // A partial head, then nothing.
    let mut client = Client::connect(&gate);
    let started = Instant::now();
    client.send(format!("GET {REFS} HTTP/1.1\r\nHost: 127.0.0.1\r\n").as_bytes());
    assert_closed_by_timeout(&mut client, started, "a stalled head");

    // An idle keep-alive connection after an answer.
    let mut client = Client::connect(&gate);
    get_ok(&mut client, &gate, &token, REFS, &format!("GET {REFS} #0"));
    assert_closed_by_timeout(&mut client, Instant::now(), "an idle keep-alive connection");

    // A head trickled in within the timeout is served.
    let mut client = Client::connect(&gate);
    let bytes = get("GET", REFS, &token, &[]);
    let (a, b) = bytes.split_at(bytes.len() / 2);
    client.send(a);
    thread::sleep(Duration::from_millis(300));
    client.send(b);
    assert_answer(
        &client.response(false),
        200,
        &format!("GET {REFS} #1"),
        &gate,
    );
    assert_eq!(
        backend.got().len(),
        2,
        "the stalled head never reached the backend"
    );
}

#[test]
fn lane_refusals_keep_vcsgates_reason_phrase() {
    let backend = Backend::start(|got| Reply::Answer(ok(&echo(got))));
    let mut options = toml::Table::new();
    options.insert("repo_depth".into(), toml::Value::Integer(2));
    let hg_url = format!("http://127.0.0.1:{}/hg", backend.port);
    let config = GateConfig::new()
        .route("/git", "git", &backend.url())
        .route_with("/hg", "hg", &hg_url, options);
    let mut gate = Gate::new(config);
    gate.user_add("alice");
    gate.grant("alice", "git/team/app", "read");
    let token = gate.token("alice", "ci", &["--scope", "read_repository"]);
    gate.serve();

    let mut client = Client::connect(&gate);
    let target = "/hg/team/app?cmd=capabilities";
    for _ in 0..2 {
        client.send(&get("GET", target, &token, &[]));
        let refused = client.response(false);
        assert_eq!(refused.status, 403, "{refused:?}\n{}", gate.log());
        assert!(
            refused.reason.contains("no read grant for hg/team/app"),
            "the reason phrase is vcsgate's message (all hg shows): {refused:?}"
        );
        assert!(
            !refused.closes(),
            "a refusal keeps the connection: {refused:?}"
        );
    }
    // The connection still serves.
    get_ok(&mut client, &gate, &token, REFS, &format!("GET {REFS} #0"));
    assert_eq!(
        backend.got().len(),
        1,
        "the refused reads never reached the backend"
    );

    // A git refusal keeps the standard phrase.
    client.send(&get(
        "GET",
        "/git/team/other.git/info/refs?service=git-upload-pack",
        &token,
        &[],
    ));
    let refused = client.response(false);
    assert_eq!(
        (refused.status, refused.reason.as_str()),
        (403, "Forbidden"),
        "{refused:?}"
    );
}

#[test]
fn on_sigterm_an_idle_lane_connection_closes_and_the_server_exits_before_the_grace() {
    let backend = Backend::start(|got| Reply::Answer(ok(&echo(got))));
    let (mut gate, token) = gate_for(
        &backend,
        limits(&[("shutdown_grace_secs", 60), ("header_timeout_secs", 60)]),
    );
    let mut client = Client::connect(&gate);
    client.send(&get("GET", REFS, &token, &[]));
    let answer = client.response(false);
    assert_answer(
        &answer,
        200,
        "GET /git/team/app.git/info/refs?service=git-upload-pack #0",
        &gate,
    );
    // The connection is now idle on the lane, waiting for its next head.
    let started = std::time::Instant::now();
    gate.signal("TERM");
    let (closed, rest) = client.wait_close(Duration::from_secs(20));
    assert!(closed, "the idle connection was not closed on SIGTERM");
    assert!(
        rest.is_empty(),
        "bytes on an idle connection at shutdown: {rest:?}"
    );
    let status = gate.wait_exit(Duration::from_secs(20));
    assert!(
        status.is_some(),
        "vcsgate did not exit within 20 s of SIGTERM (grace 60 s): an idle connection held it"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "exit took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_connection_the_lane_served_never_turns_into_http2() {
    let backend = Backend::start(|got| Reply::Answer(ok(&echo(got))));
    let (gate, token) = gate_for(&backend, toml::Table::new());
    let mut client = Client::connect(&gate);
    client.send(&get("GET", REFS, &token, &[]));
    let answer = client.response(false);
    assert_answer(
        &answer,
        200,
        "GET /git/team/app.git/info/refs?service=git-upload-pack #0",
        &gate,
    );
    // The HTTP/2 preface on the same connection: hyper, now HTTP/1 only, refuses it.
    client.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00");
    let (closed, rest) = client.wait_close(Duration::from_secs(20));
    assert!(closed, "the connection stayed open after an HTTP/2 preface");
    assert!(
        rest.is_empty() || rest.starts_with(b"HTTP/1.1 4"),
        "the connection switched protocol or answered otherwise: {:?}",
        String::from_utf8_lossy(&rest[..rest.len().min(200)])
    );
    assert_eq!(backend.got().len(), 1, "the preface reached the backend");
}

#[test]
fn a_final_informational_answer_from_the_backend_becomes_502_and_closes() {
    // svn OPTIONS is a bodiless read that goes through hyper's client, which passes a 101
    // on as the answer.
    let backend = Backend::start(|got| {
        if got.method == "OPTIONS" {
            Reply::Answer(b"HTTP/1.1 101 Switching Protocols\r\n\r\n".to_vec())
        } else {
            Reply::Answer(ok(&echo(got)))
        }
    });
    let svn_url = format!("http://127.0.0.1:{}/svn", backend.port);
    let config = GateConfig::new().route("/svn", "svn", &svn_url);
    let mut gate = Gate::new(config);
    gate.user_add("alice");
    gate.grant("alice", "svn/app", "read");
    let token = gate.token("alice", "ci", &["--scope", "read_repository"]);
    gate.serve();
    let mut client = Client::connect(&gate);
    client.send(&get("GET", "/svn/app/trunk/README", &token, &[]));
    let first = client.response(false);
    assert_eq!(first.status, 200, "{first:?}\n{}", gate.log());
    client.send(&get("OPTIONS", "/svn/app/trunk", &token, &[]));
    let answer = client.response(false);
    assert_eq!(answer.status, 502, "{answer:?}\n{}", gate.log());
    assert!(
        answer.closes(),
        "the connection must end after it: {answer:?}"
    );
    let (closed, rest) = client.wait_close(Duration::from_secs(20));
    assert!(closed && rest.is_empty(), "{rest:?}");
}
