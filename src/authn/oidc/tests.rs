//! JWTs minted here with the test keys of `tests/fixtures/oidc/` (RSA and P-256), against
//! every check of ACCESS.md.

#![allow(clippy::unwrap_used)]

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::*;
use crate::names::UserName;
use crate::vocabulary::Access;

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oidc");

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()
}

fn issuers() -> Vec<(Issuer, KeySet)> {
    let issuer = Issuer {
        issuer: ISSUER.to_owned(),
        audience: "vcsgate".to_owned(),
        user: UserName::parse("ci").unwrap(),
        max_ttl_secs: 3600,
        allow: vec![
            AllowRule {
                claims: vec![
                    ("repository".to_owned(), ClaimGlob::new("team/*")),
                    ("ref".to_owned(), ClaimGlob::new("refs/heads/*")),
                ],
                repos: vec![RepoTemplate::parse("git/{repository}").unwrap()],
                access: Access::Read,
            },
            AllowRule {
                claims: vec![
                    ("repository".to_owned(), ClaimGlob::new("team/*")),
                    ("ref".to_owned(), ClaimGlob::new("refs/heads/main")),
                ],
                repos: vec![RepoTemplate::parse("git/{repository}").unwrap()],
                access: Access::Write,
            },
        ],
    };
    vec![(issuer, KeySet::parse(&fixture("jwks-1.json")).unwrap())]
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "aud": "vcsgate",
        "sub": "repo:team/app:ref:refs/heads/main",
        "jti": "job-1",
        "repository": "team/app",
        "ref": "refs/heads/main",
        "iat": NOW - 10,
        "nbf": NOW - 10,
        "exp": NOW + 600,
    })
}

fn with(changes: &[(&str, Value)]) -> Value {
    let mut claims = claims();
    for (name, value) in changes {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(*name);
        } else {
            claims[*name] = value.clone();
        }
    }
    claims
}

fn mint(alg: Algorithm, kid: Option<&str>, key_file: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    let pem = fixture(key_file);
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    };
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn rs256(claims: &Value) -> String {
    mint(Algorithm::RS256, Some("rsa-1"), "rsa-1.pem", claims)
}

#[test]
fn rs256_and_es256_verify_and_their_claims_give_access() {
    let issuers = issuers();
    for jwt in [
        rs256(&claims()),
        mint(Algorithm::ES256, Some("ec-1"), "ec-1.pem", &claims()),
    ] {
        assert!(looks_like_jwt(&jwt));
        let verified = verify(&jwt, &issuers, NOW).unwrap();
        assert_eq!(verified.user.as_str(), "ci");
        assert_eq!(verified.exp, NOW + 600);
        assert_eq!(verified.jti.as_deref(), Some("job-1"));
        assert_eq!(
            verified.sub.as_deref(),
            Some("repo:team/app:ref:refs/heads/main")
        );
        let allowed: Vec<(&str, Access)> = verified
            .allowed
            .iter()
            .map(|(p, a)| (p.as_str(), *a))
            .collect();
        assert_eq!(
            allowed,
            [
                ("git/team/app", Access::Read),
                ("git/team/app", Access::Write)
            ]
        );
    }
    // an audience list holding ours, a branch that only the read rule covers
    let branch = with(&[
        ("aud", json!(["other", "vcsgate"])),
        ("ref", json!("refs/heads/feature")),
    ]);
    let verified = verify(&rs256(&branch), &issuers, NOW).unwrap();
    assert_eq!(verified.allowed.len(), 1);
    assert_eq!(verified.allowed[0].1, Access::Read);
    // a claim outside the rules, and one that is not a safe path (the glob `team/*` matches
    // `team/..`; the substitution refuses it): valid, but nothing is allowed
    for outside in [
        with(&[("repository", json!("elsewhere/app"))]),
        with(&[("repository", json!("team/.."))]),
        with(&[("repository", json!("team/*"))]),
    ] {
        let verified = verify(&rs256(&outside), &issuers, NOW).unwrap();
        assert!(verified.allowed.is_empty(), "{outside}: {verified:?}");
    }
}

#[test]
fn every_refusal() {
    let issuers = issuers();
    let rows: Vec<(&str, String, OidcError)> = vec![
        (
            "expired",
            rs256(&with(&[
                ("exp", json!(NOW - 61)),
                ("iat", json!(NOW - 100)),
            ])),
            OidcError::Expired,
        ),
        (
            "not yet valid",
            rs256(&with(&[("nbf", json!(NOW + 61))])),
            OidcError::NotYetValid,
        ),
        (
            "issued in the future",
            rs256(&with(&[("iat", json!(NOW + 61))])),
            OidcError::IssuedInFuture,
        ),
        (
            "wrong issuer",
            rs256(&with(&[("iss", json!("https://gitlab.example"))])),
            OidcError::UnknownIssuer,
        ),
        (
            "issuer differing in case",
            rs256(&with(&[("iss", json!(ISSUER.to_uppercase()))])),
            OidcError::UnknownIssuer,
        ),
        (
            "wrong audience",
            rs256(&with(&[("aud", json!("other"))])),
            OidcError::Signature,
        ),
        (
            "no audience",
            rs256(&with(&[("aud", Value::Null)])),
            OidcError::Signature,
        ),
        (
            "too long a lifetime",
            rs256(&with(&[("exp", json!(NOW + 3600))])),
            OidcError::TooLong,
        ),
        (
            "no exp",
            rs256(&with(&[("exp", Value::Null)])),
            OidcError::MissingTime { name: "exp" },
        ),
        (
            "no nbf",
            rs256(&with(&[("nbf", Value::Null)])),
            OidcError::MissingTime { name: "nbf" },
        ),
        (
            "no iat",
            rs256(&with(&[("iat", Value::Null)])),
            OidcError::MissingTime { name: "iat" },
        ),
        (
            "exp as text",
            rs256(&with(&[("exp", json!("1800000600"))])),
            OidcError::MissingTime { name: "exp" },
        ),
        (
            "unknown kid",
            mint(Algorithm::RS256, Some("rsa-2"), "rsa-2.pem", &claims()),
            OidcError::UnknownKid,
        ),
        (
            "no kid",
            mint(Algorithm::RS256, None, "rsa-1.pem", &claims()),
            OidcError::MissingKid,
        ),
        (
            "signed by another key under a known kid",
            mint(Algorithm::RS256, Some("rsa-1"), "rsa-2.pem", &claims()),
            OidcError::Signature,
        ),
        (
            "RS256 naming the EC key",
            mint(Algorithm::RS256, Some("ec-1"), "rsa-1.pem", &claims()),
            OidcError::KeyMismatch,
        ),
        (
            "ES256 naming the RSA key",
            mint(Algorithm::ES256, Some("rsa-1"), "ec-1.pem", &claims()),
            OidcError::KeyMismatch,
        ),
        (
            "PS256",
            mint(Algorithm::PS256, Some("rsa-1"), "rsa-1.pem", &claims()),
            OidcError::Algorithm,
        ),
        (
            "HMAC with the public key",
            hmac_with_public_key(),
            OidcError::Algorithm,
        ),
        ("alg none", alg_none(), OidcError::Malformed),
        ("tampered payload", tampered(), OidcError::Signature),
        ("not a JWT", "vcsg_abc".to_owned(), OidcError::Shape),
    ];
    for (what, jwt, expected) in rows {
        assert_eq!(verify(&jwt, &issuers, NOW), Err(expected), "{what}");
    }
}

/// HS256 signed with the issuer's public key as the secret: the classic key-confusion
/// attack.
fn hmac_with_public_key() -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("rsa-1".to_owned());
    let key = EncodingKey::from_secret(fixture("jwks-1.json").as_bytes());
    jsonwebtoken::encode(&header, &claims(), &key).unwrap()
}

fn b64(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

fn alg_none() -> String {
    let header = json!({"alg": "none", "kid": "rsa-1", "typ": "JWT"});
    format!("{}.{}.c2ln", b64(&header), b64(&claims()))
}

fn tampered() -> String {
    let jwt = rs256(&claims());
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    parts[1] = b64(&with(&[("repository", json!("team/admin"))]));
    parts.join(".")
}

#[test]
fn key_sets() {
    let rotated = KeySet::parse(&fixture("jwks-2.json")).unwrap();
    assert_eq!(rotated.len(), 3);
    assert!(rotated.contains("rsa-2"));
    let mut issuers = issuers();
    issuers[0].1 = rotated;
    let jwt = mint(Algorithm::RS256, Some("rsa-2"), "rsa-2.pem", &claims());
    assert!(
        verify(&jwt, &issuers, NOW).is_ok(),
        "a rotated-in key verifies"
    );
    assert!(KeySet::parse("{}").is_err());
    assert!(KeySet::parse(r#"{"keys": []}"#).is_err());
    assert!(KeySet::parse("not json").is_err());
    let no_kid = r#"{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}"#;
    assert_eq!(KeySet::parse(no_kid).err(), Some(JwksError::Empty));
}
