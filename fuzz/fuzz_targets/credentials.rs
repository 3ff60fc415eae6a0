//! Credential parsing and the token format never panic; a token that parses is well formed
//! and hashes to what the store would look up. Each input line is one `Authorization` value.
#![no_main]

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use vcsgate::{credentials, token};

fuzz_target!(|data: &[u8]| {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(AUTHORIZATION, value);
        }
    }
    let presented = credentials::presented_token(&headers);
    if headers.is_empty() {
        assert!(matches!(presented, Ok(None)));
    }
    let Ok(Some(secret)) = presented else {
        return;
    };
    let text = secret.expose();
    assert!(!text.is_empty());
    assert_eq!(
        format!("{secret:?}"),
        "***",
        "a secret's Debug shows the secret"
    );
    let _ = token::public_prefix(text);
    if let Ok(hash) = token::parse(text) {
        assert_eq!(text.len(), token::TOKEN_LEN);
        assert!(text.starts_with(token::PREFIX));
        assert_eq!(hash, token::TokenHash::of(text));
    }
});
