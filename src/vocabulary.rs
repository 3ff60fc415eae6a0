//! The closed vocabularies of a decision: which VCS a route speaks, whether a request reads or
//! writes, and which scopes a token carries.

use std::fmt;
use std::str::FromStr;

/// The version control system a route speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vcs {
    Git,
    Hg,
    Svn,
}

impl Vcs {
    pub fn as_str(self) -> &'static str {
        match self {
            Vcs::Git => "git",
            Vcs::Hg => "hg",
            Vcs::Svn => "svn",
        }
    }
}

impl fmt::Display for Vcs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request does to a repository. `Write` implies `Read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }

    /// Whether holding `self` is enough for a request needing `needed`.
    pub fn covers(self, needed: Access) -> bool {
        self >= needed
    }

    /// The scope a token needs for this access.
    pub fn required_scope(self) -> Scope {
        match self {
            Access::Read => Scope::ReadRepository,
            Access::Write => Scope::WriteRepository,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a user may do beyond its own tokens (API.md "Who may do what").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Role {
    /// Manages its own tokens and those of the bots it manages.
    #[default]
    User,
    /// Manages all users, grants and tokens.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "user" => Ok(Role::User),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownWord {
                what: "role",
                given: other.to_owned(),
                expected: "user, admin",
            }),
        }
    }
}

/// Error for a word that is not part of a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {given:?} (expected one of: {expected})")]
pub struct UnknownWord {
    pub what: &'static str,
    pub given: String,
    pub expected: &'static str,
}

impl FromStr for Access {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Access::Read),
            "write" => Ok(Access::Write),
            _ => Err(UnknownWord {
                what: "access",
                given: s.to_owned(),
                expected: "read, write",
            }),
        }
    }
}

impl FromStr for Vcs {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "git" => Ok(Vcs::Git),
            "hg" => Ok(Vcs::Hg),
            "svn" => Ok(Vcs::Svn),
            _ => Err(UnknownWord {
                what: "kind",
                given: s.to_owned(),
                expected: "git, hg, svn",
            }),
        }
    }
}

/// A token scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    ReadRepository,
    WriteRepository,
    Api,
    /// Reads feed paths only (ACCESS.md "Feed tokens"), also as `?auth_token=`.
    ReadFeed,
    /// Reads a route's `url_token_paths` as `?auth_token=` only (ACCESS.md "URL tokens").
    ReadWeb,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::ReadRepository,
        Scope::WriteRepository,
        Scope::Api,
        Scope::ReadFeed,
        Scope::ReadWeb,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReadRepository => "read_repository",
            Scope::WriteRepository => "write_repository",
            Scope::Api => "api",
            Scope::ReadFeed => "read_feed",
            Scope::ReadWeb => "read_web",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Scope::ReadRepository => 1,
            Scope::WriteRepository => 2,
            Scope::Api => 4,
            Scope::ReadFeed => 8,
            Scope::ReadWeb => 16,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = UnknownWord;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownWord {
                what: "scope",
                given: s.to_owned(),
                expected: "read_repository, write_repository, api, read_feed, read_web",
            })
    }
}

/// A set of scopes. `write_repository` implies `read_repository` when checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub fn empty() -> Self {
        ScopeSet(0)
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    /// Whether the set literally holds `scope`.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether the set allows `access` to repositories.
    pub fn allows(self, access: Access) -> bool {
        match access {
            Access::Read => {
                self.contains(Scope::ReadRepository) || self.contains(Scope::WriteRepository)
            }
            Access::Write => self.contains(Scope::WriteRepository),
        }
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Comma-separated names, the form stored in the database.
    pub fn to_list(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(",")
    }

    /// Parses the comma-separated form; empty items are ignored.
    pub fn parse_list(list: &str) -> Result<Self, UnknownWord> {
        let mut set = ScopeSet::empty();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            set.insert(item.parse()?);
        }
        Ok(set)
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::empty();
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scope_implies_read_but_not_the_reverse() {
        let read: ScopeSet = [Scope::ReadRepository].into_iter().collect();
        let write: ScopeSet = [Scope::WriteRepository].into_iter().collect();
        assert!(read.allows(Access::Read));
        assert!(!read.allows(Access::Write));
        assert!(write.allows(Access::Read));
        assert!(write.allows(Access::Write));
        for narrow in [Scope::Api, Scope::ReadFeed, Scope::ReadWeb] {
            let set: ScopeSet = [narrow].into_iter().collect();
            assert!(!set.allows(Access::Read), "{narrow}");
        }
    }

    #[test]
    fn scope_list_round_trips_and_rejects_unknown() {
        let set = ScopeSet::parse_list("write_repository,read_repository").unwrap();
        assert_eq!(set.to_list(), "read_repository,write_repository");
        let web = ScopeSet::parse_list("read_web,read_feed").unwrap();
        assert_eq!(web.to_list(), "read_feed,read_web");
        assert_eq!(ScopeSet::parse_list(&web.to_list()).unwrap(), web);
        assert!(ScopeSet::parse_list("read_repository,admin").is_err());
        assert!("Read_Repository".parse::<Scope>().is_err());
    }

    #[test]
    fn access_covers() {
        assert!(Access::Write.covers(Access::Read));
        assert!(!Access::Read.covers(Access::Write));
    }
}
