//! The same Git scenarios against vcsgate's built-in backend (`[[route]] prefix="/local"
//! kind="git" repos=DIR`, `git http-backend` run as CGI). NEEDS THE PROXY.

use super::{Via, access, reads_writes};
use crate::support::git::Proto;

#[test]
fn builtin_clone_and_ls_remote_protocol_v0() {
    reads_writes::clone_and_ls_remote(Via::Builtin, Proto::V0);
}

#[test]
fn builtin_clone_and_ls_remote_protocol_v2() {
    reads_writes::clone_and_ls_remote(Via::Builtin, Proto::V2);
}

#[test]
fn builtin_push_then_fetch_with_a_write_token() {
    reads_writes::push_then_fetch(Via::Builtin);
}

#[test]
fn builtin_read_only_token_cannot_push() {
    access::read_only_token_cannot_push(Via::Builtin);
}

#[test]
fn builtin_read_grant_cannot_push() {
    access::read_grant_cannot_push(Via::Builtin);
}
