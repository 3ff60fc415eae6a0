//! JWT shape detection and header parsing never panic; nothing fuzzed verifies. The checks
//! live in the library (`vcsgate::fuzzing::jwt::jwt_target`), where the main test suite
//! replays every committed seed and crash input through them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vcsgate::fuzzing::jwt::jwt_target(data));
