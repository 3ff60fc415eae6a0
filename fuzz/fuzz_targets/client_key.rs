//! The client key from `X-Forwarded-For` never panics and names an address the request
//! named.
//! The checks live in the library (`vcsgate::fuzzing::client_key_target`), where the main
//! test suite replays every committed seed and crash input through them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vcsgate::fuzzing::client_key_target(data));
