//! Table tests for PROTOCOLS.md §1: one row per (method, path with query, headers) →
//! verdict or refusal. Rows go through canonicalisation first, as in the proxy, so
//! encoded, duplicated and case-shifted variants are refused where they would be.

#![allow(clippy::expect_used, clippy::panic)]

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

use super::GitOp::{self, *};
use super::{classify, git_protocol_header_ok};
use crate::canon::{self, CanonError, Query};
use crate::classify::{Classified, Operation, Refusal, Request, Verdict};
use crate::repo::RepoPath;
use crate::vocabulary::Access;

/// Why a request did not get a verdict.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    Canon(CanonError),
    Refusal(Refusal),
    /// The verdict depends on the body (an LFS batch request).
    NeedsBody,
}

/// Classifies a request given as strings, the way a golden transcript records it: method,
/// target below the route prefix (`/team/app.git/info/refs?service=git-upload-pack`) and
/// headers. Runs canonicalisation and header stripping first, as the proxy does.
pub(crate) fn classify_raw(
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> Result<Verdict, Rejected> {
    let method = Method::from_bytes(method.as_bytes()).expect("method token");
    let uri = Uri::try_from(target).expect("request target");
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    let canonical = canon::canonicalise(&method, &uri, &map).map_err(Rejected::Canon)?;
    canon::strip_untrusted_headers(&mut map);
    let request = Request {
        method: &canonical.method,
        segments: &canonical.segments,
        trailing_slash: canonical.trailing_slash,
        query: &canonical.query,
        headers: &map,
    };
    match classify(&request).map_err(Rejected::Refusal)? {
        Classified::Final(verdict) => Ok(verdict),
        Classified::NeedsBody { .. } => Err(Rejected::NeedsBody),
    }
}

/// What a row expects.
#[derive(Debug)]
enum Expect {
    Read(&'static str, GitOp),
    Write(&'static str, GitOp),
    Refused(Refusal),
    Canon(CanonError),
}
use Expect::{Canon, Read, Refused, Write};

type Row = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    Expect,
);

fn check(rows: &[Row]) {
    for (method, target, headers, expected) in rows {
        let got = classify_raw(method, target, headers);
        let context = format!("{method} {target} {headers:?}");
        match (expected, got) {
            (Read(repo, op) | Write(repo, op), Ok(verdict)) => {
                let access = match expected {
                    Read(..) => Access::Read,
                    _ => Access::Write,
                };
                assert_eq!(verdict.operation, Operation::Git(*op), "{context}");
                assert_eq!(verdict.access(), access, "{context}");
                assert_eq!(verdict.repo.join("/"), *repo, "{context}");
                let with_prefix: Vec<&str> = std::iter::once("git")
                    .chain(verdict.repo.iter().map(String::as_str))
                    .collect();
                let repo_path = RepoPath::from_segments(&with_prefix);
                assert!(repo_path.is_ok(), "{context}: {repo_path:?}");
            }
            (Refused(refusal), Err(Rejected::Refusal(got))) => {
                assert_eq!(&got, refusal, "{context}")
            }
            (Canon(error), Err(Rejected::Canon(got))) => assert_eq!(&got, error, "{context}"),
            (expected, got) => panic!("{context}: expected {expected:?}, got {got:?}"),
        }
    }
}

const UPLOAD: &[(&str, &str)] = &[("Content-Type", "application/x-git-upload-pack-request")];
const ARCHIVE: &[(&str, &str)] = &[("Content-Type", "application/x-git-upload-archive-request")];
const RECEIVE: &[(&str, &str)] = &[("Content-Type", "application/x-git-receive-pack-request")];
const NONE: &[(&str, &str)] = &[];

const SHA1: &str = "0123456789abcdef0123456789abcdef01234567";

fn method_refused(method: &str) -> Expect {
    Refused(Refusal::Method {
        method: method.into(),
    })
}

fn unexpected(allowed: &'static [&'static str]) -> Expect {
    Refused(Refusal::UnexpectedParam { allowed })
}

/// `_given` documents the row; the refusal never repeats it.
fn bad_service(_given: &str) -> Expect {
    Refused(Refusal::BadService)
}

fn content_type(expected: &'static str) -> Expect {
    Refused(Refusal::ContentType { expected })
}

fn assert_unknown(targets: &[&str]) {
    for target in targets {
        let got = classify_raw("GET", target, NONE);
        assert!(
            matches!(
                got,
                Err(Rejected::Refusal(Refusal::UnknownEndpoint {
                    vcs: "git",
                    ..
                }))
            ),
            "GET {target}: {got:?}"
        );
    }
}

#[test]
#[rustfmt::skip]
fn smart_and_dumb_reads_and_writes() {
    check(&[
        // info/refs, smart.
        ("GET", "/team/app.git/info/refs?service=git-upload-pack", NONE, Read("team/app.git", UploadPackAdvertisement)),
        ("HEAD", "/team/app.git/info/refs?service=git-upload-pack", NONE, Read("team/app.git", UploadPackAdvertisement)),
        ("GET", "/team/app/info/refs?service=git-upload-pack", NONE, Read("team/app", UploadPackAdvertisement)),
        ("GET", "/app.git/info/refs?service=git-upload-pack", NONE, Read("app.git", UploadPackAdvertisement)),
        ("GET", "/a/b/c/d.git/info/refs?service=git-upload-pack", NONE, Read("a/b/c/d.git", UploadPackAdvertisement)),
        ("GET", "/team/app.git/info/refs?service=git-upload-pack", &[("Git-Protocol", "version=2")], Read("team/app.git", UploadPackAdvertisement)),
        ("GET", "/team/app.git/info/refs?service=git-receive-pack", NONE, Write("team/app.git", ReceivePackAdvertisement)),
        ("HEAD", "/team/app.git/info/refs?service=git-receive-pack", NONE, Write("team/app.git", ReceivePackAdvertisement)),
        // info/refs, dumb.
        ("GET", "/team/app.git/info/refs", NONE, Read("team/app.git", DumbFetch)),
        ("HEAD", "/team/app.git/info/refs", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/info/refs?", NONE, Read("team/app.git", DumbFetch)),
        // RPCs.
        ("POST", "/team/app.git/git-upload-pack", UPLOAD, Read("team/app.git", UploadPack)),
        ("POST", "/team/app/git-upload-pack", UPLOAD, Read("team/app", UploadPack)),
        ("POST", "/team/app.git/git-upload-pack", &[("Content-Type", "application/x-git-upload-pack-request"), ("Content-Encoding", "gzip"), ("Git-Protocol", "version=2")], Read("team/app.git", UploadPack)),
        ("POST", "/team/app.git/git-upload-pack?", UPLOAD, Read("team/app.git", UploadPack)),
        ("POST", "/team/app.git/git-upload-archive", ARCHIVE, Read("team/app.git", UploadArchive)),
        ("POST", "/team/app.git/git-receive-pack", RECEIVE, Write("team/app.git", ReceivePack)),
        ("POST", "/team/app.git/git-receive-pack", &[("Content-Type", "application/x-git-receive-pack-request"), ("Content-Encoding", "gzip")], Write("team/app.git", ReceivePack)),
        // Dumb files.
        ("GET", "/team/app.git/HEAD", NONE, Read("team/app.git", DumbFetch)),
        ("HEAD", "/team/app.git/HEAD", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/objects/info/packs", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/objects/info/alternates", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/objects/info/http-alternates", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/objects/01/23456789abcdef0123456789abcdef01234567", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/objects/01/23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef01234567.pack", NONE, Read("team/app.git", DumbFetch)),
        ("HEAD", "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef01234567.idx", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.pack", NONE, Read("team/app.git", DumbFetch)),
        ("GET", "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.idx", NONE, Read("team/app.git", DumbFetch)),
        // Names that only look like .git or an endpoint.
        ("GET", "/team/app.gitx/info/refs?service=git-upload-pack", NONE, Read("team/app.gitx", UploadPackAdvertisement)),
        ("GET", "/team/.github/info/refs?service=git-upload-pack", NONE, Read("team/.github", UploadPackAdvertisement)),
        ("GET", "/team/my.github.io.git/info/refs?service=git-upload-pack", NONE, Read("team/my.github.io.git", UploadPackAdvertisement)),
        ("GET", "/info/app.git/info/refs?service=git-upload-pack", NONE, Read("info/app.git", UploadPackAdvertisement)),
        ("GET", "/objects/app.git/info/refs?service=git-upload-pack", NONE, Read("objects/app.git", UploadPackAdvertisement)),
        ("GET", "/team/refs/app.git/info/refs?service=git-upload-pack", NONE, Read("team/refs/app.git", UploadPackAdvertisement)),
        ("GET", "/team/app%20x.git/info/refs?service=git-upload-pack", NONE, Read("team/app x.git", UploadPackAdvertisement)),
        ("GET", "/team/caf%C3%A9.git/HEAD", NONE, Read("team/café.git", DumbFetch)),
    ]);
}

#[test]
#[rustfmt::skip]
fn encoded_variants_decide_like_the_decoded_request() {
    check(&[
        ("GET", "/team/app.git/info/refs?service=git%2Dreceive-pack", NONE, Write("team/app.git", ReceivePackAdvertisement)),
        ("GET", "/team/app.git/info/refs?service=git%2dreceive%2Dpack", NONE, Write("team/app.git", ReceivePackAdvertisement)),
        ("GET", "/team/app.git/info/refs?%73ervice=git-receive-pack", NONE, Write("team/app.git", ReceivePackAdvertisement)),
        ("GET", "/team/app.git/info/refs?service=git%2Dupload-pack", NONE, Read("team/app.git", UploadPackAdvertisement)),
        ("POST", "/team/app.git/git-receive%2Dpack", RECEIVE, Write("team/app.git", ReceivePack)),
        ("POST", "/team/app.git/git-receive%2dpack", RECEIVE, Write("team/app.git", ReceivePack)),
        ("POST", "/team/app.git/git%2Dupload%2Dpack", UPLOAD, Read("team/app.git", UploadPack)),
        ("GET", "/team/app.git/inf%6F/r%65fs?service=git-upload-pack", NONE, Read("team/app.git", UploadPackAdvertisement)),
        ("GET", "/te%61m/app.git/info/refs?service=git-upload-pack", NONE, Read("team/app.git", UploadPackAdvertisement)),
        ("GET", "/team/app.git/%48EAD", NONE, Read("team/app.git", DumbFetch)),
        // Escapes that would change the segment structure are refused before classifying.
        ("GET", "/team/app%2Egit/info/refs?service=git-upload-pack", NONE, Canon(CanonError::ForbiddenInPath)),
        ("GET", "/team/app.git/info%2Frefs?service=git-upload-pack", NONE, Canon(CanonError::ForbiddenInPath)),
        ("GET", "/team%2Fapp.git/info/refs?service=git-upload-pack", NONE, Canon(CanonError::ForbiddenInPath)),
        ("POST", "/team/app.git/%2e%2e/other.git/git-receive-pack", RECEIVE, Canon(CanonError::ForbiddenInPath)),
        ("POST", "/team/app.git/../other.git/git-receive-pack", RECEIVE, Canon(CanonError::BadSegment)),
        ("GET", "/team//app.git/info/refs?service=git-upload-pack", NONE, Canon(CanonError::BadSegment)),
        ("GET", "/team/app.git/info/refs;x?service=git-upload-pack", NONE, Canon(CanonError::ForbiddenInPath)),
        ("GET", "/team\\app.git/info/refs?service=git-upload-pack", NONE, Canon(CanonError::ForbiddenInPath)),
        ("GET", "/team/app.git/info/refs?service=git-upload-pack%00", NONE, Canon(CanonError::ForbiddenInQuery)),
        ("POST", "/team/app.git/git-receive-pack%00", RECEIVE, Canon(CanonError::ForbiddenInPath)),
        ("GET", "/team/app.git/info/refs?service=git-upload-pack;service=git-receive-pack", NONE, Canon(CanonError::SemicolonInQuery)),
    ]);
}

#[test]
#[rustfmt::skip]
fn duplicated_parameters_are_refused() {
    let dup = || {
        Canon(CanonError::DuplicateParam)
    };
    check(&[
        ("GET", "/team/app.git/info/refs?service=git-upload-pack&service=git-receive-pack", NONE, dup()),
        ("GET", "/team/app.git/info/refs?service=git-receive-pack&service=git-upload-pack", NONE, dup()),
        ("GET", "/team/app.git/info/refs?service=git-upload-pack&service=git-upload-pack", NONE, dup()),
        ("GET", "/team/app.git/info/refs?service=git-upload-pack&%73ervice=git-receive-pack", NONE, dup()),
        ("GET", "/team/app.git/info/refs?service=git-upload-pack&&service=git-receive-pack", NONE, Canon(CanonError::EmptyQueryItem)),
    ]);
}

#[test]
#[rustfmt::skip]
fn info_refs_query_must_name_a_known_service() {
    check(&[
        ("GET", "/team/app.git/info/refs?service=git-upload-pack&x=1", NONE, unexpected(&["service"])),
        ("GET", "/team/app.git/info/refs?x=1&service=git-receive-pack", NONE, unexpected(&["service"])),
        ("GET", "/team/app.git/info/refs?x=1", NONE, unexpected(&["service"])),
        ("GET", "/team/app.git/info/refs?Service=git-upload-pack", NONE, unexpected(&["service"])),
        ("GET", "/team/app.git/info/refs?SERVICE=git-receive-pack", NONE, unexpected(&["service"])),
        ("GET", "/team/app.git/info/refs?service%20=git-upload-pack", NONE, unexpected(&["service"])),
        ("GET", "/team/app.git/info/refs?service=GIT-RECEIVE-PACK", NONE, bad_service("GIT-RECEIVE-PACK")),
        ("GET", "/team/app.git/info/refs?service=Git-Upload-Pack", NONE, bad_service("Git-Upload-Pack")),
        ("GET", "/team/app.git/info/refs?service=git-upload-archive", NONE, bad_service("git-upload-archive")),
        ("GET", "/team/app.git/info/refs?service=receive-pack", NONE, bad_service("receive-pack")),
        ("GET", "/team/app.git/info/refs?service=upload-pack", NONE, bad_service("upload-pack")),
        ("GET", "/team/app.git/info/refs?service=git-upload-pack%20", NONE, bad_service("git-upload-pack ")),
        ("GET", "/team/app.git/info/refs?service=git-upload-pack+", NONE, bad_service("git-upload-pack+")),
        ("GET", "/team/app.git/info/refs?service=", NONE, bad_service("")),
        ("GET", "/team/app.git/info/refs?service", NONE, bad_service("")),
    ]);
}

#[test]
#[rustfmt::skip]
fn rpc_endpoints_need_post_no_query_and_the_exact_content_type() {
    check(&[
        // The service comes from the path on POST; a query is refused, whatever it says.
        ("POST", "/team/app.git/git-receive-pack?service=git-upload-pack", RECEIVE, unexpected(&[])),
        ("POST", "/team/app.git/git-upload-pack?service=git-upload-pack", UPLOAD, unexpected(&[])),
        ("POST", "/team/app.git/git-upload-pack?x", UPLOAD, unexpected(&[])),
        // Content types: missing, swapped, parameters, case-shifted, doubled.
        ("POST", "/team/app.git/git-upload-pack", NONE, content_type("application/x-git-upload-pack-request")),
        ("POST", "/team/app.git/git-upload-pack", RECEIVE, content_type("application/x-git-upload-pack-request")),
        ("POST", "/team/app.git/git-receive-pack", UPLOAD, content_type("application/x-git-receive-pack-request")),
        ("POST", "/team/app.git/git-receive-pack", NONE, content_type("application/x-git-receive-pack-request")),
        ("POST", "/team/app.git/git-upload-archive", UPLOAD, content_type("application/x-git-upload-archive-request")),
        ("POST", "/team/app.git/git-upload-pack", &[("Content-Type", "application/x-git-upload-pack-request; charset=utf-8",)], content_type("application/x-git-upload-pack-request")),
        ("POST", "/team/app.git/git-upload-pack", &[("Content-Type", "application/x-git-upload-pack-request;")], content_type("application/x-git-upload-pack-request")),
        ("POST", "/team/app.git/git-upload-pack", &[("Content-Type", "Application/X-Git-Upload-Pack-Request")], content_type("application/x-git-upload-pack-request")),
        ("POST", "/team/app.git/git-upload-pack", &[("Content-Type", "application/x-git-upload-pack-request"), ("Content-Type", "application/x-git-upload-pack-request")], content_type("application/x-git-upload-pack-request")),
        ("POST", "/team/app.git/git-upload-pack", &[("Content-Type", "application/x-www-form-urlencoded")], content_type("application/x-git-upload-pack-request")),
        // Wrong method for the endpoint.
        ("GET", "/team/app.git/git-upload-pack", NONE, method_refused("GET")),
        ("GET", "/team/app.git/git-receive-pack", NONE, method_refused("GET")),
        ("HEAD", "/team/app.git/git-receive-pack", NONE, method_refused("HEAD")),
        ("POST", "/team/app.git/info/refs?service=git-receive-pack", RECEIVE, method_refused("POST")),
        ("POST", "/team/app.git/info/refs", NONE, method_refused("POST")),
        ("POST", "/team/app.git/HEAD", NONE, method_refused("POST")),
        ("POST", "/team/app.git/objects/info/packs", NONE, method_refused("POST")),
    ]);
}

#[test]
#[rustfmt::skip]
fn dumb_files_take_no_query() {
    check(&[
        ("GET", "/team/app.git/HEAD?x=1", NONE, unexpected(&[])),
        ("GET", "/team/app.git/objects/info/packs?service=git-upload-pack", NONE, unexpected(&[])),
        ("GET", "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef01234567.pack?a", NONE, unexpected(&[])),
    ]);
}

#[test]
fn other_methods_are_refused() {
    let mut rows: Vec<Row> = Vec::new();
    for method in [
        "PUT",
        "DELETE",
        "PROPFIND",
        "PROPPATCH",
        "MKCOL",
        "COPY",
        "MOVE",
        "LOCK",
        "UNLOCK",
        "OPTIONS",
        "PATCH",
        "TRACE",
        "MKACTIVITY",
        "MERGE",
        "REPORT",
    ] {
        for target in [
            "/team/app.git/",
            "/team/app.git/info/refs",
            "/team/app.git/git-receive-pack",
            "/team/app.git/objects/info/packs",
            "/team/app.git/refs/heads/main",
        ] {
            rows.push((method, target, RECEIVE, method_refused(method)));
        }
    }
    // Lower- and mixed-case methods never reach the classifier.
    for method in ["post", "Post", "get", "head"] {
        rows.push((
            method,
            "/team/app.git/git-receive-pack",
            RECEIVE,
            Canon(CanonError::MethodSyntax),
        ));
    }
    check(&rows);
}

#[test]
fn classifier_alone_refuses_non_exact_methods() {
    // Defence in depth: even without canonicalisation, only exact GET/HEAD/POST pass.
    let headers = HeaderMap::new();
    let segments = vec![
        "team".to_owned(),
        "app.git".to_owned(),
        "git-receive-pack".to_owned(),
    ];
    let query = Query::default();
    for name in ["post", "Post", "POST ", "GET", "get"] {
        let Ok(method) = Method::from_bytes(name.as_bytes()) else {
            continue;
        };
        let request = Request {
            method: &method,
            segments: &segments,
            trailing_slash: false,
            query: &query,
            headers: &headers,
        };
        assert!(
            matches!(classify(&request), Err(Refusal::Method { .. })),
            "{name}"
        );
    }
}

#[test]
#[rustfmt::skip]
fn endpoints_are_exact_and_case_sensitive() {
    assert_unknown(&[
        "/team/app.git/GIT-RECEIVE-PACK",
        "/team/app.git/Git-Receive-Pack",
        "/team/app.git/git-receive-pack2",
        "/team/app.git/git_receive_pack",
        "/team/app.git/INFO/REFS",
        "/team/app.git/info/Refs",
        "/team/app.git/Info/refs",
        "/team/app.git/head",
        "/team/app.git/Head",
        "/team/app.git/objects/AB/CDEF0123456789ABCDEF0123456789ABCDEF01",
        "/team/app.git/objects/ab/CDEF0123456789ABCDEF0123456789ABCDEF01",
        "/team/app.git/objects/pack/pack-0123456789ABCDEF0123456789ABCDEF01234567.pack",
        "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef01234567.PACK",
        "/team/app.git/OBJECTS/info/packs",
        "/team/app.git/objects/INFO/packs",
        "/team/app.git/objects/info/PACKS",
    ]);
    check(&[(
        "POST",
        "/team/app.git/GIT-RECEIVE-PACK",
        RECEIVE,
        Refused(Refusal::UnknownEndpoint {
            vcs: "git",
            what: "\"team/app.git/GIT-RECEIVE-PACK\" (expected …/info/refs, …/git-upload-pack, \
                   …/git-receive-pack, …/git-upload-archive or a dumb-protocol file)"
                .into(),
        }),
    )]);
}

#[test]
fn unknown_suffixes_are_refused() {
    assert_unknown(&[
        "/team/app.git",
        "/team/app.git/",
        "/team/app.git/info/refs/",
        "/team/app.git/HEAD/",
        "/team/app.git/info",
        "/team/app.git/info/refs2",
        "/team/app.git/info/refs/x",
        "/team/app.git/info/alternates",
        "/team/app.git/info/packs",
        "/team/app.git/config",
        "/team/app.git/description",
        "/team/app.git/hooks/pre-receive",
        "/team/app.git/refs/heads/main",
        "/team/app.git/packed-refs",
        "/team/app.git/FETCH_HEAD",
        "/team/app.git/ORIG_HEAD",
        "/team/app.git/objects",
        "/team/app.git/objects/info",
        "/team/app.git/objects/info/commit-graph",
        "/team/app.git/objects/pack/multi-pack-index",
        "/team/app.git/objects/01/23456789abcdef0123456789abcdef0123456",
        "/team/app.git/objects/01/23456789abcdef0123456789abcdef012345678",
        "/team/app.git/objects/012/3456789abcdef0123456789abcdef01234567",
        "/team/app.git/objects/0/123456789abcdef0123456789abcdef01234567",
        "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef0123456.pack",
        "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef01234567.keep",
        "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef01234567.rev",
        "/team/app.git/objects/pack/pack-0123456789abcdef0123456789abcdef01234567.pack.idx",
        "/team/app.git/objects/pack/0123456789abcdef0123456789abcdef01234567.pack",
        "/team/app.git/objects/pack/pack-.pack",
        "/team/app.git/git-upload-pack/x",
        "/team/app.git/git-upload-pack/",
        "/",
    ]);
    let hex = format!("/team/app.git/objects/pack/pack-{SHA1}.pack");
    assert!(classify_raw("GET", &hex, NONE).is_ok(), "control row");
}

const OID: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

/// PROTOCOLS.md §2 and ACCESS.md "Git LFS": the paths and methods git-lfs uses.
#[test]
#[rustfmt::skip]
fn lfs_paths_and_methods() {
    let obj = format!("/team/app.git/info/lfs/objects/{OID}");
    let verify = format!("{obj}/verify");
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let (obj, verify) = (leak(obj), leak(verify));
    check(&[
        ("GET", obj, NONE, Read("team/app.git", LfsDownload)),
        ("PUT", obj, &[("Content-Type", "application/octet-stream")], Write("team/app.git", LfsUpload)),
        ("POST", verify, NONE, Write("team/app.git", LfsVerify)),
        ("GET", "/team/app.git/info/lfs/locks", NONE, Read("team/app.git", LfsLockList)),
        ("GET", "/team/app.git/info/lfs/locks?path=a.bin&limit=10", NONE, Read("team/app.git", LfsLockList)),
        ("GET", "/team/app/info/lfs/locks?refspec=refs%2Fheads%2Fmain", NONE, Read("team/app", LfsLockList)),
        ("POST", "/team/app.git/info/lfs/locks", NONE, Write("team/app.git", LfsLockCreate)),
        ("POST", "/team/app.git/info/lfs/locks/verify", NONE, Write("team/app.git", LfsLockVerify)),
        ("POST", "/team/app.git/info/lfs/locks/17/unlock", NONE, Write("team/app.git", LfsUnlock)),
        ("POST", "/team/app.git/info/lfs/locks/ab-12_x/unlock", NONE, Write("team/app.git", LfsUnlock)),
        // Methods the table does not list.
        ("HEAD", obj, NONE, method_refused("HEAD")),
        ("POST", obj, NONE, method_refused("POST")),
        ("DELETE", obj, NONE, method_refused("DELETE")),
        ("GET", verify, NONE, method_refused("GET")),
        ("PUT", "/team/app.git/info/lfs/locks", NONE, method_refused("PUT")),
        ("GET", "/team/app.git/info/lfs/locks/verify", NONE, method_refused("GET")),
        ("GET", "/team/app.git/info/lfs/locks/1/unlock", NONE, method_refused("GET")),
        ("DELETE", "/team/app.git/info/lfs/locks/1", NONE, lfs_unknown("locks/1")),
        ("GET", "/team/app.git/info/lfs/objects/batch", NONE, method_refused("GET")),
        ("post", "/team/app.git/info/lfs/locks", NONE, Canon(CanonError::MethodSyntax)),
        // Queries where none is used, and unknown keys on the lock list.
        ("GET", "/team/app.git/info/lfs/locks?user=x", NONE, unexpected(super::lfs::LOCK_LIST_KEYS_FOR_TESTS)),
        ("POST", "/team/app.git/info/lfs/locks?x=1", NONE, unexpected(&[])),
        ("POST", "/team/app.git/info/lfs/objects/batch?x=1", NONE, unexpected(&[])),
        // Object ids: 64 lower-case hex only; lock ids: a plain token.
        ("GET", "/team/app.git/info/lfs/objects/0123", NONE, lfs_unknown("objects/0123")),
        ("PUT", "/team/app.git/info/lfs/objects/4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393", NONE, lfs_unknown("objects/4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393")),
        ("POST", "/team/app.git/info/lfs/locks/a%20b/unlock", NONE, lfs_unknown("locks/a b/unlock")),
        // Other paths, a trailing slash, the bare prefix.
        ("GET", "/team/app.git/info/lfs", NONE, lfs_unknown("")),
        ("GET", "/team/app.git/info/lfs/", NONE, lfs_unknown("")),
        ("GET", "/team/app.git/info/lfs/locks/", NONE, lfs_unknown("locks")),
        ("POST", "/team/app.git/info/lfs/objects/batch/x", NONE, lfs_unknown("objects/batch/x")),
        ("GET", "/team/app.git/info/LFS/locks", NONE, Refused(Refusal::UnknownEndpoint { vcs: "git", what: lfs_unknown_text_plain("team/app.git/info/LFS/locks") })),
        ("GET", "/team/info/lfs/app.git/info/refs?service=git-upload-pack", NONE, lfs_unknown("app.git/info/refs")),
        // Repositories: none, or one containing an endpoint.
        ("GET", "/info/lfs/locks", NONE, Refused(Refusal::NoRepository)),
        ("GET", "/x/info/refs/info/lfs/locks", NONE, Refused(Refusal::BadRepository {
            reason: "it contains a Git endpoint (info/refs, HEAD, objects/…, git-…-pack, \
                     info/lfs) before the end of the path" })),
        // The batch needs its body; a compressed one is refused from the head.
        ("POST", "/team/app.git/info/lfs/objects/batch", &[("Content-Encoding", "gzip")], Refused(Refusal::NotSupported {
            what: "a compressed (Content-Encoding) LFS batch request" })),
    ]);
    assert_eq!(
        classify_raw("POST", "/team/app.git/info/lfs/objects/batch", &[("Content-Type", "application/vnd.git-lfs+json")]),
        Err(Rejected::NeedsBody)
    );
}

fn lfs_unknown(below: &str) -> Expect {
    let shown = if below.is_empty() { "(nothing)" } else { below };
    Refused(Refusal::UnknownEndpoint {
        vcs: "git",
        what: format!(
            "info/lfs/{shown:?} (expected objects/batch, objects/<sha256>, \
             objects/<sha256>/verify, locks, locks/verify or locks/<id>/unlock)"
        ),
    })
}

fn lfs_unknown_text_plain(path: &str) -> String {
    format!(
        "{path:?} (expected …/info/refs, …/git-upload-pack, …/git-receive-pack, \
         …/git-upload-archive or a dumb-protocol file)"
    )
}

#[test]
#[rustfmt::skip]
fn repository_names() {
    let bad = |reason: &'static str| Refused(Refusal::BadRepository { reason });
    let parent = "only the last segment may end in .git";
    let twice = "the name must not end in .git twice or be .git";
    let inner = "it contains a Git endpoint (info/refs, HEAD, objects/…, git-…-pack, \
                 info/lfs) before the end of the path";
    check(&[
        ("GET", "/info/refs?service=git-upload-pack", NONE, Refused(Refusal::NoRepository)),
        ("GET", "/info/refs", NONE, Refused(Refusal::NoRepository)),
        ("POST", "/git-receive-pack", RECEIVE, Refused(Refusal::NoRepository)),
        ("POST", "/git-upload-pack", UPLOAD, Refused(Refusal::NoRepository)),
        ("GET", "/HEAD", NONE, Refused(Refusal::NoRepository)),
        ("GET", "/objects/info/packs", NONE, Refused(Refusal::NoRepository)),
        // `.git` only as the single suffix of the last segment.
        ("GET", "/team.git/app.git/info/refs?service=git-upload-pack", NONE, bad(parent)),
        ("GET", "/team.git/app/info/refs?service=git-upload-pack", NONE, bad(parent)),
        ("GET", "/team/.git/info/refs?service=git-upload-pack", NONE, bad(twice)),
        ("GET", "/.git/info/refs?service=git-upload-pack", NONE, bad(twice)),
        ("GET", "/team/.git/app/info/refs?service=git-upload-pack", NONE, bad(parent)),
        ("POST", "/team/app/.git/git-receive-pack", RECEIVE, bad(twice)),
        ("GET", "/team/app.git.git/info/refs?service=git-upload-pack", NONE, bad(twice)),
        ("GET", "/team/app.GIT/info/refs?service=git-upload-pack", NONE, bad(twice)),
        ("GET", "/team/App.Git/info/refs?service=git-upload-pack", NONE, bad(twice)),
        ("GET", "/team/app.GIT.git/info/refs?service=git-upload-pack", NONE, bad(twice)),
        ("GET", "/team/app.git%20/info/refs?service=git-upload-pack", NONE, bad(twice)),
        ("GET", "/team/app.git./info/refs?service=git-upload-pack", NONE, bad(twice)),
        ("GET", "/team/.GIT/x.git/info/refs?service=git-upload-pack", NONE, bad(parent)),
        ("GET", "/team.GIT/x.git/info/refs?service=git-upload-pack", NONE, bad(parent)),
        // A repository containing an endpoint: first-match servers would split elsewhere.
        ("GET", "/team/info/refs/info/refs?service=git-upload-pack", NONE, bad(inner)),
        ("GET", "/info/refs/app.git/info/refs?service=git-upload-pack", NONE, bad(inner)),
        ("GET", "/HEAD/info/refs?service=git-upload-pack", NONE, bad(inner)),
        ("GET", "/team/HEAD/app.git/info/refs?service=git-upload-pack", NONE, bad(inner)),
        ("POST", "/git-receive-pack/app/git-upload-pack", UPLOAD, bad(inner)),
        ("POST", "/team/git-upload-pack/git-receive-pack", RECEIVE, bad(inner)),
        ("GET", "/team/objects/info/packs/app/info/refs?service=git-upload-pack", NONE, bad(inner)),
        ("GET", "/team/objects/01/23456789abcdef0123456789abcdef01234567/info/refs", NONE, bad(inner)),
    ]);
}

#[test]
fn git_protocol_never_changes_the_verdict() {
    for value in [
        "version=2",
        "version=1",
        "garbage",
        "version=2:x=y",
        "",
        "service=git-receive-pack",
    ] {
        let headers = [("Git-Protocol", value)];
        let fetch = classify_raw(
            "GET",
            "/t/a.git/info/refs?service=git-upload-pack",
            &headers,
        );
        let push = classify_raw(
            "GET",
            "/t/a.git/info/refs?service=git-receive-pack",
            &headers,
        );
        assert_eq!(fetch.map(|v| v.access()), Ok(Access::Read), "{value:?}");
        assert_eq!(push.map(|v| v.access()), Ok(Access::Write), "{value:?}");
    }
}

#[test]
fn git_protocol_header_format() {
    let rows = [
        ("version=2", true),
        ("version=1", true),
        ("version=2:object0format=sha256", true),
        ("a=b:c=d:e=f", true),
        ("", false),
        ("version", false),
        ("version=", false),
        ("=2", false),
        ("version==2", false),
        ("version=2=3", false),
        ("version=2:", false),
        (":version=2", false),
        ("version=2::a=b", false),
        ("version=2 ", false),
        (" version=2", false),
        ("version = 2", false),
        ("version=2,version=1", false),
        ("version=2;a=b", false),
        ("object-format=sha256", false),
        ("version=v2.0", false),
        ("ver_sion=2", false),
    ];
    for (value, ok) in rows {
        let header = HeaderValue::from_str(value).expect("header value");
        assert_eq!(git_protocol_header_ok(&header), ok, "{value:?}");
    }
    let long = format!("version={}", "2".repeat(300));
    assert!(!git_protocol_header_ok(
        &HeaderValue::from_str(&long).expect("header value")
    ));
    let non_ascii = HeaderValue::from_bytes(b"version=\xc3\xa9").expect("header value");
    assert!(!git_protocol_header_ok(&non_ascii));
}

#[test]
fn refusals_on_info_refs_say_what_is_wrong() {
    let message = |target: &str| match classify_raw("GET", target, NONE) {
        Err(Rejected::Refusal(refusal)) => refusal.to_string(),
        other => panic!("{target}: {other:?}"),
    };
    // What the client sent in the query is never repeated (it could be a pasted token).
    let text = message("/team/app.git/info/refs?service=GIT-RECEIVE-PACK");
    assert!(!text.contains("GIT-RECEIVE-PACK"), "{text}");
    assert!(text.contains("service=git-upload-pack"), "{text}");
    assert!(text.contains("service=git-receive-pack"), "{text}");
    let text = message("/team/app.git/info/refs?Service=git-upload-pack");
    assert!(!text.contains("Service"), "{text}");
    assert!(text.contains("\"service\""), "{text}");
    let text = message("/info/refs?service=git-upload-pack");
    assert!(text.contains("repository"), "{text}");
    let long = format!("/team/app.git/info/refs?service={}", "x".repeat(500));
    let text = message(&long);
    assert!(text.len() < 300, "{text}");
}

/// Whatever the combination, a read verdict never comes from a receive-pack request, and
/// every verdict has an exact method and a valid repo path.
#[test]
fn combinations_never_read_a_push() {
    let methods = ["GET", "HEAD", "POST", "PUT", "PROPFIND"];
    let paths = [
        "/t/a.git/info/refs",
        "/t/a.git/git-receive-pack",
        "/t/a.git/git-upload-pack",
        "/t/a.git/git-upload-archive",
        "/t/a.git/HEAD",
        "/t/a.git/git-receive%2Dpack",
        "/t/a.git/GIT-RECEIVE-PACK",
        "/t/git-receive-pack/a.git/git-upload-pack",
        "/t/a.git/info/refs/",
    ];
    let queries = [
        "",
        "?",
        "?service=git-upload-pack",
        "?service=git-receive-pack",
        "?service=git%2Dreceive-pack",
        "?service=git-upload-pack&service=git-receive-pack",
        "?service=git-receive-pack&service=git-upload-pack",
        "?service=git-upload-pack;service=git-receive-pack",
        "?Service=git-receive-pack",
        "?x=1",
    ];
    let content_types = [NONE, UPLOAD, ARCHIVE, RECEIVE];
    for method in methods {
        for path in paths {
            for query in queries {
                for headers in content_types {
                    let target = format!("{path}{query}");
                    let Ok(verdict) = classify_raw(method, &target, headers) else {
                        continue;
                    };
                    assert!(
                        ["GET", "HEAD", "POST"].contains(&method),
                        "{method} {target}"
                    );
                    let mentions_receive = target.contains("receive");
                    if verdict.access() == Access::Read {
                        assert!(!mentions_receive, "{method} {target} {headers:?} read");
                    }
                    let Operation::Git(op) = verdict.operation else {
                        panic!("not git")
                    };
                    let push = matches!(op, ReceivePack | ReceivePackAdvertisement);
                    assert_eq!(push, verdict.access() == Access::Write);
                }
            }
        }
    }
}

#[test]
fn unknown_endpoint_messages_quote_the_end_of_the_path() {
    let long = format!("/{}/app.git/GIT-RECEIVE-PACK", "d".repeat(300));
    let Err(Rejected::Refusal(refusal)) = classify_raw("POST", &long, RECEIVE) else {
        panic!("refused")
    };
    let text = refusal.to_string();
    assert!(text.contains("\"…ddd"), "{text}");
    assert!(text.contains("ddd/app.git/GIT-RECEIVE-PACK\""), "{text}");
    assert!(text.chars().count() < 250, "{text}");
    let Err(Rejected::Refusal(refusal)) = classify_raw("GET", "/t/a.git/info/refs/", NONE) else {
        panic!("refused")
    };
    assert_eq!(
        refusal.to_string(),
        "not a git endpoint: \"t/a.git/info/refs/\" (no Git endpoint ends with '/')"
    );
}
