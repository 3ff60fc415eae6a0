//! vcsgate: a reverse proxy that puts access tokens in front of Git, Mercurial and
//! Subversion servers that speak HTTP.
//!
//! A request meets the modules in this order:
//! 1. accept — [`proxy::server`] takes a TCP (or TLS) connection, HTTP/1.1 or HTTP/2, on
//!    one of its per-core workers, within the caps of [`proxy::admission`];
//! 2. canonicalise — [`canon`] refuses ambiguous paths, queries and headers (400);
//! 3. route — [`router`] picks the longest whole-segment prefix (404);
//! 4. classify the head — [`classify`] decides repository and read/write per protocol,
//!    [`repo::for_route`] forms the repo path, and [`proxy::framing`] refuses bodies a
//!    backend would leave unread (400);
//! 5. authenticate — [`credentials`] parses Basic/Bearer, [`token`] checks the format, and
//!    [`authn`] finds the token in memory or the [`store`] (401); [`throttle`] answers 429
//!    to addresses that keep failing;
//! 6. read body bytes only if the verdict needs them — [`proxy::settle`] feeds a bounded
//!    prefix to the classifier's [`classify::BodyRule`];
//! 7. authorize — [`authorize`] checks scopes, grants and token limits (403);
//! 8. forward — [`proxy::prepare`] builds the backend request (pure), and
//!    [`proxy::backend::Backend::send`] streams it to a backend URL ([`proxy::upstream`]) or
//!    the built-in Git CGI backend ([`proxy::cgi`]), within a first-byte timeout
//!    ([`proxy::first_byte`]) (502/504);
//! 9. log — [`proxy::log`] writes one structured line per request, never a secret
//!    ([`logging`] batches lines per worker).
//!
//! The handler itself is [`proxy::gate::Gate`]; errors become responses in one place:
//! [`proxy::rejection::respond`].
//!
//! Beside requests, the control runtime follows the store's change feed ([`authn`]) and
//! sends token expiry notices by webhook and mail ([`notify`]); [`admin`] serves metrics and
//! health checks, and `SIGHUP` swaps in a gate built from the re-read config.

pub mod access;
pub mod admin;
pub mod api;
pub mod authn;
pub mod authorize;
pub mod canon;
pub mod classify;
pub mod cli;
pub mod config;
pub mod credentials;
#[doc(hidden)]
pub mod fuzzing;
pub mod logging;
pub mod manage;
pub mod names;
pub mod notify;
pub mod pages;
pub mod proxy;
pub mod refs;
pub mod repo;
pub mod router;
pub mod secret;
pub mod store;
pub mod throttle;
pub mod token;
pub mod vocabulary;
