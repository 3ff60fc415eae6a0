//! The config loader never panics, whatever the text.
//! The checks live in the library (`vcsgate::fuzzing::config_target`), where the main test suite
//! replays every committed seed and crash input through them too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| vcsgate::fuzzing::config_target(data));
