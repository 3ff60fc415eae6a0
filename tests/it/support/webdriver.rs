//! A small W3C WebDriver client for the page tests: `chromedriver` (Debian `chromium-driver`)
//! driving a headless `chromium`, spoken to over HTTP/1.1 on a loopback port. Only what the
//! tests use: navigate, find, type, click, read text and source, cookies, screenshots.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::poll;
use super::ports;
use super::process::Daemon;
use super::tools;

/// The key W3C WebDriver names elements by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver with one headless Chromium session.
pub struct Browser {
    // Declared first: the session ends before the driver stops.
    session: String,
    port: u16,
    _driver: Daemon,
    _profile: tempfile::TempDir,
}

/// An element found on the page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver and a headless Chromium window of `width` × `height`.
    #[track_caller]
    pub fn start(width: u32, height: u32) -> Browser {
        let driver = tools::require("chromedriver", "chromium-driver");
        let chromium = tools::require("chromium", "chromium");
        let (daemon, port) = start_driver(&driver);
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.display().to_string(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--no-first-run", "--disable-extensions",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let answer = raw(port, "POST", "/session", Some(&capabilities));
        let session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver gave no session: {answer}"))
            .to_owned();
        Browser {
            session,
            port,
            _driver: daemon,
            _profile: profile,
        }
    }

    #[track_caller]
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        raw(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        )
    }

    /// Opens `url` and waits for it to load.
    #[track_caller]
    pub fn go(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    #[track_caller]
    pub fn url(&self) -> String {
        self.call("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[track_caller]
    pub fn source(&self) -> String {
        self.call("GET", "/source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[track_caller]
    pub fn title(&self) -> String {
        self.call("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Every element matching a CSS selector.
    #[track_caller]
    pub fn all(&self, css: &str) -> Vec<Element> {
        let found = self.call(
            "POST",
            "/elements",
            Some(&json!({"using": "css selector", "value": css})),
        );
        found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|e| e[ELEMENT].as_str().map(|id| Element(id.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The one element matching a CSS selector (fails the test otherwise).
    #[track_caller]
    pub fn find(&self, css: &str) -> Element {
        let mut found = self.all(css);
        assert_eq!(
            found.len(),
            1,
            "expected one {css:?} on {}:\n{}",
            self.url(),
            self.source()
        );
        found.remove(0)
    }

    #[track_caller]
    pub fn type_into(&self, element: &Element, text: &str) {
        self.call(
            "POST",
            &format!("/element/{}/value", element.0),
            Some(&json!({ "text": text })),
        );
    }

    #[track_caller]
    pub fn clear(&self, element: &Element) {
        self.call(
            "POST",
            &format!("/element/{}/clear", element.0),
            Some(&json!({})),
        );
    }

    #[track_caller]
    pub fn click(&self, element: &Element) {
        self.call(
            "POST",
            &format!("/element/{}/click", element.0),
            Some(&json!({})),
        );
    }

    #[track_caller]
    pub fn text(&self, element: &Element) -> String {
        let text = self.call("GET", &format!("/element/{}/text", element.0), None);
        text.as_str().unwrap_or_default().to_owned()
    }

    #[track_caller]
    pub fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        let value = self.call(
            "GET",
            &format!("/element/{}/property/{name}", element.0),
            None,
        );
        value.as_str().map(str::to_owned)
    }

    #[track_caller]
    pub fn is_selected(&self, element: &Element) -> bool {
        self.call("GET", &format!("/element/{}/selected", element.0), None) == Value::Bool(true)
    }

    /// The value of the cookie `name` the browser holds for the current page.
    #[track_caller]
    pub fn cookie(&self, name: &str) -> Option<String> {
        let cookies = self.call("GET", "/cookie", None);
        cookies
            .as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_str().map(str::to_owned))
    }

    #[track_caller]
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(&json!({"width": width, "height": height})),
        );
    }

    /// Saves a PNG screenshot of the window.
    #[track_caller]
    pub fn screenshot(&self, path: &Path) {
        let data = self.call("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or_default())
            .expect("screenshot is base64");
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Never panics (it may run while a failed test unwinds); the driver stops after.
        let _ = exchange(
            self.port,
            "DELETE",
            &format!("/session/{}", self.session),
            None,
        );
    }
}

/// Starts chromedriver on a free port and waits until it is the one listening there (the
/// port may be taken by another test between choosing and binding it: chromedriver then
/// exits, and another port is tried).
#[track_caller]
fn start_driver(driver: &std::path::Path) -> (Daemon, u16) {
    let mut tried = Vec::new();
    for _ in 0..3 {
        let port = ports::free_port();
        let mut cmd = Command::new(driver);
        cmd.arg(format!("--port={port}"));
        let mut daemon = Daemon::spawn("chromedriver", &mut cmd);
        let up = poll::until(Duration::from_secs(20), Duration::from_millis(50), || {
            daemon.exited().is_some() || ports::listened_by(daemon.pid(), port)
        });
        if up.is_some() && daemon.exited().is_none() {
            return (daemon, port);
        }
        daemon.stop();
        tried.push(port);
    }
    panic!("chromedriver did not listen on any of the ports {tried:?}");
}

/// One WebDriver command: its `value`, failing the test on a WebDriver error.
#[track_caller]
fn raw(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let (status, text) = exchange(port, method, path, body)
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
    let parsed: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e}): {text:?}"));
    let value = parsed["value"].clone();
    assert!(
        status == 200 && value.get("error").is_none(),
        "WebDriver {method} {path} failed: {status} {value}"
    );
    value
}

/// Sends one request and reads the response by its `Content-Length` (chromedriver keeps
/// connections open, so reading to the end would wait for its idle timeout).
fn exchange(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, String)> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut bytes = Vec::new();
    match length {
        Some(n) => {
            bytes.resize(n, 0);
            reader.read_exact(&mut bytes)?;
        }
        None => {
            reader.read_to_end(&mut bytes)?;
        }
    }
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}
