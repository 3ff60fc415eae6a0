//! The Git classifier never panics; a read verdict is never a push.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vcsgate::vocabulary::Access;
use vcsgate::classify::{Classified, Operation, git};
use vcsgate_fuzz::head::{self, Head};

fuzz_target!(|data: &[u8]| {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    let request = head::request(&canonical, 0, &head.headers);
    let Ok(classified) = git::classify(&request) else {
        return;
    };
    let Classified::Final(verdict) = classified else {
        panic!("git verdicts never need the body");
    };
    let Operation::Git(_) = verdict.operation else {
        panic!("a git verdict with a foreign operation");
    };
    let segments = &canonical.segments;
    assert!(!verdict.repo.is_empty(), "no repository");
    assert!(
        segments.starts_with(&verdict.repo),
        "repository is not a path prefix"
    );
    let names_push = segments.last().is_some_and(|s| s == "git-receive-pack")
        || canonical.query.get("service") == Some("git-receive-pack");
    match verdict.access() {
        Access::Read => assert!(!names_push, "read verdict for a push: {segments:?}"),
        Access::Write => assert!(names_push, "write verdict for a non-push: {segments:?}"),
    }
});
