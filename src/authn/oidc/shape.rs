//! Telling a JWT from a vcsgate token by its shape alone, before anything is decoded: three
//! non-empty base64url parts joined by `.`, the first starting with `eyJ` (the encoding of
//! `{"`). vcsgate tokens start with `vcsg_` and contain no `.`, so the two never overlap.

/// Longest JWT accepted (CI tokens are 1–2 KiB; this bounds decoding work).
pub const MAX_JWT_LEN: usize = 8192;

/// Whether `credential` has the shape of a compact JWS.
pub fn looks_like_jwt(credential: &str) -> bool {
    if credential.len() > MAX_JWT_LEN || !credential.starts_with("eyJ") {
        return false;
    }
    let mut parts = 0;
    for part in credential.split('.') {
        parts += 1;
        let base64url = part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if part.is_empty() || !base64url {
            return false;
        }
    }
    parts == 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"));
        for not in [
            "vcsg_0123456789abcdefghijABCDEFGHIJxyAbCdEf",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.",
            "eyJhbGciOiJSUzI1NiJ9..c2ln",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln.x",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2l+",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln=",
            "xyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
            "",
        ] {
            assert!(!looks_like_jwt(not), "{not}");
        }
        let long = format!("eyJ{}.a.b", "a".repeat(MAX_JWT_LEN));
        assert!(!looks_like_jwt(&long));
    }
}
