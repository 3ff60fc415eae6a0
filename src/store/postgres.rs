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
    engine::migrated(connect(url).await?, &MIGRATOR).await
}

/// A pool over the database `url` names, not migrated.
pub(crate) async fn connect(url: &str) -> Result<sqlx::PgPool, Error> {
    let options: PgConnectOptions = url.parse().map_err(|source| Error::InvalidUrl { source })?;
    PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(Postgres::store_error)
}

/// How long connecting the change listener may take.
const LISTEN_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What [`ChangeListener::next`] saw.
#[derive(Debug)]
pub enum Notice {
    /// A change about this user was committed (the `NOTIFY` payload).
    Changed(String),
    /// The connection was lost and made again: notifications may have been missed.
    Reconnected,
}

/// A dedicated connection that `LISTEN`s on [`CHANGES_CHANNEL`]: every committed change
/// wakes it with the user's name, so instances learn of changes without polling.
#[derive(Debug)]
pub struct ChangeListener {
    listener: sqlx::postgres::PgListener,
}

impl ChangeListener {
    /// Connects and listens. `url` may carry a password: it never appears in the error.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let unavailable = |source| Error::Unavailable { source };
        let connect = async {
            let mut listener = sqlx::postgres::PgListener::connect(url).await?;
            listener.listen(CHANGES_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        let listener = tokio::time::timeout(LISTEN_CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| unavailable(sqlx::Error::PoolTimedOut))?
            .map_err(Postgres::store_error)?;
        Ok(ChangeListener { listener })
    }

    /// Waits for the next notification.
    pub async fn next(&mut self) -> Result<Notice, Error> {
        match self.listener.try_recv().await {
            Ok(Some(notification)) => Ok(Notice::Changed(notification.payload().to_owned())),
            Ok(None) => Ok(Notice::Reconnected),
            Err(error) => Err(Postgres::store_error(error)),
        }
    }
}
