//! Secret hygiene for every end-to-end test: each secret the harness hands out (tokens made
//! by [`super::vcsgate::Gate::token`], passwords a test registers, backend identity secrets
//! from [`super::vcsgate::basic_identity`]) is remembered here, and every component that
//! writes logs (vcsgate, Apache, hg serve and the recorder in front of it) scans them for
//! all remembered secrets when it is dropped, failing the test that leaked one. A log that
//! is missing or unreadable fails the test too: the scan never silently turns off.
//!
//! A secret is looked for as itself, percent-encoded, and in any standard base64 text that
//! contains it (an `Authorization: Basic base64(user:TOKEN)` header, whatever the user name):
//! base64 encodes 3-byte groups, so for each of the 3 alignments the encoding of the
//! secret's complete groups is a fixed string ([`needles`]).

use std::path::Path;
use std::sync::{Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// Shorter secrets would match by chance; the harness only registers long ones.
const MIN_SECRET_LEN: usize = 12;

/// Who may see a secret: nobody, or the backend only (a route's `[route.identity]` secret,
/// which vcsgate sends the backend and must never print itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Nobody,
    Backend,
}

fn registry() -> &'static Mutex<Vec<(String, Audience)>> {
    static SECRETS: OnceLock<Mutex<Vec<(String, Audience)>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

fn register(secret: &str, audience: Audience) {
    assert!(
        secret.len() >= MIN_SECRET_LEN,
        "a secret to watch must have at least {MIN_SECRET_LEN} characters: {secret:?}"
    );
    let mut secrets = registry().lock().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|(s, _)| s == secret) {
        secrets.push((secret.to_string(), audience));
    }
}

/// Remembers `secret`: from now on no log scanned by [`assert_no_leak`] or
/// [`assert_backend_no_leak`] may contain it.
pub fn remember(secret: &str) {
    register(secret, Audience::Nobody);
}

/// Remembers a secret vcsgate hands the backend (`[route.identity]` basic): vcsgate's own
/// logs ([`assert_no_leak`]) must never contain it; the backend's may.
pub fn remember_backend_credential(secret: &str) {
    register(secret, Audience::Backend);
}

/// Every secret remembered so far (by any test of this process).
pub fn remembered() -> Vec<String> {
    let secrets = registry().lock().unwrap_or_else(|e| e.into_inner());
    secrets.iter().map(|(s, _)| s.clone()).collect()
}

/// The secrets a backend must never see (everything but backend credentials).
fn hidden_from_backends() -> Vec<String> {
    let secrets = registry().lock().unwrap_or_else(|e| e.into_inner());
    secrets
        .iter()
        .filter(|(_, audience)| *audience == Audience::Nobody)
        .map(|(s, _)| s.clone())
        .collect()
}

/// The strings whose presence in a text reveals `secret`: the secret, its percent-encoded
/// forms, and its base64 forms at the three byte alignments.
pub fn needles(secret: &str) -> Vec<String> {
    let mut out = vec![secret.to_string()];
    let encoded = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    out.push(lower_hex_escapes(&encoded));
    out.push(encoded);
    let bytes = secret.as_bytes();
    for skip in 0..3 {
        let rest = &bytes[skip.min(bytes.len())..];
        let whole = rest.len() / 3 * 3;
        if whole >= 9 {
            out.push(STANDARD_NO_PAD.encode(&rest[..whole]));
        }
    }
    let mut unique = Vec::new();
    for needle in out {
        if !unique.contains(&needle) {
            unique.push(needle);
        }
    }
    unique
}

/// `%2F` → `%2f`, leaving everything else as it is.
fn lower_hex_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut hex_left = 0;
    for c in encoded.chars() {
        if hex_left > 0 {
            out.push(c.to_ascii_lowercase());
            hex_left -= 1;
        } else {
            if c == '%' {
                hex_left = 2;
            }
            out.push(c);
        }
    }
    out
}

/// One leaked secret: where, and in which form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    pub source: String,
    pub form: String,
    pub line: String,
}

/// Where `text` (called `source` in reports) reveals one of `secrets`.
pub fn leaks_in(source: &str, text: &str, secrets: &[String]) -> Vec<Leak> {
    let mut leaks = Vec::new();
    for secret in secrets {
        for needle in needles(secret) {
            if let Some(line) = text.lines().find(|l| l.contains(&needle)) {
                leaks.push(Leak {
                    source: source.to_string(),
                    form: needle,
                    line: line.chars().take(300).collect(),
                });
                break;
            }
        }
    }
    leaks
}

/// Scans `files` of vcsgate (each must exist and be readable: a log that cannot be read
/// would hide a leak) for every remembered secret; fails the test naming the file and line of
/// each leak. Does nothing while the thread is already panicking (a second panic would abort
/// the test run).
#[track_caller]
pub fn assert_no_leak(owner: &str, files: &[&Path]) {
    if !std::thread::panicking() {
        scan(owner, files, &remembered());
    }
}

/// Like [`assert_no_leak`] for a backend's logs: backend credentials may appear there.
#[track_caller]
pub fn assert_backend_no_leak(owner: &str, files: &[&Path]) {
    if !std::thread::panicking() {
        scan(owner, files, &hidden_from_backends());
    }
}

#[track_caller]
fn scan(owner: &str, files: &[&Path], secrets: &[String]) {
    let mut leaks = Vec::new();
    let mut unreadable = Vec::new();
    for file in files {
        match std::fs::read(file) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                leaks.extend(leaks_in(&file.display().to_string(), &text, secrets));
            }
            Err(e) => unreadable.push(format!("  {}: {e}", file.display())),
        }
    }
    assert!(
        unreadable.is_empty(),
        "SECRET SCAN IMPOSSIBLE: {owner}'s logs cannot be read (a log that is not scanned \
         could hide a leak):\n{}",
        unreadable.join("\n")
    );
    if !leaks.is_empty() {
        let report: Vec<String> = leaks
            .iter()
            .map(|l| format!("  {} (as {:?}): {}", l.source, l.form, l.line))
            .collect();
        panic!(
            "SECRET LEAK: {owner} wrote a token or password into its logs:\n{}",
            report.join("\n")
        );
    }
}
