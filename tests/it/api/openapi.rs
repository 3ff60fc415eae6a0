//! `docs/openapi.yaml` describes exactly the routes served: every path and method in the file
//! answers on a running server (neither "no such endpoint" nor "method not allowed"), and
//! every served route is in the file.

use std::collections::BTreeSet;

use super::client::call;
use crate::support::vcsgate::{Gate, GateConfig};

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml");
const METHODS: [&str; 5] = ["get", "post", "patch", "delete", "put"];

/// The (METHOD, path) pairs under `paths:` (two-space indented path keys, four-space
/// indented method keys).
fn spec_routes(text: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut in_paths = false;
    let mut path: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.trim().is_empty() {
            in_paths = line.trim_end() == "paths:";
            path = None;
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(key) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && key.starts_with('/')
        {
            path = Some(key.to_owned());
        } else if let Some(key) = line.strip_prefix("    ").and_then(|l| l.strip_suffix(':'))
            && METHODS.contains(&key)
            && let Some(path) = &path
        {
            routes.insert((key.to_uppercase(), path.clone()));
        }
    }
    routes
}

#[test]
fn openapi_file_and_served_routes_agree() {
    let text = std::fs::read_to_string(SPEC).expect("docs/openapi.yaml");
    assert!(text.starts_with("openapi: 3.1"), "an OpenAPI 3.1 document");
    let described = spec_routes(&text);
    let served: BTreeSet<(String, String)> = vcsgate::api::routes::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), format!("/-/api/v1{p}")))
        .collect();
    assert_eq!(
        described, served,
        "docs/openapi.yaml against the served routes"
    );

    let repos = tempfile::tempdir().unwrap();
    let mut gate = Gate::new(GateConfig::new().git_repos("/git", repos.path()));
    gate.cli_ok(&["user", "add", "root", "--admin"]);
    let root = gate.token("root", "api", &["--scope", "api"]);
    gate.serve();
    for (method, path) in &described {
        let concrete = path
            .trim_start_matches("/-/api/v1")
            .replace("{name}", "root")
            .replace("{id}", "999999");
        let answer = call(gate.port(), Some(&root), method, &concrete, None);
        let unknown = answer.status == 404 && answer.json["message"] == "no such API endpoint";
        assert!(
            !unknown && answer.status != 405,
            "{method} {path} is in docs/openapi.yaml but not served: {:?}",
            answer.raw
        );
    }
    gate.stop();
}
