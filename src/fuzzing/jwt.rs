//! OIDC JWTs: shape detection and header parsing never panic; whatever [`inspect`] accepts
//! has the shape of a JWT, an accepted algorithm and a `kid`; and nothing verifies against
//! the test keys at a time when every JWT has expired (so no input the fuzzer makes is ever
//! accepted, while the signature checks still run on well-formed ones).

use jsonwebtoken::Algorithm;

use crate::authn::oidc::verify::inspect;
use crate::authn::oidc::{AllowRule, ClaimGlob, Issuer, KeySet, RepoTemplate, looks_like_jwt};
use crate::names::UserName;
use crate::vocabulary::Access;

const TEST_JWKS: &str = include_str!("../../tests/fixtures/oidc/jwks-2.json");

fn issuers() -> Vec<(Issuer, KeySet)> {
    let (Ok(keys), Ok(user), Ok(template)) = (
        KeySet::parse(TEST_JWKS),
        UserName::parse("ci"),
        RepoTemplate::parse("git/{repository}"),
    ) else {
        panic!("the test JWKS, user or template does not parse");
    };
    let issuer = Issuer {
        issuer: "https://token.actions.example".to_owned(),
        audience: "vcsgate".to_owned(),
        user,
        max_ttl_secs: i64::MAX,
        allow: vec![AllowRule {
            claims: vec![("repository".to_owned(), ClaimGlob::new("**"))],
            repos: vec![template],
            access: Access::Write,
        }],
    };
    vec![(issuer, keys)]
}

pub fn jwt_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let shaped = looks_like_jwt(text);
    if let Ok(seen) = inspect(text) {
        assert!(shaped, "inspect accepted something without a JWT's shape");
        assert!(
            matches!(seen.algorithm, Algorithm::RS256 | Algorithm::ES256),
            "inspect accepted {:?}",
            seen.algorithm
        );
        assert!(!seen.kid.is_empty(), "inspect accepted an empty kid");
    }
    // Far past every `exp` the fuzzer could have had signed.
    let late = i64::MAX / 2;
    assert!(
        crate::authn::oidc::verify(text, &issuers(), late).is_err(),
        "a fuzzed JWT verified"
    );
}

#[cfg(test)]
mod tests {
    /// The signed seed verifies while it is valid: the fuzzer starts from an input that
    /// reaches the signature and claim checks, not one refused at the first byte.
    #[test]
    fn the_signed_seed_verifies_in_its_lifetime() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/jwt");
        let mut verified = 0;
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if crate::authn::oidc::verify(&text, &super::issuers(), 1_800_000_100).is_ok() {
                verified += 1;
            }
        }
        assert_eq!(verified, 1, "exactly one seed is validly signed");
    }
}
