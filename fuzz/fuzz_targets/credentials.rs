//! Credential parsing and the token format never panic; a parsed token is well formed.
//! The checks live in the library (`vcsgate::fuzzing::credentials_target`), where the main
//! test suite replays every committed seed and crash input through them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vcsgate::fuzzing::credentials_target(data));
