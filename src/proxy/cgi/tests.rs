//! Runs the built-in backend against real `git http-backend` and real bare repositories; the
//! process plumbing (exit before the head, kill on drop, clean environment) is checked with
//! small `/bin/sh` CGI programs standing in for `git` where git cannot be made to misbehave.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use tempfile::TempDir;

use super::{CgiError, CgiRequest, GitCgi};
use crate::proxy::body::{self, Body};
use crate::vocabulary::Access;

const UPLOAD_REQUEST: &str = "application/x-git-upload-pack-request";
const RECEIVE_REQUEST: &str = "application/x-git-receive-pack-request";

/// Runs git (the one on PATH) and returns its stdout; a missing git fails the test loudly.
fn git(dir: &Path, args: &[&str]) -> String {
    let output = StdCommand::new("git")
        .args(["-c", "user.name=Test", "-c", "user.email=test@example.com"])
        .args(["-c", "init.defaultBranch=main", "-c", "safe.directory=*"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("cannot run git ({e}); install git (apt-get install git)"));
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// A project root with one bare repository `team/app.git` holding one commit on `main`, and a
/// work tree that pushed it. Returns (scratch dir, backend, work tree, commit id).
fn fixture() -> (TempDir, GitCgi, PathBuf, String) {
    let scratch = tempfile::tempdir().unwrap();
    let root = scratch.path().join("repos");
    let bare = root.join("team/app.git");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare"]);
    let work = scratch.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q"]);
    std::fs::write(work.join("README"), "hello\n").unwrap();
    git(&work, &["add", "README"]);
    git(&work, &["commit", "-q", "-m", "first"]);
    let url = format!("file://{}", bare.display());
    git(&work, &["push", "-q", &url, "HEAD:refs/heads/main"]);
    let sha = git(&work, &["rev-parse", "HEAD"]);
    let cgi = GitCgi::new(PathBuf::from("git"), root);
    (scratch, cgi, work, sha)
}

struct Call<'a> {
    method: Method,
    path_info: &'a str,
    query: Option<&'a str>,
    headers: HeaderMap,
    access: Access,
}

impl<'a> Call<'a> {
    fn get(path_info: &'a str, query: Option<&'a str>, access: Access) -> Self {
        Call {
            method: Method::GET,
            path_info,
            query,
            headers: HeaderMap::new(),
            access,
        }
    }

    fn post(path_info: &'a str, content_type: &'static str, access: Access) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        Call {
            method: Method::POST,
            path_info,
            query: None,
            headers,
            access,
        }
    }

    async fn send(&self, cgi: &GitCgi, body: Body) -> Result<http::Response<Body>, CgiError> {
        let req = CgiRequest {
            method: &self.method,
            path_info: self.path_info,
            query: self.query,
            headers: &self.headers,
            remote_addr: "127.0.0.1:40000".parse().unwrap(),
            remote_user: Some("alice"),
            access: self.access,
            no_rewind: &[],
        };
        cgi.call(req, body).await
    }

    async fn run(&self, cgi: &GitCgi, body: Body) -> (StatusCode, HeaderMap, Bytes) {
        let response = self.send(cgi, body).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (parts.status, parts.headers, bytes)
    }
}

fn pkt_line(payload: &str) -> String {
    format!("{:04x}{payload}", payload.len() + 4)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A body of `bytes` split into small chunks, with no known length (like a chunked request).
fn chunked(bytes: Vec<u8>) -> Body {
    let chunks: Vec<Result<http_body::Frame<Bytes>, body::BodyError>> = bytes
        .chunks(1000)
        .map(|c| Ok(http_body::Frame::data(Bytes::copy_from_slice(c))))
        .collect();
    StreamBody::new(futures_util::stream::iter(chunks)).boxed()
}

#[tokio::test]
async fn upload_pack_advertisement_is_served_for_a_read() {
    let (_scratch, cgi, _work, sha) = fixture();
    let call = Call::get(
        "/team/app.git/info/refs",
        Some("service=git-upload-pack"),
        Access::Read,
    );
    let (status, headers, body) = call.run(&cgi, body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/x-git-upload-pack-advertisement"
    );
    assert!(body.starts_with(b"001e# service=git-upload-pack\n0000"));
    assert!(contains(&body, format!("{sha} refs/heads/main").as_bytes()));
}

#[tokio::test]
async fn protocol_v2_is_selected_by_the_git_protocol_header() {
    let (_scratch, cgi, _work, _sha) = fixture();
    let mut call = Call::get(
        "/team/app.git/info/refs",
        Some("service=git-upload-pack"),
        Access::Read,
    );
    call.headers
        .insert("git-protocol", HeaderValue::from_static("version=2"));
    let (status, _headers, body) = call.run(&cgi, body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(contains(&body, b"version 2\n"), "{body:?}");
}

#[tokio::test]
async fn receive_pack_advertisement_is_refused_for_a_read_and_served_for_a_write() {
    let (_scratch, cgi, _work, sha) = fixture();
    let query = Some("service=git-receive-pack");
    let read = Call::get("/team/app.git/info/refs", query, Access::Read);
    let (status, _headers, body) = read.run(&cgi, body::empty()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // git explains the refusal on stderr, which goes to the log, never to the client.
    assert!(!contains(&body, b"Service not enabled"), "{body:?}");

    let write = Call::get("/team/app.git/info/refs", query, Access::Write);
    let (status, headers, body) = write.run(&cgi, body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/x-git-receive-pack-advertisement"
    );
    assert!(contains(&body, sha.as_bytes()));
}

#[tokio::test]
async fn upload_pack_post_returns_a_pack() {
    let (_scratch, cgi, _work, sha) = fixture();
    let request = format!(
        "{}0000{}",
        pkt_line(&format!("want {sha}\n")),
        pkt_line("done\n")
    );
    assert!(request.starts_with("0032want "));
    let call = Call::post(
        "/team/app.git/git-upload-pack",
        UPLOAD_REQUEST,
        Access::Read,
    );
    let (status, headers, body) = call.run(&cgi, body::full(request)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/x-git-upload-pack-result"
    );
    assert!(body.starts_with(b"0008NAK\n"), "{body:?}");
    assert!(contains(&body, b"PACK"));
}

#[tokio::test]
async fn gzip_request_bodies_pass_untouched_and_git_inflates_them() {
    let (_scratch, cgi, _work, sha) = fixture();
    let request = format!(
        "{}0000{}",
        pkt_line(&format!("want {sha}\n")),
        pkt_line("done\n")
    );
    let mut gzip = StdCommand::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run gzip ({e}); install gzip"));
    use std::io::Write as _;
    gzip.stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let compressed = gzip.wait_with_output().unwrap();
    assert!(compressed.status.success());
    let mut call = Call::post(
        "/team/app.git/git-upload-pack",
        UPLOAD_REQUEST,
        Access::Read,
    );
    call.headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    let (status, _headers, body) = call.run(&cgi, body::full(compressed.stdout)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.starts_with(b"0008NAK\n"), "{body:?}");
    assert!(contains(&body, b"PACK"));
}

#[tokio::test]
async fn unknown_repository_is_a_404_from_git() {
    let (_scratch, cgi, _work, _sha) = fixture();
    let call = Call::get(
        "/team/nope.git/info/refs",
        Some("service=git-upload-pack"),
        Access::Read,
    );
    let (status, _headers, body) = call.run(&cgi, body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!contains(&body, b"Not a git repository"));
}

/// Builds a receive-pack request moving `main` from `old` to a new commit; returns (new, body).
fn push_request(work: &Path, old: &str) -> (String, Vec<u8>) {
    std::fs::write(work.join("second"), "second file\n").unwrap();
    git(work, &["add", "second"]);
    git(work, &["commit", "-q", "-m", "second"]);
    let new = git(work, &["rev-parse", "HEAD"]);
    let mut pack_objects = StdCommand::new("git")
        .args(["pack-objects", "--stdout", "--revs", "-q"])
        .current_dir(work)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    let revs = format!("{new}\n^{old}\n");
    pack_objects
        .stdin
        .take()
        .unwrap()
        .write_all(revs.as_bytes())
        .unwrap();
    let pack = pack_objects.wait_with_output().unwrap();
    assert!(pack.status.success() && pack.stdout.starts_with(b"PACK"));
    let command = format!("{old} {new} refs/heads/main\0report-status\n");
    let mut body = format!("{}0000", pkt_line(&command)).into_bytes();
    body.extend_from_slice(&pack.stdout);
    (new, body)
}

#[tokio::test]
async fn push_streams_in_chunks_for_a_write_and_is_refused_for_a_read() {
    let (scratch, cgi, work, old) = fixture();
    let bare = scratch.path().join("repos/team/app.git");
    let (new, request) = push_request(&work, &old);
    let path = "/team/app.git/git-receive-pack";

    let read = Call::post(path, RECEIVE_REQUEST, Access::Read);
    let (status, _headers, _body) = read.run(&cgi, chunked(request.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(git(&bare, &["rev-parse", "refs/heads/main"]), old);

    let write = Call::post(path, RECEIVE_REQUEST, Access::Write);
    let (status, headers, body) = write.run(&cgi, chunked(request)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers[header::CONTENT_TYPE],
        "application/x-git-receive-pack-result"
    );
    assert!(contains(&body, b"unpack ok\n"), "{body:?}");
    assert!(contains(&body, b"ok refs/heads/main\n"), "{body:?}");
    assert_eq!(git(&bare, &["rev-parse", "refs/heads/main"]), new);
}

#[tokio::test]
async fn serves_a_repository_owned_by_another_user() {
    let uid = StdCommand::new("id").arg("-u").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&uid.stdout).trim(),
        "0",
        "this test needs root (it chowns a repository to `nobody`); run the tests as root \
         or skip cgi::tests::serves_a_repository_owned_by_another_user"
    );
    let (_scratch, cgi, _work, sha) = fixture();
    let chown = StdCommand::new("chown")
        .args(["-R", "nobody:"])
        .arg(cgi.project_root.join("team"))
        .status()
        .unwrap();
    assert!(chown.success());
    let call = Call::get(
        "/team/app.git/info/refs",
        Some("service=git-upload-pack"),
        Access::Read,
    );
    let (status, _headers, body) = call.run(&cgi, body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(contains(&body, sha.as_bytes()), "{body:?}");
}

/// A backend whose `git http-backend` is `/bin/sh` running `script` (saved as `http-backend`
/// in the project root, which is the child's working directory).
fn shell_backend(script: &str) -> (TempDir, GitCgi) {
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("http-backend"), script).unwrap();
    repository_shape(root.path());
    let cgi = GitCgi::new(PathBuf::from("/bin/sh"), root.path().to_owned());
    (root, cgi)
}

/// `ROOT/a.git` shaped like a bare repository, so the backend picks it for `/a.git/…`.
fn repository_shape(root: &Path) {
    let repo = root.join("a.git");
    std::fs::create_dir_all(repo.join("objects")).unwrap();
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("HEAD"), "ref: refs/heads/main\n").unwrap();
}

fn info_refs_call() -> Call<'static> {
    Call::get(
        "/a.git/info/refs",
        Some("service=git-upload-pack"),
        Access::Read,
    )
}

#[tokio::test]
async fn a_child_ending_before_its_head_is_an_error() {
    let (_root, cgi) = shell_backend("printf 'Content-Type: text/plain\\r\\n'\nexit 3\n");
    let err = info_refs_call()
        .send(&cgi, body::empty())
        .await
        .unwrap_err();
    match err {
        CgiError::NoHead { status: Some(s) } => assert_eq!(s.code(), Some(3)),
        other => panic!("expected NoHead, got {other:?}"),
    }
}

#[tokio::test]
async fn a_malformed_head_is_an_error() {
    let (_root, cgi) = shell_backend("printf 'garbage\\r\\n\\r\\nbody'\n");
    let err = info_refs_call()
        .send(&cgi, body::empty())
        .await
        .unwrap_err();
    assert!(
        matches!(err, CgiError::Head(super::HeadError::NoColon { line: 1 })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_missing_binary_is_a_spawn_error() {
    let root = tempfile::tempdir().unwrap();
    repository_shape(root.path());
    let cgi = GitCgi::new(PathBuf::from("/nonexistent/git"), root.path().to_owned());
    let err = info_refs_call()
        .send(&cgi, body::empty())
        .await
        .unwrap_err();
    assert!(matches!(err, CgiError::Spawn { .. }), "{err:?}");
}

#[tokio::test]
async fn the_child_sees_only_the_cgi_environment() {
    let (_root, cgi) = shell_backend("printf 'Content-Type: text/plain\\r\\n\\r\\n'\nexec env\n");
    let mut call = Call::post("/a.git/git-receive-pack", RECEIVE_REQUEST, Access::Write);
    call.headers
        .insert("git-protocol", HeaderValue::from_static("version=2"));
    call.headers
        .insert("x-secret", HeaderValue::from_static("must-not-leak"));
    let (status, _headers, body) = call.run(&cgi, body::full("0000")).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body.to_vec()).unwrap();
    let mut names: Vec<&str> = text.lines().filter_map(|l| l.split('=').next()).collect();
    names.sort_unstable();
    let mut expected = vec![
        "CONTENT_LENGTH",
        "CONTENT_TYPE",
        "GATEWAY_INTERFACE",
        "GIT_CONFIG_COUNT",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_KEY_0",
        "GIT_CONFIG_KEY_1",
        "GIT_CONFIG_NOSYSTEM",
        "GIT_CONFIG_VALUE_0",
        "GIT_CONFIG_VALUE_1",
        "GIT_HTTP_EXPORT_ALL",
        "GIT_PROJECT_ROOT",
        "HOME",
        "HTTP_GIT_PROTOCOL",
        "PATH",
        "PATH_INFO",
        "PWD",
        "QUERY_STRING",
        "REMOTE_ADDR",
        "REMOTE_USER",
        "REQUEST_METHOD",
        "SERVER_PROTOCOL",
    ];
    expected.sort_unstable();
    assert_eq!(names, expected, "{text}");
    assert!(text.contains("CONTENT_LENGTH=4\n") && text.contains("REMOTE_USER=alice\n"));
}

#[tokio::test]
async fn stderr_never_reaches_the_client() {
    let (_root, cgi) = shell_backend(
        "echo 'internal detail' >&2\nprintf 'Content-Type: text/plain\\r\\n\\r\\nok'\n",
    );
    let (status, _headers, body) = info_refs_call().run(&cgi, body::empty()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&body[..], b"ok");
}

/// Waits until process `pid` is gone (or a zombie awaiting its reaper).
async fn assert_gone(pid: &str) {
    for _ in 0..100 {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => return,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap()
                    .trim_start()
                    .starts_with('Z') =>
            {
                return;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("process {pid} still runs");
}

async fn read_pid(root: &Path) -> String {
    for _ in 0..100 {
        if let Ok(pid) = std::fs::read_to_string(root.join("pid"))
            && pid.ends_with('\n')
        {
            return pid.trim().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the CGI program never wrote its pid");
}

#[tokio::test]
async fn dropping_the_response_kills_the_child() {
    let (root, cgi) = shell_backend(
        "echo $$ > pid\nprintf 'Content-Type: text/plain\\r\\n\\r\\nfirst'\nexec sleep 600\n",
    );
    let response = info_refs_call().send(&cgi, body::empty()).await.unwrap();
    let pid = read_pid(root.path()).await;
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&first[..], b"first");
    drop(body);
    assert_gone(&pid).await;
}

#[tokio::test]
async fn dropping_the_call_before_the_head_kills_the_child() {
    let (root, cgi) = shell_backend("echo $$ > pid\nexec sleep 600\n");
    let call = info_refs_call();
    let pending = call.send(&cgi, body::empty());
    let outcome = tokio::time::timeout(Duration::from_millis(300), pending).await;
    assert!(outcome.is_err(), "the call should still wait for a head");
    let pid = read_pid(root.path()).await;
    assert_gone(&pid).await;
}
