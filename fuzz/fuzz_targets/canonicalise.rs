//! Canonicalisation (R1–R5) never panics, and what it lets through has the promised shape.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vcsgate::canon;
use vcsgate_fuzz::head::Head;

fuzz_target!(|data: &[u8]| {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    for name in head.headers.keys() {
        assert!(
            !canon::is_untrusted_header(name.as_str()),
            "{name} survived stripping"
        );
    }
    assert_eq!(canonical.raw_path, head.uri.path());
    assert_eq!(canonical.raw_query.as_deref(), head.uri.query());
    for segment in &canonical.segments {
        assert!(
            !segment.is_empty() && segment != "." && segment != "..",
            "{segment:?}"
        );
        assert!(!segment.contains(['/', '\\']), "{segment:?}");
        assert!(!segment.chars().any(char::is_control), "{segment:?}");
    }
    let keys: Vec<&str> = canonical.query.keys().collect();
    for (i, key) in keys.iter().enumerate() {
        assert!(!keys[..i].contains(key), "duplicate key {key:?}");
    }
});
