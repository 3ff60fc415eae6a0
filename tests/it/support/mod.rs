//! Real services the tests start for themselves.

pub mod postgres;
