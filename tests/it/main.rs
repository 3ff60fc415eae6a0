//! The integration tests, one binary (each `tests/*.rs` file would be a separate link).

mod store_contract;
mod support;
