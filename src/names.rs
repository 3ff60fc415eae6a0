//! Validated names of users and tokens: `[A-Za-z0-9._-]{1,64}`. They end up in headers,
//! backend credentials, svn authors and logs, so nothing else gets in. Also a user's email
//! address, checked minimally (where notices go, never a login).

use std::fmt;

/// Why a name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} name {given:?}: use 1 to 64 of A-Z a-z 0-9 . _ -")]
pub struct InvalidName {
    pub what: &'static str,
    pub given: String,
}

fn valid(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $ty(String);

        impl $ty {
            pub fn parse(name: &str) -> Result<Self, InvalidName> {
                if valid(name) {
                    Ok($ty(name.to_owned()))
                } else {
                    Err(InvalidName { what: $what, given: name.to_owned() })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $ty {
            type Err = InvalidName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }
    };
}

name_type!(
    /// The name of a user (a person or a bot).
    UserName,
    "user"
);
name_type!(
    /// The name of a token, unique among one user's active tokens.
    TokenName,
    "token"
);

/// The reserved user whose grants decide requests without credentials (ACCESS.md
/// "Anonymous read"): present in every store, never holds tokens or `write` grants.
pub const ANONYMOUS: &str = "anonymous";

impl UserName {
    /// The reserved user [`ANONYMOUS`].
    pub fn anonymous() -> Self {
        UserName(ANONYMOUS.to_owned())
    }

    pub fn is_anonymous(&self) -> bool {
        self.0 == ANONYMOUS
    }
}

impl TokenName {
    /// The name an OIDC identity goes by where a token name is shown (it has no token).
    pub fn oidc() -> Self {
        TokenName("oidc".to_owned())
    }
}

/// The longest address SMTP carries (RFC 5321's path limit less its angle brackets).
pub const MAX_EMAIL_LEN: usize = 254;

/// Why an email address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid email address {given:?}: one @ between non-empty parts, no spaces or control characters, at most 254 characters"
)]
pub struct InvalidEmail {
    pub given: String,
}

/// A user's email address: exactly one `@` with something on both sides, no whitespace or
/// control characters, at most [`MAX_EMAIL_LEN`] bytes. Deliverability is the mail server's
/// business.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(given: &str) -> Result<Self, InvalidEmail> {
        let ok = given.len() <= MAX_EMAIL_LEN
            && !given.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(given.split_once('@'),
                Some((local, domain)) if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
        if ok {
            Ok(Email(given.to_owned()))
        } else {
            Err(InvalidEmail {
                given: given.to_owned(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Email {
    type Err = InvalidEmail;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_accept_the_allowed_alphabet_only() {
        assert!(UserName::parse("alice.b_c-9").is_ok());
        assert!(UserName::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "a b", "ä", "a/b", "a:b", "a\n", "a@b"] {
            assert!(UserName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TokenName::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn emails_need_one_at_and_no_spaces() {
        assert!(Email::parse("alice@example.com").is_ok());
        assert!(Email::parse("a+tag@x").is_ok());
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_LEN - 12));
        assert_eq!(long.len(), MAX_EMAIL_LEN);
        assert!(Email::parse(&long).is_ok());
        let too_long = format!("a{long}");
        for bad in [
            "",
            "alice",
            "@x",
            "a@",
            "a@b@c",
            "a b@x",
            "a@x\n",
            "a\t@x",
            "a@x\u{7f}",
            &too_long,
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }
}
