//! Ref patterns: a full ref name (`refs/heads/main`) or one with wildcards, matched segment
//! by segment like repo patterns: `*` inside one segment, `**` as a whole segment for zero or
//! more segments (`refs/heads/**` covers every branch, `refs/tags/v*` every `v` tag).

use std::fmt;

use crate::repo::match_segments;

/// A ref pattern on a grant, a token or a protection.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RefPattern(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefPatternError {
    #[error("ref pattern {given:?} must start with refs/ (e.g. refs/heads/main)")]
    NotUnderRefs { given: String },
    #[error("ref pattern {given:?} has an empty, '.' or '..' segment")]
    BadSegment { given: String },
    #[error("ref pattern {given:?} contains a character git does not allow in ref names")]
    BadCharacter { given: String },
    #[error("ref pattern {given:?} uses '**' inside a segment; '**' must be a whole segment")]
    BadDoubleStar { given: String },
    #[error("ref pattern {given:?} is longer than {MAX_LEN} bytes")]
    TooLong { given: String },
}

/// Longest pattern accepted (git's own ref names are far shorter in practice).
pub const MAX_LEN: usize = 1024;

/// Separates the patterns of one grant or token in their store column.
pub const COLUMN_SEPARATOR: char = '\n';

impl RefPattern {
    pub fn parse(given: &str) -> Result<Self, RefPatternError> {
        let owned = || given.to_owned();
        if given.len() > MAX_LEN {
            return Err(RefPatternError::TooLong { given: owned() });
        }
        let Some(rest) = given.strip_prefix("refs/") else {
            return Err(RefPatternError::NotUnderRefs { given: owned() });
        };
        for segment in rest.split('/') {
            if matches!(segment, "" | "." | "..") {
                return Err(RefPatternError::BadSegment { given: owned() });
            }
            if segment.bytes().any(|b| !ref_byte(b) && b != b'*') {
                return Err(RefPatternError::BadCharacter { given: owned() });
            }
            if segment.contains("**") && segment != "**" {
                return Err(RefPatternError::BadDoubleStar { given: owned() });
            }
        }
        Ok(RefPattern(given.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern covers the whole ref name.
    pub fn matches(&self, name: &str) -> bool {
        match_segments(self.0.split('/'), name.split('/'))
    }

    /// The store column for a list of patterns (`''` for none).
    pub fn column(patterns: &[RefPattern]) -> String {
        let parts: Vec<&str> = patterns.iter().map(RefPattern::as_str).collect();
        parts.join(&COLUMN_SEPARATOR.to_string())
    }

    /// Parses a store column written by [`RefPattern::column`].
    pub fn parse_column(column: &str) -> Result<Vec<RefPattern>, RefPatternError> {
        if column.is_empty() {
            return Ok(Vec::new());
        }
        column
            .split(COLUMN_SEPARATOR)
            .map(RefPattern::parse)
            .collect()
    }
}

/// A byte git allows in a ref name component (`git check-ref-format`): printable ASCII
/// except space and `~ ^ : ? * [ \`, plus UTF-8 above ASCII.
pub fn ref_byte(b: u8) -> bool {
    !matches!(
        b,
        0..=b' ' | 0x7f | b'~' | b'^' | b':' | b'?' | b'*' | b'[' | b'\\'
    )
}

impl fmt::Display for RefPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for RefPattern {
    type Err = RefPatternError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RefPattern::parse(s)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn patterns_match_whole_refs_segment_by_segment() {
        let rows = [
            ("refs/heads/main", "refs/heads/main", true),
            ("refs/heads/main", "refs/heads/main2", false),
            ("refs/heads/feature/*", "refs/heads/feature/x", true),
            ("refs/heads/feature/*", "refs/heads/feature/x/y", false),
            ("refs/heads/feature/*", "refs/heads/feature", false),
            ("refs/heads/**", "refs/heads/a/b/c", true),
            ("refs/heads/**", "refs/tags/v1", false),
            ("refs/tags/v*", "refs/tags/v1.0", true),
            ("refs/tags/v*", "refs/tags/1.0", false),
            ("refs/**", "refs/notes/commits", true),
        ];
        for (pattern, name, expected) in rows {
            let parsed = RefPattern::parse(pattern).unwrap();
            assert_eq!(parsed.matches(name), expected, "{pattern} vs {name}");
        }
    }

    #[test]
    fn bad_patterns_are_refused_with_a_reason() {
        for bad in [
            "heads/main",
            "refs/",
            "refs//x",
            "refs/heads/../x",
            "refs/heads/a b",
            "refs/heads/a:b",
            "refs/heads/x**",
            "refs/heads/a\\b",
            "refs/heads/\u{7f}",
            "/refs/heads/x",
        ] {
            assert!(RefPattern::parse(bad).is_err(), "{bad:?}");
        }
        assert!(RefPattern::parse(&format!("refs/{}", "a".repeat(MAX_LEN))).is_err());
    }

    #[test]
    fn columns_round_trip() {
        let patterns = vec![
            RefPattern::parse("refs/heads/main").unwrap(),
            RefPattern::parse("refs/tags/**").unwrap(),
        ];
        let column = RefPattern::column(&patterns);
        assert_eq!(RefPattern::parse_column(&column).unwrap(), patterns);
        assert!(RefPattern::parse_column("").unwrap().is_empty());
    }
}
