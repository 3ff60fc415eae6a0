//! R1 (origin-form targets only; no CONNECT, `*`, Upgrade), R4 (exact, case-sensitive
//! methods) and R9 (exact, case-sensitive endpoint names), as raw bytes on the wire. Every
//! probe carries a valid token, so a proxy that let one through would get a 200 from
//! Apache and leave a line in its access log.

use super::{Probe, Site, basic, run_probes};
use crate::support::repos;
use crate::support::vcsgate::GateConfig;
use crate::support::wire::{head, header, with_body};

#[test]
fn r1_only_origin_form_targets_and_no_upgrade() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let auth = basic(&token);
    let apache = site.apache.port();
    let gate = site.gate.port();
    let refs = "/git/team/app.git/info/refs?service=git-upload-pack";
    let with = |extra: &[(String, String)]| {
        let mut headers = vec![auth.clone()];
        headers.extend_from_slice(extra);
        headers
    };
    let probes = vec![
        Probe::new(
            "absolute-form target naming the proxy",
            head("GET", &format!("http://127.0.0.1:{gate}{refs}"), &with(&[])),
            &[400],
        ),
        Probe::new(
            "absolute-form target naming the backend",
            head(
                "GET",
                &format!("http://127.0.0.1:{apache}{refs}"),
                &with(&[]),
            ),
            &[400],
        ),
        Probe::new(
            "absolute-form https target",
            head("GET", &format!("https://example.org{refs}"), &with(&[])),
            &[400],
        ),
        Probe::new(
            "CONNECT to the backend",
            head("CONNECT", &format!("127.0.0.1:{apache}"), &with(&[])),
            &[400],
        ),
        Probe::new("OPTIONS *", head("OPTIONS", "*", &with(&[])), &[400]),
        Probe::new("GET *", head("GET", "*", &with(&[])), &[400]),
        Probe::new(
            "Upgrade: websocket",
            head(
                "GET",
                refs,
                &with(&[
                    header("Connection", "Upgrade, close"),
                    header("Upgrade", "websocket"),
                    header("Sec-WebSocket-Version", "13"),
                    header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ]),
            ),
            &[400],
        ),
        Probe::new(
            "Upgrade: h2c",
            head(
                "GET",
                refs,
                &with(&[
                    header("Connection", "Upgrade, HTTP2-Settings, close"),
                    header("Upgrade", "h2c"),
                    header("HTTP2-Settings", "AAMAAABkAAQAAP__"),
                ]),
            ),
            &[400],
        ),
        Probe::new(
            "Upgrade header without Connection: upgrade",
            head("GET", refs, &with(&[header("Upgrade", "websocket")])),
            &[400],
        ),
    ];
    run_probes(&site, &probes);
    site.assert_backend_saw_only(&token, &[]);
}

#[test]
fn r4_methods_are_exact_upper_case_tokens() {
    let mut site = Site::new(GateConfig::new());
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let auth = vec![basic(&token)];
    let refs = "/git/team/app.git/info/refs?service=git-upload-pack";
    let upload = "/git/team/app.git/git-upload-pack";
    let upload_type = header("Content-Type", "application/x-git-upload-pack-request");
    let post_headers = vec![basic(&token), upload_type];
    let probes = vec![
        Probe::new("get", head("get", refs, &auth), &[400]),
        Probe::new("Get", head("Get", refs, &auth), &[400]),
        Probe::new("gEt", head("gEt", refs, &auth), &[400]),
        Probe::new("head", head("head", refs, &auth), &[400]),
        Probe::new(
            "post",
            with_body("post", upload, &post_headers, b"0000"),
            &[400],
        ),
        Probe::new(
            "Post",
            with_body("Post", upload, &post_headers, b"0000"),
            &[400],
        ),
        Probe::new("PUT", with_body("PUT", refs, &auth, b"x"), &[400]),
        Probe::new("PROPFIND on git", head("PROPFIND", refs, &auth), &[400]),
        Probe::new(
            "MKCOL on git",
            head("MKCOL", "/git/team/app.git/", &auth),
            &[400],
        ),
    ];
    run_probes(&site, &probes);
    site.assert_backend_saw_only(&token, &[]);
}

#[test]
fn r9_endpoint_names_are_case_sensitive() {
    let mut site = Site::new(GateConfig::new());
    // A write token: the refusal must come from the name, not from missing permissions.
    let token = site.token("writer", "write_repository");
    site.gate.serve();
    let main_before = site.main_of(&site.app);
    // A real push: it moves main wherever it reaches git-receive-pack (the control below).
    let (push, pushed) = repos::git_push_request(&site.app);
    let auth = vec![basic(&token)];
    let receive = |path: &str| {
        let headers = vec![
            basic(&token),
            header("Content-Type", "application/x-git-receive-pack-request"),
        ];
        with_body("POST", path, &headers, &push)
    };
    let app = "/git/team/app.git";
    let probes = vec![
        Probe::new(
            "service=GIT-RECEIVE-PACK",
            head(
                "GET",
                &format!("{app}/info/refs?service=GIT-RECEIVE-PACK"),
                &auth,
            ),
            &[400],
        ),
        Probe::new(
            "service=Git-Upload-Pack",
            head(
                "GET",
                &format!("{app}/info/refs?service=Git-Upload-Pack"),
                &auth,
            ),
            &[400],
        ),
        Probe::new(
            "INFO/REFS",
            head(
                "GET",
                &format!("{app}/INFO/REFS?service=git-upload-pack"),
                &auth,
            ),
            &[400],
        ),
        Probe::new(
            "Info/Refs",
            head(
                "GET",
                &format!("{app}/Info/Refs?service=git-upload-pack"),
                &auth,
            ),
            &[400],
        ),
        Probe::new(
            "POST GIT-RECEIVE-PACK",
            receive(&format!("{app}/GIT-RECEIVE-PACK")),
            &[400],
        ),
        Probe::new(
            "POST Git-Receive-Pack",
            receive(&format!("{app}/Git-Receive-Pack")),
            &[400],
        ),
        Probe::new(
            "POST git-receive-PACK",
            receive(&format!("{app}/git-receive-PACK")),
            &[400],
        ),
        Probe::new(
            "GET head in lower case",
            head("GET", &format!("{app}/head"), &auth),
            &[400],
        ),
    ];
    run_probes(&site, &probes);
    assert_eq!(
        site.main_of(&site.app),
        main_before,
        "the backend ref moved"
    );
    site.assert_backend_saw_only(&token, &[]);

    // The same bytes to the exact endpoint name are a push that moves main.
    let control = site.send(&receive(&format!("{app}/git-receive-pack")));
    let answer = control.first();
    assert!(
        answer.status == 200 && answer.body.contains("ok refs/heads/main"),
        "the control push: {answer:?}\n{}",
        site.gate.log()
    );
    assert_eq!(
        site.main_of(&site.app),
        pushed,
        "the control push moves main"
    );
}
