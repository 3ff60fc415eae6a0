//! `/metrics`: the text parses as OpenMetrics line by line, counts the requests of a real
//! `git clone`, and no label holds a repo path, a user name, a token name or a secret.

use super::{Site, admin_get};
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::http;
use crate::support::vcsgate::GateConfig;

/// One sample line: `name{label="value",…} value`.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses `name{labels}`'s label part (after `{`); returns the labels and the rest after `}`.
fn parse_labels(mut rest: &str) -> (Vec<(String, String)>, &str) {
    let mut labels = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return (labels, after);
        }
        let (key, after) = rest.split_once("=\"").expect("label key=\"");
        assert!(is_name(key), "bad label name {key:?}");
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next().expect("unterminated label value");
            match c {
                '\\' => match chars.next().expect("escape").1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break i,
                c => value.push(c),
            }
        };
        labels.push((key.to_string(), value));
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

/// Parses the whole exposition strictly: `# TYPE/HELP/UNIT` comments, samples, `# EOF` last.
/// Any other line fails the test.
pub fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut saw_eof = false;
    for line in text.lines() {
        assert!(!saw_eof, "a line after # EOF: {line:?}");
        if line == "# EOF" {
            saw_eof = true;
            continue;
        }
        if let Some(comment) = line.strip_prefix("# ") {
            let mut words = comment.splitn(3, ' ');
            let kind = words.next().unwrap_or_default();
            let name = words.next().unwrap_or_default();
            assert!(
                ["TYPE", "HELP", "UNIT"].contains(&kind) && is_name(name),
                "bad comment line {line:?}"
            );
            if kind == "TYPE" {
                let t = words.next().unwrap_or_default();
                assert!(
                    [
                        "counter",
                        "gauge",
                        "histogram",
                        "info",
                        "summary",
                        "unknown",
                        "stateset",
                        "gaugehistogram"
                    ]
                    .contains(&t),
                    "bad type {line:?}"
                );
            }
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .unwrap_or_else(|| panic!("bad sample line {line:?}"));
        let name = &line[..name_end];
        assert!(is_name(name), "bad metric name in {line:?}");
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end + 1..])
        } else {
            (Vec::new(), &line[name_end..])
        };
        let value = rest
            .trim()
            .split(' ')
            .next()
            .unwrap_or_default()
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("bad sample value in {line:?}"));
        samples.push(Sample {
            name: name.to_string(),
            labels,
            value,
        });
    }
    assert!(saw_eof, "the exposition must end with # EOF:\n{text}");
    samples
}

/// Fetches and parses `/metrics`.
pub fn scrape(admin: u16) -> (String, Vec<Sample>) {
    let response = admin_get(admin, "/metrics");
    assert_eq!(response.status, 200, "{response:?}");
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/openmetrics-text")
            || content_type.starts_with("text/plain"),
        "content type {content_type:?}"
    );
    let samples = parse(&response.body);
    (response.body, samples)
}

fn sum(samples: &[Sample], name: &str, filter: impl Fn(&Sample) -> bool) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name && filter(s))
        .map(|s| s.value)
        .sum()
}

#[test]
fn metrics_parse_count_a_real_clone_and_keep_labels_bounded() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("ci-metrics", "read_repository");
    site.gate.serve();
    let (_, before) = scrape(site.admin);
    let remote = Remote::new(
        &site.gate.url(),
        "/local/team/app.git",
        &Cred::basic(&token),
    );
    let git = GitClient::new();
    let out = git.clone(&remote, "c");
    assert!(out.ok(), "clone:\n{out}\n{}", site.gate.log());
    // One refused request with a bad token and one without a route.
    let bad = http::get(
        site.gate.port(),
        "/local/team/app.git/info/refs?service=git-upload-pack",
        &[http::basic("x", "vcsgate_notatoken")],
    );
    assert_eq!(bad.status, 401);
    let nowhere = http::get(site.gate.port(), "/nowhere/x", &[]);
    assert_eq!(nowhere.status, 404);

    let (text, after) = scrape(site.admin);
    let ok_requests = |samples: &[Sample]| {
        sum(samples, "vcsgate_requests_total", |s| {
            s.label("route") == Some("/local")
                && s.label("vcs") == Some("git")
                && s.label("status") == Some("200")
        })
    };
    let counted = ok_requests(&after) - ok_requests(&before);
    // A protocol v2 clone: info/refs, ls-refs, fetch (at least two successful requests).
    assert!(
        counted >= 2.0,
        "the clone's successful requests were not counted ({counted}):\n{text}"
    );
    let upload_pack = sum(&after, "vcsgate_requests_total", |s| {
        s.label("operation")
            .is_some_and(|op| op.contains("upload-pack"))
    });
    assert!(upload_pack >= 2.0, "operations are labelled:\n{text}");
    let unauthorized = sum(&after, "vcsgate_auth_failures_total", |_| true);
    assert!(unauthorized >= 1.0, "auth failures counted:\n{text}");
    let no_route = sum(&after, "vcsgate_requests_total", |s| {
        s.label("status") == Some("404") && s.label("route") == Some("-")
    });
    assert_eq!(no_route, 1.0, "the 404 is counted without a route:\n{text}");
    let bytes_out = sum(&after, "vcsgate_bytes_total", |s| {
        s.label("route") == Some("/local") && s.label("direction") == Some("out")
    });
    assert!(bytes_out > 0.0, "bytes to clients counted:\n{text}");
    let durations = sum(&after, "vcsgate_request_duration_seconds_count", |s| {
        s.label("access") == Some("read")
    });
    assert!(durations >= 2.0, "durations observed:\n{text}");
    for name in [
        "vcsgate_store_up",
        "vcsgate_cached_tokens",
        "vcsgate_open_connections",
        "vcsgate_throttled_total",
        "vcsgate_build_info",
    ] {
        assert!(
            after.iter().any(|s| s.name == name),
            "{name} missing:\n{text}"
        );
    }
    assert_eq!(sum(&after, "vcsgate_store_up", |_| true), 1.0);
    assert!(sum(&after, "vcsgate_cached_tokens", |_| true) >= 1.0);

    // No label value names a repository, a user, a token or its secret.
    let forbidden = ["team", "app", "alice", "ci-metrics", &token, "vcsgate_"];
    for sample in &after {
        for (key, value) in &sample.labels {
            for word in forbidden {
                assert!(
                    !value.contains(word),
                    "label {key}={value:?} of {} holds {word:?}",
                    sample.name
                );
            }
        }
    }
    // Nothing of the admin listener is served on the main listener.
    let on_main = http::get(site.gate.port(), "/metrics", &[]);
    assert_eq!(on_main.status, 404, "{on_main:?}");
    site.gate.stop();
}
