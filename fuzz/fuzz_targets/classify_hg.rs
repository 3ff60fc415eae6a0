//! The Mercurial classifier never panics; a read verdict never carries a write command —
//! neither as `cmd` nor inside a `batch`, from any argument source (checked against an
//! independent model of hg, [`hg_model`]); body verdicts do not depend on chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vcsgate::vocabulary::Access;
use vcsgate::classify::{Classified, Operation, hg};
use vcsgate_fuzz::head::{self, Head};
use vcsgate_fuzz::hg_model::{self, WRITE_COMMANDS};
use vcsgate_fuzz::{chunked, routes};

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
    let route = routes::hg(prefix);
    let request = head::request(&canonical, 1, &head.headers);
    let operation = match hg::classify(&request, &route) {
        Err(_) => return,
        Ok(Classified::Final(verdict)) => verdict.operation,
        Ok(Classified::NeedsBody { .. }) => {
            let classify = || hg::classify(&request, &route).ok();
            match chunked::check_chunking(classify, head.body) {
                Some(op) => op,
                None => return,
            }
        }
    };
    let Operation::Hg(_) = operation else {
        panic!("an hg verdict with a foreign operation");
    };
    if operation.access() == Access::Read {
        let cmd = canonical.query.get("cmd").unwrap_or_default();
        assert!(!WRITE_COMMANDS.contains(&cmd), "read verdict for cmd={cmd}");
        let ops = hg_model::batched_ops(canonical.raw_query.as_deref(), &head.headers, head.body);
        if let Some(op) = ops.iter().find(|op| WRITE_COMMANDS.contains(&op.as_str())) {
            assert!(cmd != "batch", "read verdict for a batch carrying {op}");
        }
    }
});
