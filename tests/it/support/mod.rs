//! Test harness: real backends, real clients and a real `vcsgate` process, each in its own
//! temporary directory and on its own loopback port, stopped on drop even when a test fails.
//!
//! - [`tools`] finds the programs (or fails naming the Debian package to install);
//! - [`process`] runs a command with a timeout, and keeps daemons that die on drop;
//! - [`ports`] hands out free loopback ports; [`poll`] waits for a condition;
//! - [`apache`], [`hg`] start the backends from `deploy/`; [`repos`] creates repositories;
//! - [`git`], [`hg`], [`svn`] wrap the clients with an isolated environment;
//! - [`vcsgate`] writes a `proxy.toml`, runs the CLI and `serve`;
//! - [`http`] sends raw HTTP requests; [`tls`] makes a CA and a server certificate;
//! - [`postgres`] gives a fresh PostgreSQL database.

#![allow(dead_code)]

pub mod apache;
pub mod git;
pub mod hg;
pub mod http;
pub mod poll;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod repos;
pub mod svn;
pub mod tls;
pub mod tools;
pub mod vcsgate;
