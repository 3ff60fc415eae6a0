//! The Subversion classifier never panics; a read verdict uses a read method outside the
//! commit-only `!svn/` areas, and the repository is where the route layout says; body
//! verdicts do not depend on chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vcsgate::vocabulary::Access;
use vcsgate::classify::svn::{self, SvnLayout};
use vcsgate::classify::{Classified, Operation};
use vcsgate_fuzz::head::{self, Head};
use vcsgate_fuzz::{chunked, routes};

const READ_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"];
const COMMIT_AREAS: &[&str] = &["act", "wrk", "wbl", "txn", "txr", "vtxn", "vtxr"];

fuzz_target!(|data: &[u8]| {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    let Some(prefix) = canonical.segments.first() else {
        return;
    };
    let route = routes::svn(prefix);
    let request = head::request(&canonical, 1, &head.headers);
    let (repo, operation) = match svn::classify(&request, &route) {
        Err(_) => return,
        Ok(Classified::Final(verdict)) => (verdict.repo, verdict.operation),
        Ok(Classified::NeedsBody { repo, .. }) => {
            let classify = || svn::classify(&request, &route).ok();
            match chunked::check_chunking(classify, head.body) {
                Some(op) => (repo, op),
                None => return,
            }
        }
    };
    let Operation::Svn(_) = operation else {
        panic!("an svn verdict with a foreign operation");
    };
    let below = &canonical.segments[1..];
    let inner = match route.layout {
        SvnLayout::SingleRepository => {
            assert!(repo.is_empty(), "SVNPath route with repository {repo:?}");
            below
        }
        SvnLayout::ParentPath => {
            assert_eq!(
                Some(repo.as_slice()),
                below.get(..1),
                "not the first segment"
            );
            below.get(1..).unwrap_or_default()
        }
    };
    if operation.access() == Access::Read {
        let method = canonical.method.as_str();
        assert!(READ_METHODS.contains(&method), "read verdict for {method}");
        let in_commit_area = inner.first().is_some_and(|s| s == "!svn")
            && inner
                .get(1)
                .is_some_and(|a| COMMIT_AREAS.contains(&a.as_str()));
        assert!(!in_commit_area, "read verdict in a commit area: {inner:?}");
    }
});
