//! See `vcsgate::fuzzing::lane::http1_head` for the invariants; the main test suite replays every
//! committed seed and crash input through the same checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vcsgate::fuzzing::lane::http1_head(data));
