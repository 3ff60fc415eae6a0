//! The Mercurial classifier never panics; a read verdict never names a write command, in the
//! query or in a batch; body verdicts do not depend on chunking.
//!
//! Written against `hg::classify(&Request)` (the stub in main); the classifier under way takes
//! `(&Request, &HgRoute)`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vcsgate::access::Access;
use vcsgate::classify::{Classified, Operation, hg};
use vcsgate_fuzz::chunked;
use vcsgate_fuzz::head::{self, Head};

const WRITE_COMMANDS: &[&str] = &["unbundle", "pushkey", "putlfile"];

fuzz_target!(|data: &[u8]| {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    let request = head::request(&canonical, &head.headers);
    let operation = match hg::classify(&request) {
        Err(_) => return,
        Ok(Classified::Final(verdict)) => verdict.operation,
        Ok(Classified::NeedsBody { .. }) => {
            match chunked::check_chunking(|| hg::classify(&request).ok(), head.body) {
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
        if cmd == "batch" {
            for item in canonical.query.get("cmds").unwrap_or_default().split(';') {
                let op = item.split(' ').next().unwrap_or_default();
                assert!(!WRITE_COMMANDS.contains(&op), "read verdict for a batched {op}");
            }
        }
    }
});
