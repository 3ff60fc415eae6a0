//! The Subversion classifier never panics; a read verdict uses a read method outside the
//! commit-only `!svn/` areas; body verdicts do not depend on chunking.
//!
//! Written against `svn::classify(&Request)` (the stub in main); the classifier under way
//! takes `(&Request, &SvnRoute)`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vcsgate::access::Access;
use vcsgate::classify::{Classified, Operation, svn};
use vcsgate_fuzz::chunked;
use vcsgate_fuzz::head::{self, Head};

const READ_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"];
const COMMIT_AREAS: &[&str] = &["act", "wrk", "wbl", "txn", "txr", "vtxn", "vtxr"];

fuzz_target!(|data: &[u8]| {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    let request = head::request(&canonical, &head.headers);
    let operation = match svn::classify(&request) {
        Err(_) => return,
        Ok(Classified::Final(verdict)) => verdict.operation,
        Ok(Classified::NeedsBody { .. }) => {
            match chunked::check_chunking(|| svn::classify(&request).ok(), head.body) {
                Some(op) => op,
                None => return,
            }
        }
    };
    let Operation::Svn(_) = operation else {
        panic!("an svn verdict with a foreign operation");
    };
    if operation.access() == Access::Read {
        let method = canonical.method.as_str();
        assert!(READ_METHODS.contains(&method), "read verdict for {method}");
        let in_commit_area = canonical
            .segments
            .windows(2)
            .any(|w| w[0] == "!svn" && COMMIT_AREAS.contains(&w[1].as_str()));
        assert!(!in_commit_area, "read verdict in a commit area: {:?}", canonical.segments);
    }
});
