//! The ref decision for one push, pure: every command must be covered by the ref patterns of
//! the user's write grants for the repository (when they have any) and of the token (when it
//! has any), and may not delete a protected ref unless the protection allows it. Rewinds of
//! protected refs cannot be seen here (the new commits arrive in the pack): the decision
//! returns them as [`RewindCheck`]s, which the built-in backend enforces in a pre-receive
//! hook. One refused command refuses the whole push.

use std::fmt;

use super::commands::Command;
use super::pattern::RefPattern;
use crate::authorize::Who;
use crate::repo::RepoPattern;

/// A protected-ref rule (`vcsgate protect add REPO_PATTERN REF_PATTERN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protection {
    pub repo: RepoPattern,
    pub refs: RefPattern,
    pub allow_delete: bool,
    pub allow_force: bool,
}

impl fmt::Display for Protection {
    /// How messages name the rule: `protect git/** refs/heads/main`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "protect {} {}", self.repo, self.refs)?;
        if self.allow_delete {
            f.write_str(" --allow-delete")?;
        }
        if self.allow_force {
            f.write_str(" --allow-force")?;
        }
        Ok(())
    }
}

/// The ref rules that apply to one push to one repository.
#[derive(Debug, Clone)]
pub struct RefRules<'a> {
    pub who: Who,
    pub repo: &'a str,
    /// The union of the ref patterns of the user's write grants covering the repository;
    /// `None` when one of those grants has no ref patterns (it allows every ref).
    pub grant_refs: Option<Vec<&'a RefPattern>>,
    /// The token's ref patterns (empty: no limit).
    pub token_refs: &'a [RefPattern],
    /// Protections whose repo pattern covers the repository.
    pub protections: Vec<&'a Protection>,
}

impl RefRules<'_> {
    /// Whether any rule applies, i.e. whether the command list must be read at all.
    pub fn any(&self) -> bool {
        self.grant_refs.is_some() || !self.token_refs.is_empty() || !self.protections.is_empty()
    }
}

/// A ref of the push the rules do not allow, and which rule says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefDenial {
    OutsideGrants {
        name: String,
        user: String,
        repo: String,
        patterns: Vec<String>,
    },
    OutsideToken {
        name: String,
        who: String,
        patterns: Vec<String>,
    },
    ProtectedDelete {
        name: String,
        rule: String,
    },
}

impl RefDenial {
    pub fn name(&self) -> &str {
        match self {
            RefDenial::OutsideGrants { name, .. }
            | RefDenial::OutsideToken { name, .. }
            | RefDenial::ProtectedDelete { name, .. } => name,
        }
    }

    /// The reason without the ref name (for a report-status `ng` line).
    pub fn reason(&self) -> String {
        match self {
            RefDenial::OutsideGrants {
                user,
                repo,
                patterns,
                ..
            } => format!(
                "{user}'s write grants for {repo} allow only refs {}",
                patterns.join(", ")
            ),
            RefDenial::OutsideToken { who, patterns, .. } => {
                format!("{who} is limited to refs {}", patterns.join(", "))
            }
            RefDenial::ProtectedDelete { rule, .. } => {
                format!("protected ref may not be deleted ({rule})")
            }
        }
    }
}

impl fmt::Display for RefDenial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.reason())
    }
}

/// A protected ref the push updates (neither creates nor deletes): refused if the update is
/// not a fast-forward, which only the backend can tell once it has the pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RewindCheck {
    pub name: String,
    /// The protection, as messages name it.
    pub rule: String,
}

/// Decides a push: the rewind checks to enforce, or every refused ref.
pub fn decide(
    commands: &[Command],
    rules: &RefRules<'_>,
) -> Result<Vec<RewindCheck>, Vec<RefDenial>> {
    let mut denials = Vec::new();
    let mut rewinds = Vec::new();
    for command in commands {
        let name = &command.name;
        if let Some(patterns) = &rules.grant_refs
            && !patterns.iter().any(|p| p.matches(name))
        {
            denials.push(RefDenial::OutsideGrants {
                name: name.clone(),
                user: rules.who.user.to_string(),
                repo: rules.repo.to_owned(),
                patterns: patterns.iter().map(|p| p.to_string()).collect(),
            });
            continue;
        }
        if !rules.token_refs.is_empty() && !rules.token_refs.iter().any(|p| p.matches(name)) {
            denials.push(RefDenial::OutsideToken {
                name: name.clone(),
                who: rules.who.to_string(),
                patterns: rules.token_refs.iter().map(|p| p.to_string()).collect(),
            });
            continue;
        }
        // The strictest matching protection decides.
        let matching = || rules.protections.iter().filter(|p| p.refs.matches(name));
        if command.deletes() {
            if let Some(protection) = matching().find(|p| !p.allow_delete) {
                denials.push(RefDenial::ProtectedDelete {
                    name: name.clone(),
                    rule: protection.to_string(),
                });
            }
        } else if !command.creates()
            && let Some(protection) = matching().find(|p| !p.allow_force)
        {
            rewinds.push(RewindCheck {
                name: name.clone(),
                rule: protection.to_string(),
            });
        }
    }
    if denials.is_empty() {
        Ok(rewinds)
    } else {
        Err(denials)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const A: &str = "1111111111111111111111111111111111111111";
    const B: &str = "2222222222222222222222222222222222222222";
    const Z: &str = "0000000000000000000000000000000000000000";

    fn cmd(old: &str, new: &str, name: &str) -> Command {
        Command {
            old: old.to_owned(),
            new: new.to_owned(),
            name: name.to_owned(),
        }
    }

    fn refs(patterns: &[&str]) -> Vec<RefPattern> {
        patterns
            .iter()
            .map(|p| RefPattern::parse(p).unwrap())
            .collect()
    }

    fn protection(refs: &str, allow_delete: bool, allow_force: bool) -> Protection {
        Protection {
            repo: RepoPattern::parse("git/**").unwrap(),
            refs: RefPattern::parse(refs).unwrap(),
            allow_delete,
            allow_force,
        }
    }

    fn rules<'a>(
        grant: Option<&'a [RefPattern]>,
        token: &'a [RefPattern],
        protections: &'a [Protection],
    ) -> RefRules<'a> {
        RefRules {
            who: Who {
                user: "alice".parse().unwrap(),
                token: "ci".parse().unwrap(),
            },
            repo: "git/app",
            grant_refs: grant.map(|g| g.iter().collect()),
            token_refs: token,
            protections: protections.iter().collect(),
        }
    }

    #[test]
    fn grant_and_token_refs_must_both_cover_every_ref() {
        let grant = refs(&["refs/heads/feature/*", "refs/heads/main"]);
        let token = refs(&["refs/heads/feature/**"]);
        let r = rules(Some(&grant), &token, &[]);
        assert!(r.any());
        assert_eq!(decide(&[cmd(A, B, "refs/heads/feature/x")], &r), Ok(vec![]));
        let denied = decide(&[cmd(A, B, "refs/heads/main")], &r).unwrap_err();
        assert!(
            matches!(&denied[..], [RefDenial::OutsideToken { .. }]),
            "{denied:?}"
        );
        assert!(denied[0].to_string().contains("token \"ci\" of alice"));
        let denied = decide(
            &[cmd(A, B, "refs/heads/feature/x"), cmd(Z, B, "refs/tags/v1")],
            &r,
        )
        .unwrap_err();
        assert_eq!(denied.len(), 1);
        assert_eq!(denied[0].name(), "refs/tags/v1");
        assert!(denied[0].reason().contains("refs/heads/feature/*"));
        assert!(!rules(None, &[], &[]).any());
    }

    #[test]
    fn protected_refs_refuse_deletes_and_ask_for_rewind_checks() {
        let plain = [protection("refs/heads/main", false, false)];
        let r = rules(None, &[], &plain);
        let denied = decide(&[cmd(A, Z, "refs/heads/main")], &r).unwrap_err();
        assert!(
            denied[0]
                .reason()
                .contains("protect git/** refs/heads/main")
        );
        let checks = decide(&[cmd(A, B, "refs/heads/main")], &r).unwrap();
        assert_eq!(checks[0].name, "refs/heads/main");
        assert_eq!(decide(&[cmd(Z, B, "refs/heads/main")], &r), Ok(vec![]));
        assert_eq!(decide(&[cmd(A, Z, "refs/heads/other")], &r), Ok(vec![]));
        let lenient = [protection("refs/heads/main", true, true)];
        let r = rules(None, &[], &lenient);
        assert_eq!(decide(&[cmd(A, Z, "refs/heads/main")], &r), Ok(vec![]));
        assert_eq!(decide(&[cmd(A, B, "refs/heads/main")], &r), Ok(vec![]));
    }
}
