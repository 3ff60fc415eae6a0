//! git http-backend looks for a repository under several names (`enter_repo`: `P/.git`, `P`,
//! `P.git/.git`, `P.git`). The built-in backend must serve only the directory the repo path
//! names — `DIR/team/x.git` or `DIR/team/x` for `/git/team/x(.git)` — never a neighbour
//! such as `x.git.git` or `x.git/.git`.

use crate::support::git::{Cred, GitClient, Remote};
use crate::support::http;
use crate::support::repos::{self, Owner};
use crate::support::vcsgate::{Gate, GateConfig};

#[test]
fn the_builtin_backend_serves_only_the_named_directory() {
    let root = tempfile::Builder::new()
        .prefix("vcsgate-repos-")
        .tempdir()
        .unwrap();
    repos::git_bare(root.path(), "team/app.git", Owner::Me);
    repos::git_bare(root.path(), "team/x.git.git", Owner::Me);
    repos::git_bare(root.path(), "team/y.git/.git", Owner::Me);
    repos::git_bare(root.path(), "team/z/.git", Owner::Me);
    let mut gate = Gate::new(GateConfig::new().git_repos("/git", root.path()));
    gate.user_add("alice");
    gate.grant("alice", "git/team/**", "read");
    let token = gate.token("alice", "ci", &["--scope", "read_repository"]);
    gate.serve();
    let client = GitClient::new();
    let cred = Cred::basic(&token);
    let clone = |path: &str, dest: &str| client.clone(&Remote::new(&gate.url(), path, &cred), dest);
    let control = clone("/git/team/app", "app");
    assert!(control.ok(), "the named repository is served: {control:?}");
    let mut served = Vec::new();
    for (i, path) in [
        "/git/team/x.git",
        "/git/team/x",
        "/git/team/y.git",
        "/git/team/z",
    ]
    .iter()
    .enumerate()
    {
        let out = clone(path, &format!("clone{i}"));
        if out.ok() {
            served.push(path.to_string());
        }
        let refs = http::get(
            gate.port(),
            &format!("{path}/info/refs?service=git-upload-pack"),
            &[http::basic("x", &token)],
        );
        if refs.status != 404 {
            served.push(format!("{path}: info/refs answered {}", refs.status));
        }
    }
    assert!(
        served.is_empty(),
        "served a directory the path does not name:\n{}\n--- vcsgate log\n{}",
        served.join("\n"),
        gate.log()
    );
}
