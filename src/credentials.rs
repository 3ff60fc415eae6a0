//! Credentials from the `Authorization` header. One code path reads all three forms and
//! yields the presented token:
//! - `Basic base64(user:token)` — the username is ignored;
//! - `Basic base64(token:)` or `Basic base64(token:x-oauth-basic)` — the username is the token;
//! - `Bearer token`.
//!
//! A token may also arrive as `?auth_token=` on the paths that accept it (ACCESS.md "URL
//! tokens"); [`crate::canon::CanonicalRequest::take_auth_token`] takes it out of the query
//! and [`crate::access`] decides whether the path accepts it. [`CredentialForm`] names the
//! form in the access log.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::secret::Secret;

/// The Basic password that means "the username is the token" (GitHub's convention).
pub const OAUTH_BASIC_PASSWORD: &str = "x-oauth-basic";
/// Longest `Authorization` value accepted (tokens are short; this bounds decoding work).
pub const MAX_AUTHORIZATION_LEN: usize = 4096;

/// Why an `Authorization` header is not usable. All become 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("more than one Authorization header")]
    Duplicate,
    #[error("Authorization header is too long")]
    TooLong,
    #[error("unsupported authorization scheme (use Basic or Bearer)")]
    Scheme,
    #[error("malformed Basic credentials")]
    MalformedBasic,
    #[error("empty token")]
    Empty,
}

/// How a request presented its credential (the access log's `credential=` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialForm {
    Basic,
    Bearer,
    /// `?auth_token=` in the query.
    Url,
    /// No credentials at all: decided as the reserved user `anonymous`.
    Anonymous,
}

impl CredentialForm {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialForm::Basic => "basic",
            CredentialForm::Bearer => "bearer",
            CredentialForm::Url => "url",
            CredentialForm::Anonymous => "anonymous",
        }
    }
}

/// Returns the presented token, `Ok(None)` when no credentials were sent.
pub fn presented_token(headers: &HeaderMap) -> Result<Option<Secret>, CredentialError> {
    Ok(presented(headers)?.map(|(token, _)| token))
}

/// Returns the presented token and its form (Basic or Bearer), `Ok(None)` when no
/// `Authorization` header was sent.
pub fn presented(headers: &HeaderMap) -> Result<Option<(Secret, CredentialForm)>, CredentialError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(CredentialError::Duplicate);
    }
    let bytes = value.as_bytes();
    if bytes.len() > MAX_AUTHORIZATION_LEN {
        return Err(CredentialError::TooLong);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| CredentialError::Scheme)?;
    let (scheme, rest) = text.split_once(' ').ok_or(CredentialError::Scheme)?;
    let rest = rest.trim_matches(' ');
    let (token, form) = if scheme.eq_ignore_ascii_case("basic") {
        (from_basic(rest)?, CredentialForm::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        (rest.to_owned(), CredentialForm::Bearer)
    } else {
        return Err(CredentialError::Scheme);
    };
    if token.is_empty() {
        return Err(CredentialError::Empty);
    }
    Ok(Some((Secret::new(token), form)))
}

fn from_basic(encoded: &str) -> Result<String, CredentialError> {
    let decoded = STANDARD
        .decode(encoded)
        .map_err(|_| CredentialError::MalformedBasic)?;
    let text = String::from_utf8(decoded).map_err(|_| CredentialError::MalformedBasic)?;
    let (user, password) = text
        .split_once(':')
        .ok_or(CredentialError::MalformedBasic)?;
    if password.is_empty() || password == OAUTH_BASIC_PASSWORD {
        Ok(user.to_owned())
    } else {
        Ok(password.to_owned())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use http::HeaderValue;

    use super::*;

    fn with(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    fn basic(userpass: &str) -> String {
        format!("Basic {}", STANDARD.encode(userpass))
    }

    #[test]
    fn all_three_forms_yield_the_same_token() {
        let forms = [
            basic("anyone:tok"),
            basic("tok:"),
            basic("tok:x-oauth-basic"),
            "Bearer tok".to_owned(),
            "bearer tok".to_owned(),
            format!("BASIC {}", STANDARD.encode("x:tok")),
        ];
        for form in forms {
            let token = presented_token(&with(&[&form])).unwrap().unwrap();
            assert_eq!(token.expose(), "tok", "{form}");
            let (_, kind) = presented(&with(&[&form])).unwrap().unwrap();
            let expected = if form.to_ascii_lowercase().starts_with("bearer") {
                CredentialForm::Bearer
            } else {
                CredentialForm::Basic
            };
            assert_eq!(kind, expected, "{form}");
        }
    }

    #[test]
    fn missing_and_bad_credentials() {
        assert!(presented_token(&HeaderMap::new()).unwrap().is_none());
        let bad: &[(&str, CredentialError)] = &[
            ("Digest abc", CredentialError::Scheme),
            ("Basic", CredentialError::Scheme),
            ("Basic !!!", CredentialError::MalformedBasic),
            ("Bearer ", CredentialError::Empty),
        ];
        for (value, expected) in bad {
            assert_eq!(
                presented_token(&with(&[value])).err(),
                Some(*expected),
                "{value}"
            );
        }
        let nocolon = format!("Basic {}", STANDARD.encode("tok"));
        assert_eq!(
            presented_token(&with(&[&nocolon])).err(),
            Some(CredentialError::MalformedBasic)
        );
        assert_eq!(
            presented_token(&with(&[":", ":"].map(|_| "Bearer a"))).err(),
            Some(CredentialError::Duplicate)
        );
        assert_eq!(
            presented_token(&with(&[&basic(":")])).err(),
            Some(CredentialError::Empty)
        );
    }
}
