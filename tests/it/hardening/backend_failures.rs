//! Failure behaviour towards the backend: a backend that is down gets the client a 502 at
//! once (not after `[limits] connect_timeout_secs`), one that accepts but never answers a 504
//! after `first_byte_timeout_secs`, each with a plain-text line saying so.

use std::io::Read;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{CONTROL, basic};
use crate::support::http::{self, Response};
use crate::support::ports;
use crate::support::vcsgate::{Gate, GateConfig};

/// A vcsgate with one route `/git` → `backend`, alice with a read token on `git/team/app`.
fn gate_for(backend: &str, config: GateConfig) -> (Gate, String) {
    let mut gate = Gate::new(config.route("/git", "git", backend));
    gate.user_add("alice");
    gate.grant("alice", "git/team/app", "read");
    let token = gate.token("alice", "ci", &["--scope", "read_repository"]);
    gate.serve();
    (gate, token)
}

fn timed_get(gate: &Gate, token: &str) -> (Response, Duration) {
    let started = Instant::now();
    let response = http::get(gate.port(), CONTROL, &[basic(token)]);
    (response, started.elapsed())
}

/// The body is one non-empty line of text containing `words`.
#[track_caller]
fn assert_text_line(response: &Response, words: &[&str]) {
    let content_type = response.header("Content-Type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{response:?}");
    let text = response.body.trim();
    assert!(
        !text.is_empty() && text.lines().count() == 1,
        "one line of text: {response:?}"
    );
    for word in words {
        assert!(text.contains(word), "the message names {word:?}: {text:?}");
    }
}

/// Longer than any test waits: a 502 that took this long would have waited for it.
const CONNECT_TIMEOUT_SECS: i64 = 60;

#[test]
fn backend_down_gives_502_at_once_not_after_the_connect_timeout() {
    // Nothing listens on this port: the connection is refused, and vcsgate says so at once
    // instead of retrying until `connect_timeout_secs`.
    let closed = ports::free_port();
    let mut limits = toml::Table::new();
    limits.insert(
        "connect_timeout_secs".into(),
        toml::Value::Integer(CONNECT_TIMEOUT_SECS),
    );
    let config = GateConfig::new().section("limits", limits);
    let (gate, token) = gate_for(&format!("http://127.0.0.1:{closed}/git"), config);
    let (response, took) = timed_get(&gate, &token);
    assert_eq!(response.status, 502, "{response:?}\n{}", gate.log());
    assert!(
        took < Duration::from_secs(CONNECT_TIMEOUT_SECS as u64 / 2),
        "502 took {took:?}: vcsgate waited for the connect timeout"
    );
    eprintln!("backend down: 502 after {took:?}");
    assert_text_line(&response, &["backend"]);
}

#[test]
fn silent_backend_gives_504_after_the_first_byte_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        // Reads each request head and never answers (the connections are kept open).
        let heads = Arc::clone(&heads);
        thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                heads
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                held.push(stream);
            }
        });
    }
    let mut limits = toml::Table::new();
    limits.insert("first_byte_timeout_secs".into(), toml::Value::Integer(1));
    let config = GateConfig::new().section("limits", limits);
    let (gate, token) = gate_for(&format!("http://127.0.0.1:{port}/git"), config);
    let (response, took) = timed_get(&gate, &token);
    assert_eq!(response.status, 504, "{response:?}\n{}", gate.log());
    // Never before the timeout; and well before the client would have given up (the
    // backend never answers, so without the timeout this would take 30 s).
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(20),
        "504 after {took:?}; first_byte_timeout_secs = 1"
    );
    eprintln!("silent backend: 504 after {took:?}");
    assert_text_line(&response, &["backend"]);
    let heads = heads.lock().unwrap().clone();
    assert_eq!(
        heads.len(),
        1,
        "the backend got the request once: {heads:?}"
    );
    assert!(
        heads[0].starts_with(&format!("GET {CONTROL} HTTP/1.1\r\n")),
        "the backend got {:?}",
        heads[0]
    );
    assert!(
        !heads[0].to_ascii_lowercase().contains("\r\nauthorization:"),
        "client credentials reached the backend: {:?}",
        heads[0]
    );
}
