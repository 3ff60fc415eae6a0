//! Canonicalisation (R1–R5) never panics, and what it lets through has the promised shape.
//! The checks live in the library (`vcsgate::fuzzing::canonicalise`), where the main test suite
//! replays every committed seed and crash input through them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vcsgate::fuzzing::canonicalise(data));
