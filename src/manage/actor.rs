//! Who makes a change: the command line on the server (an operator with the database, who
//! may do everything) or a user through the API or pages, with its role.

use std::fmt;

use super::Error;
use crate::names::{TokenName, UserName};
use crate::store::{Audit, User};
use crate::vocabulary::Role;

/// The longest OS user name kept in an actor label.
const MAX_OS_USER_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// `vcsgate` run on the server: the OS user who ran it.
    Cli { os_user: String },
    /// A user authenticated by the API or the pages, with the token it presented (if any)
    /// and the client's address.
    User {
        name: UserName,
        role: Role,
        token: Option<TokenName>,
        client: Option<String>,
    },
}

impl Actor {
    /// The command line, as the OS user running it (`$USER`, else the uid's name).
    pub fn cli() -> Actor {
        Actor::Cli { os_user: os_user() }
    }

    /// The audit record of a change this actor makes at `now`.
    pub fn audit(&self, now: i64) -> Audit {
        let (actor_user, client) = match self {
            Actor::Cli { .. } => (None, None),
            Actor::User { name, client, .. } => (Some(name.clone()), client.clone()),
        };
        Audit {
            at: now,
            actor: self.to_string(),
            actor_user,
            client,
        }
    }

    /// Whether the actor may manage everything (users, grants, every token).
    pub fn is_admin(&self) -> bool {
        match self {
            Actor::Cli { .. } => true,
            Actor::User { role, .. } => *role == Role::Admin,
        }
    }

    /// Refuses unless the actor is an admin.
    pub fn require_admin(&self, action: &'static str) -> Result<(), Error> {
        if self.is_admin() {
            return Ok(());
        }
        Err(Error::Forbidden {
            actor: self.to_string(),
            action,
            missing: "the admin role",
        })
    }

    /// Whether the actor may create, list, rotate and revoke `owner`'s tokens: an admin, the
    /// owner itself, or a manager of the bot `owner`.
    pub fn manages_tokens_of(&self, owner: &User) -> bool {
        match self {
            Actor::Cli { .. } => true,
            Actor::User { name, role, .. } => {
                *role == Role::Admin
                    || *name == owner.name
                    || (owner.bot && owner.managers.contains(name))
            }
        }
    }
}

/// `cli:OSUSER`, or the user's name with ` token NAME` when it came with one.
impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Cli { os_user } => write!(f, "cli:{os_user}"),
            Actor::User {
                name, token: None, ..
            } => write!(f, "{name}"),
            Actor::User {
                name,
                token: Some(token),
                ..
            } => write!(f, "{name} token {token}"),
        }
    }
}

/// `$USER` if set, else the name `/etc/passwd` gives the uid owning this process, else
/// `uid N`; control characters dropped and the length bounded (it ends up in the audit log).
fn os_user() -> String {
    let name = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(passwd_name)
        .unwrap_or_else(|| "unknown".to_owned());
    name.chars()
        .filter(|c| !c.is_control())
        .take(MAX_OS_USER_LEN)
        .collect()
}

fn passwd_name() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").ok();
    let found = passwd.as_deref().and_then(|text| {
        text.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            let uid_field = fields.nth(1)?;
            (uid_field.parse::<u32>().ok()? == uid).then(|| name.to_owned())
        })
    });
    Some(found.unwrap_or_else(|| format!("uid {uid}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn user(name: &str, role: Role) -> Actor {
        Actor::User {
            name: UserName::parse(name).unwrap(),
            role,
            token: None,
            client: None,
        }
    }

    fn owner(name: &str, bot: bool, managers: &[&str]) -> User {
        User {
            name: UserName::parse(name).unwrap(),
            active: true,
            created_at: 0,
            role: Role::User,
            bot,
            email: None,
            managers: managers
                .iter()
                .map(|m| UserName::parse(m).unwrap())
                .collect(),
        }
    }

    #[test]
    fn tokens_are_managed_by_their_owner_the_bots_managers_and_admins() {
        let alice = user("alice", Role::User);
        assert!(alice.manages_tokens_of(&owner("alice", false, &[])));
        assert!(alice.manages_tokens_of(&owner("ci", true, &["bob", "alice"])));
        assert!(!alice.manages_tokens_of(&owner("bob", false, &[])));
        assert!(!alice.manages_tokens_of(&owner("ci", true, &["bob"])));
        assert!(user("root", Role::Admin).manages_tokens_of(&owner("bob", false, &[])));
        assert!(Actor::cli().manages_tokens_of(&owner("bob", false, &[])));
    }

    #[test]
    fn only_admins_and_the_cli_pass_require_admin() {
        assert!(Actor::cli().require_admin("add users").is_ok());
        assert!(user("root", Role::Admin).require_admin("add users").is_ok());
        let err = user("alice", Role::User)
            .require_admin("add users")
            .unwrap_err();
        assert_eq!(err.to_string(), "alice may not add users: the admin role");
    }

    #[test]
    fn cli_actors_name_the_os_user() {
        let label = Actor::cli().to_string();
        assert!(label.starts_with("cli:") && label.len() > 4, "{label}");
        assert!(!label.chars().any(char::is_control));
        let audit = Actor::cli().audit(7);
        assert_eq!((audit.at, audit.actor_user, audit.client), (7, None, None));
    }

    #[test]
    fn user_actors_name_themselves_their_token_and_client() {
        let actor = Actor::User {
            name: UserName::parse("alice").unwrap(),
            role: Role::User,
            token: Some(TokenName::parse("ci").unwrap()),
            client: Some("192.0.2.1".to_owned()),
        };
        let audit = actor.audit(7);
        assert_eq!(audit.actor, "alice token ci");
        assert_eq!(audit.actor_user.unwrap().as_str(), "alice");
        assert_eq!(audit.client.as_deref(), Some("192.0.2.1"));
    }
}
