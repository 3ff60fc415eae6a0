//! Input decoding shared by the fuzz targets: a request head in a small text form (the same
//! form `make-seeds.sh` writes from the Git golden transcript), and a body fed to a body rule
//! in chunks the way the proxy does.

pub mod chunked;
pub mod head;
