//! Test harness: real backends, real clients and a real `vcsgate` process, each in its own
//! temporary directory and on its own loopback port, stopped on drop even when a test fails.
//!
//! - [`tools`] finds the programs (or fails naming the Debian package to install);
//! - [`process`] runs a command with a timeout, and keeps daemons that die on drop;
//! - [`ports`] hands out free loopback ports (the one allocator) and tells which process
//!   listens on one; [`poll`] waits for a condition;
//! - [`apache`], [`hg`] start the backends from `deploy/`; [`repos`] creates repositories;
//! - [`git`], [`hg`], [`svn`] wrap the clients with an isolated environment;
//! - [`cgi_git`] logs what reached vcsgate's built-in Git backend;
//! - [`vcsgate`] writes a `proxy.toml`, runs the CLI and `serve`;
//! - [`http`] sends raw HTTP requests; [`tls`] makes a CA and a server certificate;
//! - [`postgres`] gives a fresh PostgreSQL database; [`pg_private`] a PostgreSQL server of
//!   a test's own, which it can stop and start again;
//! - [`secrets`] remembers every secret handed out and fails a test whose logs reveal one;
//! - [`wire`] speaks raw HTTP/1.1 bytes from a chosen loopback source address;
//! - [`relay`] is a rate-limited TCP relay (to slow a transfer down); [`recorder`] a relay
//!   that keeps every byte clients send (in front of hg serve, for the secret scan);
//! - [`backend_log`] reads a backend's request log only after a control request showed up
//!   in it, so "nothing reached the backend" is proven, not assumed;
//! - [`webhook`] is a loopback webhook receiver and [`smtp`] a loopback SMTP sink, for the
//!   expiry notices.

#![allow(dead_code)]

pub mod apache;
pub mod backend_log;
pub mod cgi_git;
pub mod git;
pub mod hg;
pub mod http;
pub mod pg_private;
pub mod poll;
pub mod ports;
pub mod postgres;
pub mod process;
pub mod recorder;
pub mod relay;
pub mod repos;
pub mod secrets;
pub mod smtp;
pub mod svn;
pub mod tls;
pub mod tools;
pub mod vcsgate;
pub mod webdriver;
pub mod webhook;
pub mod wire;
