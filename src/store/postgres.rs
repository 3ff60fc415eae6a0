//! postgres implementation of the store (to be written).

use std::sync::Arc;

use super::{Error, Store};

/// Opens (creating and migrating) a postgres store.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, Error> {
    let _ = url;
    Err(Error::UnsupportedScheme {
        scheme: "postgres (not implemented yet)".to_owned(),
    })
}
