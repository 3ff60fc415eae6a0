//! The rules of managing users, grants and tokens: who may do what (API.md "Who may do
//! what"), one function per operation, shared by the CLI and the HTTP API and pages. Each
//! takes the [`Actor`] doing it and returns a typed [`Error`]; callers turn that into an exit
//! code or a status.

mod actor;
pub mod audit;
pub mod expiry;
pub mod grants;
pub mod policy;
pub mod sessions;
pub mod tokens;
pub mod users;

pub use actor::Actor;
pub use policy::{PolicyError, TokenPolicy};

use crate::names::UserName;
use crate::store;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The actor is not allowed; `missing` says what it would need.
    #[error("{actor} may not {action}: {missing}")]
    Forbidden {
        actor: String,
        action: &'static str,
        missing: &'static str,
    },
    /// No token has this id (or the actor may not see it: the API answers both alike).
    #[error("no token with id {id}")]
    NoSuchToken { id: i64 },
    /// The user may not sign in to the pages.
    #[error("{user} cannot sign in: it {why}")]
    CannotSignIn { user: UserName, why: &'static str },
    /// The operating system gave no randomness.
    #[error("no randomness available: {0}")]
    Randomness(String),
    /// The token lifetime policy refused the expiry.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The store refused (unknown user, name taken, a bot without manager, …) or failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

#[cfg(test)]
mod tests;
