//! The audit log's vocabulary: who made a change ([`Audit`], handed to every mutation), what
//! kind of change it was ([`AuditAction`]) and the row as listed ([`AuditEvent`]). Never a
//! secret: actors and targets are names, details name tokens, patterns and fields.

use std::fmt;
use std::str::FromStr;

use super::{NewUser, UserChange};
use crate::names::UserName;
use crate::vocabulary::UnknownWord;

/// Who makes a change, and when: every store mutation takes one and writes it to the audit
/// log in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// Unix seconds.
    pub at: i64,
    /// `cli:OSUSER`, or a user (with its token) for the API and pages.
    pub actor: String,
    /// The acting user, when a user acts (`audit list --user` finds its own actions).
    pub actor_user: Option<UserName>,
    /// The client address, when the change came over the network.
    pub client: Option<String>,
}

macro_rules! actions {
    ($($variant:ident => $word:literal),* $(,)?) => {
        /// What a change did.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum AuditAction {
            $($variant),*
        }

        impl AuditAction {
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $word),*
                }
            }
        }

        impl FromStr for AuditAction {
            type Err = UnknownWord;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($word => Ok(AuditAction::$variant),)*
                    other => Err(UnknownWord {
                        what: "audit action",
                        given: other.to_owned(),
                        expected: concat!($($word, " "),*),
                    }),
                }
            }
        }
    };
}

actions!(
    UserAdd => "user.add",
    UserSet => "user.set",
    UserDisable => "user.disable",
    UserEnable => "user.enable",
    GrantSet => "grant.set",
    GrantRemove => "grant.remove",
    TokenCreate => "token.create",
    TokenRevoke => "token.revoke",
    TokenRotate => "token.rotate",
    PolicyRefusal => "policy.refused",
    SignIn => "session.sign_in",
);

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub actor_user: Option<UserName>,
    pub client: Option<String>,
    pub action: AuditAction,
    /// The user the change was about.
    pub target: UserName,
    /// What changed, e.g. `token ci`, `git/team/** write`, `role=admin`.
    pub detail: String,
}

/// What the audit log says about a new user.
pub(super) fn new_user_detail(user: &NewUser) -> String {
    let mut parts = vec![format!("role={}", user.role)];
    if user.bot {
        parts.push("bot".to_owned());
    }
    if let Some(email) = &user.email {
        parts.push(format!("email={email}"));
    }
    for manager in &user.managers {
        parts.push(format!("manager+{manager}"));
    }
    parts.join(" ")
}

/// What the audit log says about changes to a user.
pub(super) fn changes_detail(changes: &[UserChange]) -> String {
    let parts: Vec<String> = changes
        .iter()
        .map(|change| match change {
            UserChange::Role(role) => format!("role={role}"),
            UserChange::Email(Some(email)) => format!("email={email}"),
            UserChange::Email(None) => "email=".to_owned(),
            UserChange::AddManager(manager) => format!("manager+{manager}"),
            UserChange::RemoveManager(manager) => format!("manager-{manager}"),
            UserChange::Active(true) => "enabled".to_owned(),
            UserChange::Active(false) => "disabled".to_owned(),
        })
        .collect();
    parts.join(" ")
}
