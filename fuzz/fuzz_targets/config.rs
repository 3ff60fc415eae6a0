//! The config loader never panics, whatever the text. The file is placed in a directory that
//! does not exist, so relative `*_file` secrets are never found.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vcsgate::config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = config::parse(text, Path::new("/nonexistent/vcsgate-fuzz/proxy.toml"));
});
