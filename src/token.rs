//! The token format: `vcsg_` + 32 base62 characters of randomness (≈190 bits) + 6 base62
//! characters of CRC-32 over everything before it. The prefix makes leaked tokens easy for
//! secret scanners to spot; the checksum refuses a mistyped or truncated token without a
//! store lookup. Only the SHA-256 of the whole token is stored.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::Secret;

pub const PREFIX: &str = "vcsg_";
const RANDOM_LEN: usize = 32;
const CHECK_LEN: usize = 6;
/// Total length of a token.
pub const TOKEN_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECK_LEN;
/// How many characters of a token `token list` shows (prefix + 8 random characters).
pub const PUBLIC_LEN: usize = PREFIX.len() + 8;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// SHA-256 of a token: the only form a store keeps and the key lookups use.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }

    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(hex: &str) -> Option<Self> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(TokenHash(out))
    }

    /// Constant-time comparison.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

/// Why a presented credential is not a well-formed token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("not a vcsgate token (wrong prefix)")]
    Prefix,
    #[error("token has the wrong length")]
    Length,
    #[error("token contains characters outside base62")]
    Alphabet,
    #[error("token checksum does not match (mistyped or truncated)")]
    Checksum,
}

/// A freshly generated token: the secret (shown once) and what the store keeps.
#[derive(Debug)]
pub struct Generated {
    pub secret: Secret,
    pub hash: TokenHash,
    pub public_prefix: String,
}

/// Appends `len` uniformly random base62 characters from the operating system's randomness.
fn push_random(out: &mut String, len: usize) -> Result<(), getrandom::Error> {
    let mut filled = 0;
    while filled < len {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes)?;
        // Rejection sampling keeps base62 uniform: 248 = 4 × 62.
        for b in bytes {
            if filled < len && b < 248 {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
                filled += 1;
            }
        }
    }
    Ok(())
}

/// `len` random base62 characters (session ids, sign-in links, CSRF tokens).
pub fn random_text(len: usize) -> Result<String, getrandom::Error> {
    let mut out = String::with_capacity(len);
    push_random(&mut out, len)?;
    Ok(out)
}

/// Generates a new token from the operating system's randomness.
pub fn generate() -> Result<Generated, getrandom::Error> {
    let mut body = String::with_capacity(TOKEN_LEN);
    body.push_str(PREFIX);
    push_random(&mut body, RANDOM_LEN)?;
    let check = checksum(&body);
    body.extend(check.iter().map(|&b| char::from(b)));
    let hash = TokenHash::of(&body);
    let public_prefix = body[..PUBLIC_LEN].to_owned();
    Ok(Generated {
        secret: Secret::new(body),
        hash,
        public_prefix,
    })
}

/// Checks the format and checksum of a presented token and returns its hash.
pub fn parse(token: &str) -> Result<TokenHash, FormatError> {
    if !token.starts_with(PREFIX) {
        return Err(FormatError::Prefix);
    }
    if token.len() != TOKEN_LEN {
        return Err(FormatError::Length);
    }
    if !token[PREFIX.len()..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric())
    {
        return Err(FormatError::Alphabet);
    }
    let (body, check) = token.split_at(TOKEN_LEN - CHECK_LEN);
    if !bool::from(checksum(body).as_slice().ct_eq(check.as_bytes())) {
        return Err(FormatError::Checksum);
    }
    Ok(TokenHash::of(token))
}

/// The public prefix of a well-formed token (what `token list` shows).
pub fn public_prefix(token: &str) -> &str {
    token.get(..PUBLIC_LEN).unwrap_or(token)
}

/// The check characters of `body` (ASCII letters and digits).
fn checksum(body: &str) -> [u8; CHECK_LEN] {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_and_hash_consistently() {
        let token = generate().unwrap();
        let text = token.secret.expose();
        assert_eq!(text.len(), TOKEN_LEN);
        assert!(text.starts_with(PREFIX));
        assert_eq!(parse(text).unwrap(), token.hash);
        assert_eq!(public_prefix(text), token.public_prefix);
        assert_ne!(generate().unwrap().hash, token.hash);
    }

    #[test]
    fn mistyped_truncated_and_foreign_tokens_are_refused() {
        let token = generate().unwrap();
        let text = token.secret.expose();
        assert_eq!(parse(&text[..TOKEN_LEN - 1]), Err(FormatError::Length));
        let mut chars: Vec<char> = text.chars().collect();
        chars[10] = if chars[10] == 'a' { 'b' } else { 'a' };
        let typo: String = chars.into_iter().collect();
        assert_eq!(parse(&typo), Err(FormatError::Checksum));
        assert_eq!(parse("ghp_abc"), Err(FormatError::Prefix));
        let bad = format!("{PREFIX}{}", "!".repeat(RANDOM_LEN + CHECK_LEN));
        assert_eq!(parse(&bad), Err(FormatError::Alphabet));
    }

    #[test]
    fn hash_hex_round_trips() {
        let hash = TokenHash::of("x");
        assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(TokenHash::from_hex("zz"), None);
    }
}
