//! One end of a copy, per dialect: which tables and columns it has, what references what,
//! and reading and writing rows as dialect-neutral [`Cell`]s.

use sqlx::{PgPool, Row, SqlitePool};

use super::{Cell, Column, CopyError, Kind};

/// A table or column name from the schema, quoted for SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn column_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| quoted(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn query_error(source: sqlx::Error) -> CopyError {
    CopyError::Store(crate::store::Error::from_sqlx(source))
}

/// A database at one end of the copy (migrated to this binary's schema).
#[derive(Debug)]
pub enum Side {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A write transaction on the target.
pub enum Writer {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

const SQLITE_TABLES: &str = "SELECT name FROM sqlite_master WHERE type = 'table' \
     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations' ORDER BY name";
const SQLITE_COLUMNS: &str = "SELECT name, type FROM pragma_table_info($1) ORDER BY cid";
const SQLITE_REFERENCES: &str = "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)";
const PG_TABLES: &str = "SELECT table_name::text FROM information_schema.tables \
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
     AND table_name <> '_sqlx_migrations' ORDER BY table_name";
const PG_COLUMNS: &str = "SELECT column_name::text, data_type::text, is_identity::text \
     FROM information_schema.columns WHERE table_schema = current_schema() \
     AND table_name = $1 ORDER BY ordinal_position";
const PG_REFERENCES: &str = "SELECT DISTINCT confrelid::regclass::text FROM pg_constraint \
     WHERE contype = 'f' AND conrelid = quote_ident($1)::regclass";

fn sqlite_kind(declared: &str) -> Option<Kind> {
    match declared.to_ascii_uppercase().as_str() {
        "INTEGER" | "INT" | "BIGINT" | "BOOLEAN" => Some(Kind::I64),
        "TEXT" => Some(Kind::Text),
        "BLOB" => Some(Kind::Bytes),
        "REAL" => Some(Kind::F64),
        _ => None,
    }
}

fn pg_kind(declared: &str) -> Option<Kind> {
    match declared {
        "bigint" => Some(Kind::I64),
        "integer" => Some(Kind::I32),
        "smallint" => Some(Kind::I16),
        "text" | "character varying" => Some(Kind::Text),
        "boolean" => Some(Kind::Bool),
        "bytea" => Some(Kind::Bytes),
        "double precision" => Some(Kind::F64),
        _ => None,
    }
}

impl Side {
    pub fn dialect(&self) -> &'static str {
        match self {
            Side::Sqlite(_) => "sqlite",
            Side::Postgres(_) => "postgres",
        }
    }

    pub async fn tables(&self) -> Result<Vec<String>, CopyError> {
        let rows: Vec<(String,)> = match self {
            Side::Sqlite(pool) => sqlx::query_as(SQLITE_TABLES).fetch_all(pool).await,
            Side::Postgres(pool) => sqlx::query_as(PG_TABLES).fetch_all(pool).await,
        }
        .map_err(query_error)?;
        Ok(rows.into_iter().map(|(name,)| name).collect())
    }

    pub async fn columns(&self, table: &str) -> Result<Vec<Column>, CopyError> {
        let unsupported = |column: &str, declared: &str| CopyError::UnsupportedColumn {
            table: table.to_owned(),
            column: column.to_owned(),
            declared: declared.to_owned(),
        };
        match self {
            Side::Sqlite(pool) => {
                let rows: Vec<(String, String)> = sqlx::query_as(SQLITE_COLUMNS)
                    .bind(table)
                    .fetch_all(pool)
                    .await
                    .map_err(query_error)?;
                rows.into_iter()
                    .map(|(name, declared)| {
                        let kind =
                            sqlite_kind(&declared).ok_or_else(|| unsupported(&name, &declared))?;
                        Ok(Column {
                            name,
                            kind,
                            identity: false,
                        })
                    })
                    .collect()
            }
            Side::Postgres(pool) => {
                let rows: Vec<(String, String, String)> = sqlx::query_as(PG_COLUMNS)
                    .bind(table)
                    .fetch_all(pool)
                    .await
                    .map_err(query_error)?;
                rows.into_iter()
                    .map(|(name, declared, identity)| {
                        let kind =
                            pg_kind(&declared).ok_or_else(|| unsupported(&name, &declared))?;
                        Ok(Column {
                            name,
                            kind,
                            identity: identity == "YES",
                        })
                    })
                    .collect()
            }
        }
    }

    /// The tables `table`'s foreign keys point at.
    pub async fn references(&self, table: &str) -> Result<Vec<String>, CopyError> {
        let rows: Vec<(String,)> = match self {
            Side::Sqlite(pool) => {
                sqlx::query_as(SQLITE_REFERENCES)
                    .bind(table)
                    .fetch_all(pool)
                    .await
            }
            Side::Postgres(pool) => {
                sqlx::query_as(PG_REFERENCES)
                    .bind(table)
                    .fetch_all(pool)
                    .await
            }
        }
        .map_err(query_error)?;
        Ok(rows
            .into_iter()
            .map(|(name,)| name.trim_matches('"').to_owned())
            .collect())
    }

    pub async fn count(&self, table: &str) -> Result<i64, CopyError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {}", quoted(table)));
        let (count,): (i64,) = match self {
            Side::Sqlite(pool) => sqlx::query_as(sql).fetch_one(pool).await,
            Side::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await,
        }
        .map_err(query_error)?;
        Ok(count)
    }

    /// How many rows of `users` a new store already holds: the reserved user `anonymous`
    /// (migration 0005) — a target with only these counts as empty.
    pub async fn reserved_users(&self) -> Result<i64, CopyError> {
        let sql = "SELECT count(*) FROM users WHERE name = 'anonymous'";
        let (count,): (i64,) = match self {
            Side::Sqlite(pool) => sqlx::query_as(sql).fetch_one(pool).await,
            Side::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await,
        }
        .map_err(query_error)?;
        Ok(count)
    }

    /// Every row of `table`, as `columns` (this side's own column kinds).
    pub async fn read(&self, table: &str, columns: &[Column]) -> Result<Vec<Vec<Cell>>, CopyError> {
        let sql = format!("SELECT {} FROM {}", column_list(columns), quoted(table));
        let sql = sqlx::AssertSqlSafe(sql);
        let decode_error = |column: &Column| CopyError::Decode {
            table: table.to_owned(),
            column: column.name.clone(),
        };
        match self {
            Side::Sqlite(pool) => {
                let rows = sqlx::query(sql)
                    .fetch_all(pool)
                    .await
                    .map_err(query_error)?;
                rows.iter()
                    .map(|row| {
                        columns
                            .iter()
                            .enumerate()
                            .map(|(i, column)| {
                                let cell = match column.kind {
                                    Kind::I64 | Kind::I32 | Kind::I16 | Kind::Bool => {
                                        row.try_get::<Option<i64>, _>(i).map(Cell::from)
                                    }
                                    Kind::Text => {
                                        row.try_get::<Option<String>, _>(i).map(Cell::from)
                                    }
                                    Kind::Bytes => {
                                        row.try_get::<Option<Vec<u8>>, _>(i).map(Cell::from)
                                    }
                                    Kind::F64 => row.try_get::<Option<f64>, _>(i).map(Cell::from),
                                };
                                cell.map_err(|_| decode_error(column))
                            })
                            .collect()
                    })
                    .collect()
            }
            Side::Postgres(pool) => {
                let rows = sqlx::query(sql)
                    .fetch_all(pool)
                    .await
                    .map_err(query_error)?;
                rows.iter()
                    .map(|row| {
                        columns
                            .iter()
                            .enumerate()
                            .map(|(i, column)| {
                                let cell = match column.kind {
                                    Kind::I64 => row.try_get::<Option<i64>, _>(i).map(Cell::from),
                                    Kind::I32 => row
                                        .try_get::<Option<i32>, _>(i)
                                        .map(|v| Cell::from(v.map(i64::from))),
                                    Kind::I16 => row
                                        .try_get::<Option<i16>, _>(i)
                                        .map(|v| Cell::from(v.map(i64::from))),
                                    Kind::Bool => row.try_get::<Option<bool>, _>(i).map(Cell::from),
                                    Kind::Text => {
                                        row.try_get::<Option<String>, _>(i).map(Cell::from)
                                    }
                                    Kind::Bytes => {
                                        row.try_get::<Option<Vec<u8>>, _>(i).map(Cell::from)
                                    }
                                    Kind::F64 => row.try_get::<Option<f64>, _>(i).map(Cell::from),
                                };
                                cell.map_err(|_| decode_error(column))
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }

    pub async fn begin(&self) -> Result<Writer, CopyError> {
        match self {
            Side::Sqlite(pool) => pool.begin_with("BEGIN IMMEDIATE").await.map(Writer::Sqlite),
            Side::Postgres(pool) => pool.begin().await.map(Writer::Postgres),
        }
        .map_err(query_error)
    }
}

impl Writer {
    /// Removes the target's own reserved `anonymous` (it owns nothing in an empty store), so
    /// the source's, with its id and grants, can be copied in.
    pub async fn drop_reserved_users(&mut self) -> Result<(), CopyError> {
        let sql = "DELETE FROM users WHERE name = 'anonymous'";
        match self {
            Writer::Sqlite(tx) => sqlx::query(sql).execute(&mut **tx).await.map(drop),
            Writer::Postgres(tx) => sqlx::query(sql).execute(&mut **tx).await.map(drop),
        }
        .map_err(query_error)
    }

    /// Inserts `rows` into `table` as `columns` (the target's column kinds), keeping ids.
    pub async fn insert(
        &mut self,
        table: &str,
        columns: &[Column],
        rows: &[Vec<Cell>],
    ) -> Result<(), CopyError> {
        let placeholders = (1..=columns.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let overriding = match self {
            Writer::Postgres(_) if columns.iter().any(|c| c.identity) => " OVERRIDING SYSTEM VALUE",
            _ => "",
        };
        let sql = format!(
            "INSERT INTO {} ({}){overriding} VALUES ({placeholders})",
            quoted(table),
            column_list(columns)
        );
        for row in rows {
            let sql = sqlx::AssertSqlSafe(sql.clone());
            let cell_error = |column: &Column| CopyError::Convert {
                table: table.to_owned(),
                column: column.name.clone(),
            };
            match self {
                Writer::Sqlite(tx) => {
                    let mut query = sqlx::query::<sqlx::Sqlite>(sql);
                    for (cell, column) in row.iter().zip(columns) {
                        query = match column.kind {
                            Kind::I64 | Kind::I32 | Kind::I16 | Kind::Bool => {
                                query.bind(cell.as_i64().map_err(|()| cell_error(column))?)
                            }
                            Kind::Text => {
                                query.bind(cell.as_text().map_err(|()| cell_error(column))?)
                            }
                            Kind::Bytes => {
                                query.bind(cell.as_bytes().map_err(|()| cell_error(column))?)
                            }
                            Kind::F64 => {
                                query.bind(cell.as_f64().map_err(|()| cell_error(column))?)
                            }
                        };
                    }
                    query.execute(&mut **tx).await.map_err(query_error)?;
                }
                Writer::Postgres(tx) => {
                    let mut query = sqlx::query::<sqlx::Postgres>(sql);
                    for (cell, column) in row.iter().zip(columns) {
                        let int = || cell.as_i64().map_err(|()| cell_error(column));
                        let narrow = |v: Option<i64>| -> Result<Option<i32>, CopyError> {
                            v.map(|v| i32::try_from(v).map_err(|_| cell_error(column)))
                                .transpose()
                        };
                        let narrower = |v: Option<i64>| -> Result<Option<i16>, CopyError> {
                            v.map(|v| i16::try_from(v).map_err(|_| cell_error(column)))
                                .transpose()
                        };
                        query = match column.kind {
                            Kind::I64 => query.bind(int()?),
                            Kind::I32 => query.bind(narrow(int()?)?),
                            Kind::I16 => query.bind(narrower(int()?)?),
                            Kind::Bool => {
                                query.bind(cell.as_bool().map_err(|()| cell_error(column))?)
                            }
                            Kind::Text => {
                                query.bind(cell.as_text().map_err(|()| cell_error(column))?)
                            }
                            Kind::Bytes => {
                                query.bind(cell.as_bytes().map_err(|()| cell_error(column))?)
                            }
                            Kind::F64 => {
                                query.bind(cell.as_f64().map_err(|()| cell_error(column))?)
                            }
                        };
                    }
                    query.execute(&mut **tx).await.map_err(query_error)?;
                }
            }
        }
        Ok(())
    }

    /// Moves the identity sequences of `table` past the copied ids (PostgreSQL; SQLite
    /// follows explicit ids by itself).
    pub async fn advance_identities(
        &mut self,
        table: &str,
        columns: &[Column],
    ) -> Result<(), CopyError> {
        let Writer::Postgres(tx) = self else {
            return Ok(());
        };
        for column in columns.iter().filter(|c| c.identity) {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(max({col}), 0) + 1, false) FROM {table}",
                col = quoted(&column.name),
                table = quoted(table),
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(quoted(table))
                .bind(column.name.clone())
                .execute(&mut **tx)
                .await
                .map_err(query_error)?;
        }
        Ok(())
    }

    pub async fn commit(self) -> Result<(), CopyError> {
        match self {
            Writer::Sqlite(tx) => tx.commit().await,
            Writer::Postgres(tx) => tx.commit().await,
        }
        .map_err(query_error)
    }
}
