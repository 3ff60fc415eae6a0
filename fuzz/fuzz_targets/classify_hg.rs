//! The Mercurial classifier never panics; a read verdict never carries a write command;
//! body verdicts do not depend on chunking.
//! The checks live in the library (`vcsgate::fuzzing::classify_hg`), where the main test suite
//! replays every committed seed and crash input through them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vcsgate::fuzzing::classify_hg(data));
