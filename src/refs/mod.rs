//! Git ref rules (ACCESS.md "Ref rules"): ref patterns on grants and tokens, protected refs,
//! and the pure parts of enforcing them on a push.
//!
//! - [`pattern`]: [`RefPattern`] (`refs/heads/feature/*`, `**` across segments);
//! - [`commands`]: the incremental parser of a receive-pack request's command list;
//! - [`decide`]: the pure decision over the commands of one push;
//! - [`report`]: the receive-pack answer that carries a refusal into `git push` output.

pub mod commands;
pub mod decide;
pub mod pattern;
pub mod report;

pub use commands::{Command, CommandList, Parsed};
pub use decide::{Protection, RefDenial, RefRules, RewindCheck};
pub use pattern::{RefPattern, RefPatternError};
