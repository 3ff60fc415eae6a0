//! API errors: `{"error": CODE, "message": TEXT}` with the status API.md fixes. Messages
//! name what is wrong and never quote a secret.

use http::StatusCode;

use crate::manage;
use crate::store;

/// One refusal of an API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400: malformed JSON, an unknown field or query parameter.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 403: authenticated, not allowed; the message says what is missing.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404: unknown, or not visible to the caller (the two are answered alike).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 422: valid JSON that breaks a rule (a name, a pattern, an expiry).
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// The machine-readable code for the status.
    pub fn code(&self) -> &'static str {
        code(self.status)
    }

    /// A refusal by the management rules. `hide_forbidden`: the operation concerns an object
    /// the caller may not see (a token, a user's tokens), so "not allowed" reads as "not
    /// found" and reveals nothing about it.
    pub fn from_manage(error: manage::Error, hide_forbidden: bool) -> Self {
        match error {
            manage::Error::Forbidden { .. } if hide_forbidden => {
                Self::not_found("no such token or user (or not yours to manage)")
            }
            manage::Error::Forbidden {
                action, missing, ..
            } => Self::forbidden(format!("to {action} you need {missing}")),
            manage::Error::NoSuchToken { .. } => Self::not_found(error.to_string()),
            manage::Error::Policy(refused) => Self::unprocessable(refused.to_string()),
            manage::Error::CannotSignIn { .. } => Self::unprocessable(error.to_string()),
            manage::Error::Randomness(_) => {
                tracing::error!(%error, "API request failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)")
            }
            manage::Error::Store(error) => Self::from_store(error),
        }
    }

    fn from_store(error: store::Error) -> Self {
        use store::Error as E;
        let message = error.to_string();
        match error {
            E::UserExists { .. } | E::TokenNameTaken { .. } => {
                Self::new(StatusCode::CONFLICT, message)
            }
            E::UnknownUser { .. } | E::UnknownGrant { .. } | E::UnknownToken { .. } => {
                Self::not_found(message)
            }
            E::NotABot { .. }
            | E::ManagerIsBot { .. }
            | E::BotNeedsManager { .. }
            | E::UnknownManager { .. } => Self::unprocessable(message),
            E::Unavailable { .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the token store is unavailable; try again shortly",
            ),
            E::UnsupportedScheme { .. }
            | E::InvalidUrl { .. }
            | E::Query { .. }
            | E::Migrate { .. }
            | E::Corrupt { .. } => {
                tracing::error!(%error, "API request failed in the store");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error (logged)")
            }
        }
    }

    /// The JSON body.
    pub fn body(&self) -> String {
        body(self.status, &self.message)
    }
}

/// The error code API clients match on, one per status.
pub fn code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ => "internal",
    }
}

/// `{"error": CODE, "message": TEXT}` for a status and message.
pub fn body(status: StatusCode, message: &str) -> String {
    serde_json::json!({ "error": code(status), "message": message }).to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::names::{TokenName, UserName};

    fn user(n: &str) -> UserName {
        UserName::parse(n).unwrap()
    }

    #[test]
    fn store_refusals_get_the_statuses_of_the_contract() {
        let taken = store::Error::TokenNameTaken {
            user: user("alice"),
            name: TokenName::parse("ci").unwrap(),
        };
        let cases = [
            (store::Error::UserExists { name: user("a") }, 409),
            (taken, 409),
            (store::Error::UnknownUser { name: user("a") }, 404),
            (store::Error::BotNeedsManager { name: user("a") }, 422),
            (store::Error::ManagerIsBot { name: user("a") }, 422),
        ];
        for (error, status) in cases {
            let api = ApiError::from_manage(error.into(), false);
            assert_eq!(api.status.as_u16(), status, "{api:?}");
        }
    }

    #[test]
    fn forbidden_reads_as_not_found_where_the_object_is_hidden() {
        let forbidden = || manage::Error::Forbidden {
            actor: "bob".to_owned(),
            action: "list tokens of this user",
            missing: "being the owner",
        };
        assert_eq!(ApiError::from_manage(forbidden(), true).status, 404);
        let shown = ApiError::from_manage(forbidden(), false);
        assert_eq!(shown.status, 403);
        assert!(
            shown.message.contains("being the owner"),
            "{}",
            shown.message
        );
        let policy = manage::PolicyError::TooLong { max_days: 30 };
        assert_eq!(ApiError::from_manage(policy.into(), true).status, 422);
    }

    #[test]
    fn the_body_is_the_error_object() {
        let error = ApiError::unprocessable("bad \"name\"");
        let parsed: serde_json::Value = serde_json::from_str(&error.body()).unwrap();
        assert_eq!(parsed["error"], "unprocessable");
        assert_eq!(parsed["message"], "bad \"name\"");
        assert_eq!(parsed.as_object().unwrap().len(), 2);
    }
}
