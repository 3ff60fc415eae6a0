//! Input decoding shared by the fuzz targets: a request head in a small text form (the same
//! form `make-seeds.sh` writes from the golden transcripts), the routes a request path
//! implies, a body fed to a body rule in chunks the way the proxy does, and an independent
//! model of which `batch` commands Mercurial would run.

pub mod chunked;
pub mod head;
pub mod hg_model;
pub mod routes;
