//! The embedded default: one SQLite file (WAL, foreign keys on, a few seconds of patience
//! when another process holds the write lock), created and migrated on open.

use std::sync::Arc;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::error::DatabaseError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::dialect::Dialect;
use super::engine;
use super::{Error, Store};

/// How long a writer waits for another's write lock before the store counts as unavailable.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_CONNECTIONS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// SQLite result codes (primary, the low byte of extended ones) that mean the database
/// cannot serve right now: busy, locked, I/O error, disk full, cannot open.
const UNAVAILABLE_CODES: [u32; 5] = [5, 6, 10, 13, 14];

impl Dialect for Sqlite {
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    // BEGIN IMMEDIATE already serialises all writers.
    const LOCK_USER: &'static str = super::sql::USER_ID;
    const SERIALIZE_CHANGES: Option<&'static str> = None;
    const NOTIFY_CHANGE: Option<&'static str> = None;

    fn is_unavailable(error: &dyn DatabaseError) -> bool {
        error
            .code()
            .and_then(|code| code.parse::<u32>().ok())
            .is_some_and(|code| UNAVAILABLE_CODES.contains(&(code & 0xff)))
    }
}

/// The file a `sqlite://` URL names: everything after the scheme, taken as a path (no query
/// parameters). `sqlite:///abs/x.db` and `sqlite://x.db` both work; relative paths are the
/// caller's to resolve.
pub fn path_of(url: &str) -> Result<&str, Error> {
    let invalid = |reason: &'static str| Error::InvalidUrl {
        source: sqlx::Error::Configuration(reason.into()),
    };
    let path = url
        .strip_prefix("sqlite://")
        .ok_or_else(|| invalid("a SQLite store URL starts with sqlite://"))?;
    match path {
        "" => Err(invalid("the SQLite store URL names no file")),
        ":memory:" => Err(invalid(
            "an in-memory SQLite store would lose everything; name a file",
        )),
        // SQLite would read these as URIs with their own options (mode=memory, …).
        path if path.starts_with("file:") => {
            Err(invalid("name the SQLite file by its path, not a file: URI"))
        }
        path => Ok(path),
    }
}

/// Opens (creating and migrating) a sqlite store.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, Error> {
    engine::migrated(connect(url).await?, &MIGRATOR).await
}

/// A pool over the file `url` names (created if missing), not migrated.
pub(crate) async fn connect(url: &str) -> Result<sqlx::SqlitePool, Error> {
    let options = SqliteConnectOptions::new()
        .filename(path_of(url)?)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(BUSY_TIMEOUT * 2)
        .connect_with(options)
        .await
        .map_err(Sqlite::store_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_path_is_everything_after_the_scheme() {
        assert_eq!(
            path_of("sqlite:///var/lib/x.db").ok(),
            Some("/var/lib/x.db")
        );
        assert_eq!(path_of("sqlite://x.db").ok(), Some("x.db"));
        assert_eq!(path_of("sqlite:///a b/x?.db").ok(), Some("/a b/x?.db"));
        for bad in [
            "sqlite://",
            "sqlite://:memory:",
            "sqlite::memory:",
            "postgres://x",
        ] {
            assert!(
                matches!(path_of(bad), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }
}
