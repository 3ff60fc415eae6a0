//! The correctness findings of issue 7, each through the real `vcsgate` binary (and, where
//! the finding is about a backend, the real backend). NEEDS THE PROXY.
//!
//! - [`order`]: a request refused from its head alone gets 400 before authentication;
//! - [`echoes`]: refusals never repeat a client value that could be a secret;
//! - [`hgweb_index`]: hgwebdir's repository listings stay out of reach;
//! - [`git_suffix`]: the built-in Git backend serves exactly the directory the path names;
//! - [`revocation`]: a revoked token stays refused while it is hammered.

mod echoes;
mod git_suffix;
mod hgweb_index;
mod order;
mod revocation;

use std::net::Ipv4Addr;
use std::time::Duration;

use crate::support::wire::{self, Exchange};

/// A backend address nothing listens on: every test here is refused before forwarding.
pub const NOWHERE: &str = "http://127.0.0.1:9";

/// Sends raw bytes from `source` to `port`, reading until the server closes (at most 10 s).
pub fn send(source: Ipv4Addr, port: u16, bytes: &[u8]) -> Exchange {
    wire::exchange(source, port, bytes, Duration::from_secs(10))
}
