//! OIDC identities for CI (ACCESS.md "OIDC identities for CI"): a job's signed JWT, given
//! where a token goes, acts as the configured vcsgate user with the access its claims allow.
//!
//! - [`shape`] tells a JWT from a vcsgate token by its shape alone;
//! - [`verify`] checks a JWT against the configured issuers and their keys at `now` (pure);
//! - [`fetch`] gets an issuer's JWKS from its `jwks_url`;
//! - [`rules`] turns the verified claims into repositories and access (`[[oidc.allow]]`).
//!
//! Only RS256 and ES256 are accepted; verification uses `jsonwebtoken` with its RustCrypto
//! backend (no aws-lc).

pub mod fetch;
pub mod keys;
pub mod rules;
pub mod shape;
pub mod verify;

#[cfg(test)]
mod tests;

pub use keys::{IssuerKeys, verify_current};
pub use rules::{AllowRule, ClaimGlob, RepoTemplate};
pub use shape::looks_like_jwt;
pub use verify::{Issuer, JwksError, KeySet, OidcError, Verified, verify};
