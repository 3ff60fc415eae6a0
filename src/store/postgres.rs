//! The store for several proxy instances: PostgreSQL, migrated on open (sqlx's migrator
//! holds an advisory lock, so instances starting together migrate once).

use std::sync::Arc;
use std::time::Duration;

use sqlx::Postgres;
use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use super::dialect::Dialect;
use super::engine;
use super::{Error, Store};

/// How long a query waits for a pooled connection before the store counts as unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 8;
macro_rules! changes_channel {
    () => {
        "vcsgate_changes"
    };
}
/// The channel `NOTIFY` wakes on every change (payload: the user name).
pub const CHANGES_CHANNEL: &str = changes_channel!();

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Dialect for Postgres {
    const BEGIN_WRITE: &'static str = "BEGIN";
    const LOCK_USER: &'static str = "SELECT id FROM users WHERE name = $1 FOR UPDATE";
    // EXCLUSIVE conflicts with itself and with writers, not with plain SELECTs: pollers keep
    // reading while appends are serialised until commit.
    const SERIALIZE_CHANGES: Option<&'static str> = Some("LOCK TABLE changes IN EXCLUSIVE MODE");
    const NOTIFY_CHANGE: Option<&'static str> =
        Some(concat!("SELECT pg_notify('", changes_channel!(), "', $1)"));

    fn is_unavailable(error: &dyn DatabaseError) -> bool {
        // SQLSTATE class 08 connection exception, 53 insufficient resources, 57P0x shutdown.
        error.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0")
        })
    }
}

/// Opens (creating and migrating) a postgres store.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, Error> {
    let options: PgConnectOptions = url.parse().map_err(|source| Error::InvalidUrl { source })?;
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(Postgres::store_error)?;
    engine::migrated(pool, &MIGRATOR).await
}
