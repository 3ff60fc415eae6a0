//! R3 (query: `&` only, no `;`, decoded exact comparison, no duplicate or extra keys) and
//! the "service taken from the query on a receive-pack POST" bypass, with a real push body
//! (commands + pack) that moves the backend's `main` when it is forwarded.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{Probe, Site, basic, run_probes};
use crate::support::git;
use crate::support::repos;
use crate::support::vcsgate::GateConfig;
use crate::support::wire::{head, header, with_body};

const REFS: &str = "/git/team/app.git/info/refs";

#[test]
fn r3_query_rules_and_encoded_service_names() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let auth = vec![basic(&token)];
    let get = |query: &str| head("GET", &format!("{REFS}?{query}"), &auth);
    let probes = vec![
        Probe::new(
            "duplicate service, receive-pack last",
            get("service=git-upload-pack&service=git-receive-pack"),
            &[400],
        ),
        Probe::new(
            "duplicate service, receive-pack first",
            get("service=git-receive-pack&service=git-upload-pack"),
            &[400],
        ),
        Probe::new(
            "duplicate service, second name encoded",
            get("service=git-upload-pack&%73ervice=git-receive-pack"),
            &[400],
        ),
        Probe::new(
            "; separator",
            get("service=git-upload-pack;service=git-receive-pack"),
            &[400],
        ),
        Probe::new("; alone", get("service=git-upload-pack;"), &[400]),
        Probe::new("extra key", get("service=git-upload-pack&x=1"), &[400]),
        Probe::new("empty item", get("service=git-upload-pack&"), &[400]),
        Probe::new("bad escape", get("service=git-upload-pack%zz"), &[400]),
        // Decoded, `git%2Dreceive-pack` IS receive-pack: a write, refused to a read token.
        Probe::new(
            "encoded receive-pack",
            get("service=git%2Dreceive-pack"),
            &[403],
        ),
        Probe::new(
            "encoded receive-pack, lower-case escape",
            get("service=git%2dreceive-pack"),
            &[403],
        ),
        Probe::new(
            "fully encoded receive-pack",
            get("service=%67%69%74%2d%72%65%63%65%69%76%65%2d%70%61%63%6b"),
            &[403],
        ),
        // …and an encoded upload-pack is upload-pack.
        Probe::new(
            "encoded upload-pack",
            get("service=git%2Dupload-pack"),
            &[200],
        ),
    ];
    run_probes(&site, &probes);
    let refused = site
        .send(get("service=git%2Dreceive-pack").as_bytes())
        .first();
    assert!(
        refused.body.contains("write_repository"),
        "the refusal names the missing scope: {refused:?}"
    );
    site.assert_backend_saw_only(
        &token,
        &["GET /git/team/app.git/info/refs?service=git%2Dupload-pack 200"],
    );
    let receive = site.apache.requests_matching("receive-pack");
    assert!(
        receive.is_empty(),
        "receive-pack reached the backend: {receive:?}"
    );
}

#[test]
fn service_in_the_query_of_a_receive_pack_post_changes_nothing() {
    let mut site = Site::new(GateConfig::new());
    let reader = site.token("reader", "read_repository");
    let writer = site.token("writer", "write_repository");
    site.gate.serve();
    let before = site.main_of(&site.app);
    let (new, body) = push_body(&site.app, &before);
    let post = |target: &str, token: &str, content_type: &str| {
        let headers = vec![basic(token), header("Content-Type", content_type)];
        with_body("POST", target, &headers, &body)
    };
    let receive_type = "application/x-git-receive-pack-request";
    let upload_type = "application/x-git-upload-pack-request";
    let rp = "/git/team/app.git/git-receive-pack";
    let probes = vec![
        Probe::new(
            "read token, receive-pack POST with ?service=git-upload-pack",
            post(
                &format!("{rp}?service=git-upload-pack"),
                &reader,
                receive_type,
            ),
            &[400, 403],
        ),
        Probe::new(
            "read token, receive-pack POST with upload-pack content type",
            post(rp, &reader, upload_type),
            &[400, 403],
        ),
        Probe::new(
            "read token, receive-pack POST",
            post(rp, &reader, receive_type),
            &[403],
        ),
        Probe::new(
            "write token, receive-pack POST with any query",
            post(
                &format!("{rp}?service=git-receive-pack"),
                &writer,
                receive_type,
            ),
            &[400],
        ),
    ];
    run_probes(&site, &probes);
    assert_eq!(site.main_of(&site.app), before, "a refused push moved main");
    site.assert_backend_saw_only(&reader, &[]);

    // The same body, sent the way git does with a write token, does push: the refusals above
    // were about the request, not a broken body.
    let done = site.send(&post(rp, &writer, receive_type));
    let response = done.first();
    assert_eq!(response.status, 200, "{response:?}\n{}", site.gate.log());
    assert_eq!(
        site.main_of(&site.app),
        new,
        "the control push must move main"
    );
}

/// A receive-pack request body updating `refs/heads/main` from `old` to a new commit (on
/// top of it) with its pack; returns the new commit and the body.
fn push_body(bare: &Path, old: &str) -> (String, Vec<u8>) {
    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path();
    let work = home.join("work");
    let git_ok = |args: &[&str], cwd: &Path| {
        let mut cmd = repos::git_any_owner(home);
        cmd.args(args).current_dir(cwd);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git_ok(&["clone", "-q", bare.to_str().unwrap(), "work"], home);
    std::fs::write(work.join("pushed.txt"), "smuggled push\n").unwrap();
    git_ok(&["add", "pushed.txt"], &work);
    git_ok(&["commit", "-q", "-m", "pushed through the query"], &work);
    let new = git_ok(&["rev-parse", "HEAD"], &work);
    let mut pack = git::command(home);
    pack.args(["pack-objects", "--revs", "--stdout", "-q"])
        .current_dir(&work)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let pack = pipe(pack, format!("{new}\n^{old}\n").as_bytes());
    let command = format!("{old} {new} refs/heads/main\0report-status\n");
    let mut body = format!("{:04x}{command}0000", command.len() + 4).into_bytes();
    body.extend_from_slice(&pack);
    (new, body)
}

fn pipe(mut cmd: Command, input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "git pack-objects failed");
    out.stdout
}
