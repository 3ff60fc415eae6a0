//! `[[oidc.allow]]` rules: which claims a JWT must carry (globs), and which repositories and
//! access it then gets (repo patterns with `{claim}` substituted). Pure.
//!
//! A claim glob matches a whole string claim: `*` matches any characters except `/`, `**`
//! any characters including `/` (as in repo patterns and ref rules). A substituted claim value
//! must be a safe relative path — segments of `A-Z a-z 0-9 . _ - ~` separated by single `/`,
//! no `.` or `..` segment, nothing encoded, no wildcard — or the rule does not match.

use serde_json::{Map, Value};

use crate::repo::RepoPattern;
use crate::vocabulary::Access;

/// A claim name: `A-Z a-z 0-9 _ - . :`, 1 to 64 characters.
pub fn valid_claim_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// A glob over a string claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimGlob(String);

impl ClaimGlob {
    pub fn new(glob: &str) -> Self {
        ClaimGlob(glob.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, value: &str) -> bool {
        glob(self.0.as_bytes(), value.as_bytes())
    }
}

fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => text.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=text.len()).any(|skip| glob(rest, &text[skip..])),
        [b'*', rest @ ..] => {
            let stop = text.iter().position(|b| *b == b'/').unwrap_or(text.len());
            (0..=stop).any(|skip| glob(rest, &text[skip..]))
        }
        [first, rest @ ..] => text.first() == Some(first) && glob(rest, &text[1..]),
    }
}

/// A repo pattern with `{claim}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoTemplate(String);

/// Why a repo template is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unbalanced braces")]
    Braces,
    #[error("{{{name}}} is not a claim name")]
    ClaimName { name: String },
    #[error("not a repo pattern once its claims are filled in: {reason}")]
    Pattern { reason: String },
}

impl RepoTemplate {
    /// Checks the braces, the claim names and, with every claim replaced by a plain
    /// segment, the repo-pattern syntax.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let filled = fill(text, |_| Some("x".to_owned()))?;
        RepoPattern::parse(&filled).map_err(|e| TemplateError::Pattern {
            reason: e.to_string(),
        })?;
        Ok(RepoTemplate(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The pattern with each `{claim}` replaced by its safe string value; `None` when a
    /// claim is missing, not a string, or not a safe path.
    pub fn substitute(&self, claims: &Map<String, Value>) -> Option<RepoPattern> {
        let filled = fill(&self.0, |name| {
            let value = claims.get(name)?.as_str()?;
            safe_path(value).then(|| value.to_owned())
        })
        .ok()?;
        RepoPattern::parse(&filled).ok()
    }
}

/// Replaces every `{name}` in `text` by `value(name)`.
fn fill(
    text: &str,
    mut value: impl FnMut(&str) -> Option<String>,
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(TemplateError::Braces);
        }
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or(TemplateError::Braces)?;
        let name = &after[..close];
        if !valid_claim_name(name) {
            return Err(TemplateError::ClaimName {
                name: name.to_owned(),
            });
        }
        let filled = value(name).ok_or(TemplateError::Pattern {
            reason: format!("claim {name} is missing or not a safe path"),
        })?;
        out.push_str(&filled);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A claim value that may stand in a repo path: plain segments, no dot segments, nothing
/// encoded, no wildcard, at most 256 bytes.
pub fn safe_path(value: &str) -> bool {
    value.len() <= 256
        && value.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~'))
        })
}

/// One `[[oidc.allow]]` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowRule {
    /// Every listed claim must be a string matching its glob.
    pub claims: Vec<(String, ClaimGlob)>,
    pub repos: Vec<RepoTemplate>,
    pub access: Access,
}

impl AllowRule {
    pub fn matches(&self, claims: &Map<String, Value>) -> bool {
        self.claims.iter().all(|(name, glob)| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .is_some_and(|value| glob.matches(value))
        })
    }
}

/// What a JWT's claims are allowed: the union of the matching rules' repositories, each
/// with its rule's access (a repository a rule names with a claim that is not a safe path is
/// left out).
pub fn allowed(rules: &[AllowRule], claims: &Map<String, Value>) -> Vec<(RepoPattern, Access)> {
    let mut out = Vec::new();
    for rule in rules.iter().filter(|rule| rule.matches(claims)) {
        for template in &rule.repos {
            if let Some(pattern) = template.substitute(claims) {
                out.push((pattern, rule.access));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn claims(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn globs() {
        let rows = [
            ("team/*", "team/app", true),
            ("team/*", "team/a/b", false),
            ("team/**", "team/a/b", true),
            ("refs/heads/*", "refs/heads/main", true),
            ("refs/heads/*", "refs/heads/feature/x", false),
            ("refs/heads/**", "refs/heads/feature/x", true),
            ("main", "main", true),
            ("main", "Main", false),
            ("*", "", true),
            ("a*c", "abc", true),
            ("a*c", "ab/c", false),
            ("", "x", false),
        ];
        for (pattern, value, expected) in rows {
            assert_eq!(
                ClaimGlob::new(pattern).matches(value),
                expected,
                "{pattern} {value}"
            );
        }
    }

    #[test]
    fn templates_substitute_only_safe_paths() {
        let t = RepoTemplate::parse("git/{repository}").unwrap();
        let ok = claims(r#"{"repository": "team/app"}"#);
        assert_eq!(t.substitute(&ok).unwrap().as_str(), "git/team/app");
        for bad in [
            r#"{"repository": "team/../admin"}"#,
            r#"{"repository": "team//app"}"#,
            r#"{"repository": "/team/app"}"#,
            r#"{"repository": "team/app/"}"#,
            r#"{"repository": "team/%2e%2e"}"#,
            r#"{"repository": "team/*"}"#,
            r#"{"repository": "team/**"}"#,
            r#"{"repository": "team\\app"}"#,
            r#"{"repository": "team/app.git"}"#,
            r#"{"repository": "."}"#,
            r#"{"repository": ""}"#,
            r#"{"repository": 5}"#,
            r#"{"other": "team/app"}"#,
        ] {
            assert!(t.substitute(&claims(bad)).is_none(), "{bad}");
        }
        for bad in [
            "git/{repository",
            "git/repository}",
            "git/{}",
            "git/{a b}",
            "/git/{x}",
        ] {
            assert!(RepoTemplate::parse(bad).is_err(), "{bad}");
        }
        assert!(RepoTemplate::parse("git/{repository_owner}/*").is_ok());
    }

    #[test]
    fn rules_union_their_repositories() {
        let rule = |claim: &str, glob: &str, repo: &str, access| AllowRule {
            claims: vec![(claim.to_owned(), ClaimGlob::new(glob))],
            repos: vec![RepoTemplate::parse(repo).unwrap()],
            access,
        };
        let rules = [
            rule("repository", "team/*", "git/{repository}", Access::Read),
            rule("ref", "refs/heads/main", "git/{repository}", Access::Write),
            rule("repository", "other/*", "git/other/**", Access::Write),
        ];
        let main = claims(r#"{"repository": "team/app", "ref": "refs/heads/main"}"#);
        let got = allowed(&rules, &main);
        let names: Vec<(&str, Access)> = got.iter().map(|(p, a)| (p.as_str(), *a)).collect();
        assert_eq!(
            names,
            [
                ("git/team/app", Access::Read),
                ("git/team/app", Access::Write)
            ]
        );
        let branch = claims(r#"{"repository": "team/app", "ref": "refs/heads/x"}"#);
        assert_eq!(allowed(&rules, &branch).len(), 1);
        let none = claims(r#"{"repository": 1, "ref": ["refs/heads/main"]}"#);
        assert!(allowed(&rules, &none).is_empty());
    }
}
