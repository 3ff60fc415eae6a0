//! The one integration-test binary (every `tests/*.rs` would be a separate link).
//!
//! - `backend_sanity` checks the harness alone: real Apache (git-http-backend, mod_dav_svn)
//!   and `hg serve` started from the files in `deploy/`, driven by the real clients. These
//!   tests do not need vcsgate.
//! - `git_e2e` drives real `git` through a running `vcsgate serve`. These tests need the
//!   proxy.
//! - `store_contract` runs one suite against SQLite and a throwaway PostgreSQL.
//! - `hardening` checks the §0 rules and §5 bypasses of PROTOCOLS.md with raw bytes, and
//!   throttling, slow clients, backend and store failures, shutdown and secret hygiene.
//!   These tests need the proxy.
//! - `notices` checks token expiry notices end to end: a loopback webhook receiver and SMTP
//!   sink, restarts, two servers on one PostgreSQL, retries.
//!
//! Missing tools make tests fail with the Debian package to install; `scripts/test.sh`
//! installs them on a fresh machine.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod api;
mod backend_sanity;
mod cli;
mod findings;
mod git_e2e;
mod hardening;
mod hg_e2e;
mod lane;
mod lfs;
mod notices;
mod ops;
mod pages;
mod refs;
mod store_contract;
mod support;
mod svn_e2e;
