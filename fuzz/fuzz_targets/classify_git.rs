//! The Git classifier never panics; a read verdict is never a push.
//! The checks live in the library (`vcsgate::fuzzing::classify_git`), where the main test suite
//! replays every committed seed and crash input through them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vcsgate::fuzzing::classify_git(data));
