//! LFS on a URL backend (Apache, which has no LFS server): requests are classified, writes
//! need a write token, and what is allowed is forwarded unchanged.

use super::LfsWorld;
use crate::git_e2e::Via;
use crate::support::http;

const OID: &str = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";

fn batch(operation: &str) -> Vec<u8> {
    format!(r#"{{"operation":"{operation}","transfers":["basic"],"objects":[{{"oid":"{OID}","size":3}}]}}"#)
        .into_bytes()
}

#[test]
fn lfs_requests_are_classified_and_forwarded() {
    let lw = LfsWorld::new(Via::Apache);
    let port = lw.world.gate.port();
    let lfs = format!("{}/info/lfs", lw.world.url_path("app"));
    let json = (
        "Content-Type".to_owned(),
        "application/vnd.git-lfs+json".to_owned(),
    );
    let reader = [http::basic("bob", &lw.reader), json.clone()];
    let writer = [http::basic("alice", &lw.writer), json];
    let batch_url = format!("{lfs}/objects/batch");

    // Reads with a read token reach the backend (Apache answers 404: it has no LFS).
    let download = http::request_with_body(port, "POST", &batch_url, &reader, &batch("download"));
    assert_eq!(
        download.status,
        404,
        "forwarded to Apache: {download:?}\n{}",
        lw.world.gate.log()
    );
    let locks = http::get(port, &format!("{lfs}/locks?path=a.bin"), &reader);
    assert_eq!(
        locks.status,
        404,
        "forwarded: {locks:?}\n{}",
        lw.world.gate.log()
    );
    // Writes need a write token.
    let upload = http::request_with_body(port, "POST", &batch_url, &reader, &batch("upload"));
    assert_eq!(upload.status, 403, "{upload:?}");
    let put = http::request_with_body(
        port,
        "PUT",
        &format!("{lfs}/objects/{OID}"),
        &reader,
        b"abc",
    );
    assert_eq!(put.status, 403, "{put:?}");
    let upload = http::request_with_body(port, "POST", &batch_url, &writer, &batch("upload"));
    assert_eq!(upload.status, 404, "forwarded: {upload:?}");
    // Ambiguous batch bodies never reach the backend.
    let twice = br#"{"operation":"download","Operation":"upload","objects":[]}"#;
    let refused = http::request_with_body(port, "POST", &batch_url, &writer, twice);
    assert_eq!(refused.status, 400, "{refused:?}");

    let log = lw.world.backend_requests().join("\n");
    let count = |needle: &str| log.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(
        count("POST /git/team/app.git/info/lfs/objects/batch"),
        2,
        "{log}"
    );
    assert_eq!(
        count("GET /git/team/app.git/info/lfs/locks?path=a.bin"),
        1,
        "{log}"
    );
    assert_eq!(count("PUT "), 0, "{log}");
}
