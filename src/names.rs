//! Validated names of users and tokens: `[A-Za-z0-9._-]{1,64}`. They end up in headers,
//! backend credentials, svn authors and logs, so nothing else gets in.

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
}
