//! `[log] format = "json"`: every line the server writes is one JSON object, and each
//! request's access line carries the fields of the text access line.

use super::Site;
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::http;
use crate::support::vcsgate::GateConfig;

const ACCESS_FIELDS: &[&str] = &[
    "timestamp",
    "level",
    "client",
    "method",
    "version",
    "path",
    "vcs",
    "route",
    "repo",
    "operation",
    "user",
    "token",
    "credential",
    "status",
    "bytes",
    "duration_ms",
    "complete",
    "refusal",
];

#[test]
fn json_log_lines_parse_and_carry_the_access_fields() {
    let mut log = toml::Table::new();
    log.insert("format".into(), "json".into());
    let mut site = Site::new(GateConfig::new().section("log", log));
    // Info level: what an operator runs with (the harness default is debug).
    site.gate.env("VCSGATE_LOG", "info");
    let token = site.token("ci-json", "read_repository");
    site.gate.serve();
    let remote = Remote::new(
        &site.gate.url(),
        "/local/team/app.git",
        &Cred::basic(&token),
    );
    let out = GitClient::new().clone(&remote, "c");
    assert!(out.ok(), "clone:\n{out}\n{}", site.gate.log());
    let refused = http::get(site.gate.port(), "/local/team/app.git/info/refs", &[]);
    assert_eq!(refused.status, 401);
    site.gate.stop();

    let log = site.gate.log();
    let mut access = Vec::new();
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line:?}\n{log}"));
        let object = value.as_object().expect("each line is an object");
        assert!(object.contains_key("timestamp") && object.contains_key("level"));
        if object.get("target").and_then(|t| t.as_str()) == Some("vcsgate::access") {
            access.push(object.clone());
        }
    }
    assert!(access.len() >= 3, "access lines:\n{log}");
    for line in &access {
        for field in ACCESS_FIELDS {
            assert!(line.contains_key(*field), "{field} missing in {line:?}");
        }
    }
    let served = access
        .iter()
        .find(|l| l["status"] == 200 && l["operation"] == "git-upload-pack")
        .unwrap_or_else(|| panic!("no access line for the upload-pack POST:\n{log}"));
    assert_eq!(served["user"], "alice");
    assert_eq!(served["token"], "ci-json");
    assert_eq!(served["repo"], "local/team/app");
    assert_eq!(served["route"], "/local");
    assert_eq!(served["vcs"], "git");
    assert_eq!(served["method"], "POST");
    assert!(served["bytes"].as_u64().is_some_and(|b| b > 0));
    assert!(served["duration_ms"].as_u64().is_some());
    let unauthorized = access
        .iter()
        .find(|l| l["status"] == 401)
        .expect("an access line for the 401");
    // Without credentials a request is decided as the reserved user `anonymous`.
    assert_eq!(unauthorized["user"], "anonymous");
    assert_eq!(unauthorized["credential"], "anonymous");
    assert!(unauthorized["token"].is_null());
    assert!(unauthorized["refusal"].as_str().is_some());
    assert_eq!(served["credential"], "basic");
}
