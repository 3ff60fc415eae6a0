//! Verifying a CI job's JWT against the configured issuers (ACCESS.md "OIDC identities for
//! CI"), as a pure function of the JWT, the issuers with their keys, and `now`:
//!
//! - the issuer is chosen by the exact `iss` (read before the signature is checked, only to
//!   pick the keys; it is checked again with the signature);
//! - `alg` must be RS256 or ES256 (`none`, HMAC and everything else are refused), `kid` must
//!   name a key of that issuer, and the key must fit the algorithm (RSA for RS256, P-256 for
//!   ES256; a key's own `alg`, if given, must be the same);
//! - `aud` must contain the configured audience;
//! - `exp`, `nbf` and `iat` are required integers: `exp` and `nbf` are checked with 60 s of
//!   leeway, `iat` may not lie in the future beyond it, and `exp - iat` may not exceed
//!   `max_ttl_secs`.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::rules::{AllowRule, allowed};
use super::shape::looks_like_jwt;
use crate::names::UserName;
use crate::repo::RepoPattern;
use crate::vocabulary::Access;

/// Leeway for `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: i64 = 60;

/// Why a JWT was refused. Every variant means invalid credentials (401, one message for
/// all); the variant is for the server's own log and for tests.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("not a JWT")]
    Shape,
    #[error("malformed JWT header or payload")]
    Malformed,
    #[error("algorithm not accepted (RS256 and ES256 only)")]
    Algorithm,
    #[error("no kid in the JWT header")]
    MissingKid,
    #[error("the issuer is not configured")]
    UnknownIssuer,
    #[error("the kid names no key of the issuer")]
    UnknownKid,
    #[error("the key does not fit the algorithm")]
    KeyMismatch,
    #[error("bad signature, issuer or audience")]
    Signature,
    #[error("claim {name} missing or not an integer")]
    MissingTime { name: &'static str },
    #[error("expired")]
    Expired,
    #[error("not yet valid")]
    NotYetValid,
    #[error("issued in the future")]
    IssuedInFuture,
    #[error("lifetime exceeds max_ttl_secs")]
    TooLong,
}

/// An issuer's keys, by `kid`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: HashMap<String, Jwk>,
}

/// Why a JWKS document is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwksError {
    #[error("not a JWKS document: {reason}")]
    Parse { reason: String },
    #[error("no key with a kid")]
    Empty,
}

impl KeySet {
    /// Parses a JWKS document; keys without `kid` are ignored (a JWT must name its key).
    pub fn parse(json: &str) -> Result<Self, JwksError> {
        let set: JwkSet = serde_json::from_str(json).map_err(|e| JwksError::Parse {
            reason: e.to_string(),
        })?;
        let mut keys = HashMap::new();
        for key in set.keys {
            if let Some(kid) = key.common.key_id.clone() {
                keys.entry(kid).or_insert(key);
            }
        }
        if keys.is_empty() {
            return Err(JwksError::Empty);
        }
        Ok(KeySet { keys })
    }

    pub fn contains(&self, kid: &str) -> bool {
        self.keys.contains_key(kid)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A configured issuer as verification needs it.
#[derive(Debug, Clone)]
pub struct Issuer {
    /// The exact `iss`.
    pub issuer: String,
    pub audience: String,
    /// The vcsgate user the JWT acts as.
    pub user: UserName,
    pub max_ttl_secs: i64,
    pub allow: Vec<AllowRule>,
}

/// A verified JWT: who it acts as and what its claims allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub user: UserName,
    pub allowed: Vec<(RepoPattern, Access)>,
    pub exp: i64,
    pub jti: Option<String>,
    pub sub: Option<String>,
}

/// The `kid` and the (unverified) `iss` of a JWT: which keys to check it against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    pub algorithm: Algorithm,
    pub kid: String,
    pub issuer: String,
}

/// Reads what selects the key, refusing unaccepted algorithms and a missing `kid`.
pub fn inspect(jwt: &str) -> Result<Unverified, OidcError> {
    if !looks_like_jwt(jwt) {
        return Err(OidcError::Shape);
    }
    let header = jsonwebtoken::decode_header(jwt).map_err(|_| OidcError::Malformed)?;
    let algorithm = match header.alg {
        Algorithm::RS256 => Algorithm::RS256,
        Algorithm::ES256 => Algorithm::ES256,
        _ => return Err(OidcError::Algorithm),
    };
    let kid = header
        .kid
        .filter(|kid| !kid.is_empty())
        .ok_or(OidcError::MissingKid)?;
    let payload = jwt.split('.').nth(1).ok_or(OidcError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| OidcError::Malformed)?;
    let claims: Map<String, Value> =
        serde_json::from_slice(&bytes).map_err(|_| OidcError::Malformed)?;
    let issuer = claims
        .get("iss")
        .and_then(Value::as_str)
        .ok_or(OidcError::UnknownIssuer)?
        .to_owned();
    Ok(Unverified {
        algorithm,
        kid,
        issuer,
    })
}

/// Verifies `jwt` against `issuers` (each with its keys) at `now`.
pub fn verify(jwt: &str, issuers: &[(Issuer, KeySet)], now: i64) -> Result<Verified, OidcError> {
    let seen = inspect(jwt)?;
    let (issuer, keys) = issuers
        .iter()
        .find(|(issuer, _)| issuer.issuer == seen.issuer)
        .ok_or(OidcError::UnknownIssuer)?;
    verify_with(jwt, &seen, issuer, keys, now)
}

/// Verifies `jwt` (already [`inspect`]ed as `seen`) against one issuer and its keys.
pub fn verify_with(
    jwt: &str,
    seen: &Unverified,
    issuer: &Issuer,
    keys: &KeySet,
    now: i64,
) -> Result<Verified, OidcError> {
    if seen.issuer != issuer.issuer {
        return Err(OidcError::UnknownIssuer);
    }
    let jwk = keys.keys.get(&seen.kid).ok_or(OidcError::UnknownKid)?;
    if !fits(jwk, seen.algorithm) {
        return Err(OidcError::KeyMismatch);
    }
    let key = DecodingKey::from_jwk(jwk).map_err(|_| OidcError::KeyMismatch)?;
    let mut validation = Validation::new(seen.algorithm);
    validation.set_issuer(&[issuer.issuer.as_str()]);
    validation.set_audience(&[issuer.audience.as_str()]);
    // Times are checked below against `now`, not the clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["iss", "aud"]);
    let data = jsonwebtoken::decode::<Map<String, Value>>(jwt, &key, &validation)
        .map_err(|_| OidcError::Signature)?;
    let claims = data.claims;
    let time = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_i64)
            .ok_or(OidcError::MissingTime { name })
    };
    let (exp, nbf, iat) = (time("exp")?, time("nbf")?, time("iat")?);
    if now >= exp.saturating_add(LEEWAY_SECS) {
        return Err(OidcError::Expired);
    }
    if nbf > now.saturating_add(LEEWAY_SECS) {
        return Err(OidcError::NotYetValid);
    }
    if iat > now.saturating_add(LEEWAY_SECS) {
        return Err(OidcError::IssuedInFuture);
    }
    if exp.saturating_sub(iat) > issuer.max_ttl_secs {
        return Err(OidcError::TooLong);
    }
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    Ok(Verified {
        user: issuer.user.clone(),
        allowed: allowed(&issuer.allow, &claims),
        exp,
        jti: text("jti"),
        sub: text("sub"),
    })
}

/// Whether the key is of the algorithm's family (and names no other algorithm itself).
fn fits(jwk: &Jwk, algorithm: Algorithm) -> bool {
    let own = match (jwk.common.key_algorithm, algorithm) {
        (None, _) => true,
        (Some(KeyAlgorithm::RS256), Algorithm::RS256) => true,
        (Some(KeyAlgorithm::ES256), Algorithm::ES256) => true,
        (Some(_), _) => false,
    };
    let family = match (&jwk.algorithm, algorithm) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => {
            ec.curve == EllipticCurve::P256
        }
        _ => false,
    };
    own && family
}
