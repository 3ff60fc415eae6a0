//! What differs between the SQL dialects at run time (the schema differs too, but lives in
//! `migrations/<dialect>/`). Everything else is shared: [`super::sql`], [`super::rows`] and
//! [`super::engine::SqlStore`].

use sqlx::error::DatabaseError;
use sqlx::{Database, Decode, Encode, Type};

use super::Error;

/// A database sqlx drives and this store knows how to use.
pub trait Dialect: Database {
    /// Starts a read-write transaction. SQLite must take its write lock up front
    /// (`BEGIN IMMEDIATE`): upgrading a read transaction later can fail instead of waiting.
    const BEGIN_WRITE: &'static str;
    /// `$1` user name → `id`, holding a lock on the user's row until commit where the dialect
    /// has row locks, so that checks such as "no active token of that name" hold at insert.
    const LOCK_USER: &'static str;
    /// Runs right before a row is appended to `changes`, so that sequence order is commit
    /// order (a poller that has seen seq n must never later find a smaller one).
    const SERIALIZE_CHANGES: Option<&'static str>;
    /// Runs after appending to `changes`, `$1` the user name: wakes listeners early.
    const NOTIFY_CHANGE: Option<&'static str>;

    /// Whether a database-reported error means the store cannot serve now (shutting down,
    /// locked, out of space) rather than a refused statement.
    fn is_unavailable(error: &dyn DatabaseError) -> bool;

    /// Turns a sqlx error into a store error, with this dialect's idea of unavailable.
    fn store_error(error: sqlx::Error) -> Error {
        match &error {
            sqlx::Error::Database(db) if Self::is_unavailable(db.as_ref()) => {
                Error::Unavailable { source: error }
            }
            _ => Error::from_sqlx(error),
        }
    }
}

/// A Rust type that binds to and decodes from `DB` columns.
pub trait Value<DB: Database>:
    Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Send
{
}

impl<DB, T> Value<DB> for T
where
    DB: Database,
    T: Type<DB> + for<'q> Encode<'q, DB> + for<'r> Decode<'r, DB> + Send,
{
}
