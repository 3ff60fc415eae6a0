//! The HTTP API (`/-/api/v1/…`, API.md) against a running `vcsgate serve`: the contract of
//! every endpoint for every kind of caller on SQLite and PostgreSQL, the real `git` client
//! using tokens the API made, revoked and rotated, and `docs/openapi.yaml` against the routes
//! actually served.

mod client;
mod contract;
mod git;
mod openapi;
