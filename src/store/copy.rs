//! `vcsgate store copy --to URL`: every row of every table of the store (users, managers,
//! grants, tokens with their hashes, the change feed, the audit log, and whatever tables
//! later migrations add) from one store into a new, empty one of either dialect, ids kept,
//! in one transaction on the target; then the row counts of both are compared.
//!
//! Both ends are first opened (and so migrated) by this binary: they have the same
//! tables. Columns are copied by name through dialect-neutral [`Cell`]s; a column type the
//! copy does not know is refused rather than guessed.

mod side;

use std::collections::BTreeSet;

use side::Side;

/// How a column's values are read and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    I64,
    I32,
    I16,
    Bool,
    Text,
    Bytes,
    F64,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    /// A PostgreSQL identity column (inserted with `OVERRIDING SYSTEM VALUE`).
    pub identity: bool,
}

/// One value on its way between dialects.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
    Real(f64),
}

macro_rules! cell_from {
    ($ty:ty, $variant:ident) => {
        impl From<Option<$ty>> for Cell {
            fn from(value: Option<$ty>) -> Self {
                value.map_or(Cell::Null, Cell::$variant)
            }
        }
    };
}
cell_from!(i64, Int);
cell_from!(bool, Bool);
cell_from!(String, Text);
cell_from!(Vec<u8>, Bytes);
cell_from!(f64, Real);

impl Cell {
    fn as_i64(&self) -> Result<Option<i64>, ()> {
        match self {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            Cell::Bool(b) => Ok(Some(i64::from(*b))),
            Cell::Text(_) | Cell::Bytes(_) | Cell::Real(_) => Err(()),
        }
    }

    fn as_bool(&self) -> Result<Option<bool>, ()> {
        match self {
            Cell::Null => Ok(None),
            Cell::Bool(b) => Ok(Some(*b)),
            Cell::Int(0) => Ok(Some(false)),
            Cell::Int(1) => Ok(Some(true)),
            Cell::Int(_) | Cell::Text(_) | Cell::Bytes(_) | Cell::Real(_) => Err(()),
        }
    }

    fn as_text(&self) -> Result<Option<String>, ()> {
        match self {
            Cell::Null => Ok(None),
            Cell::Text(s) => Ok(Some(s.clone())),
            Cell::Int(_) | Cell::Bool(_) | Cell::Bytes(_) | Cell::Real(_) => Err(()),
        }
    }

    fn as_bytes(&self) -> Result<Option<Vec<u8>>, ()> {
        match self {
            Cell::Null => Ok(None),
            Cell::Bytes(b) => Ok(Some(b.clone())),
            Cell::Int(_) | Cell::Bool(_) | Cell::Text(_) | Cell::Real(_) => Err(()),
        }
    }

    fn as_f64(&self) -> Result<Option<f64>, ()> {
        match self {
            Cell::Null => Ok(None),
            Cell::Real(v) => Ok(Some(*v)),
            Cell::Int(_) | Cell::Bool(_) | Cell::Text(_) | Cell::Bytes(_) => Err(()),
        }
    }
}

/// Why a copy did not happen or did not finish. Never quotes a URL or a value.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{0}")]
    Store(#[from] super::Error),
    #[error(
        "the target store is not empty (table {table} has {rows} rows): copy only into a new, empty store"
    )]
    TargetNotEmpty { table: String, rows: i64 },
    #[error("source and target are the same store")]
    SameStore,
    #[error(
        "source and target have different tables ({source_tables} vs {target_tables}): open both with the same vcsgate version"
    )]
    SchemaDiffers {
        source_tables: String,
        target_tables: String,
    },
    #[error(
        "table {table} has column {column} on one side only: open both with the same vcsgate version"
    )]
    ColumnDiffers { table: String, column: String },
    #[error("column {table}.{column} has a type the copy does not know ({declared})")]
    UnsupportedColumn {
        table: String,
        column: String,
        declared: String,
    },
    #[error("cannot read column {table}.{column}")]
    Decode { table: String, column: String },
    #[error("a value of column {table}.{column} does not fit the target's column")]
    Convert { table: String, column: String },
    #[error("the foreign keys between the tables form a cycle: {tables}")]
    Cycle { tables: String },
    #[error(
        "after the copy, table {table} has {in_target} rows in the target but {in_source} in the source"
    )]
    CountMismatch {
        table: String,
        in_source: i64,
        in_target: i64,
    },
}

/// Copied rows per table, in copy order.
pub type Report = Vec<(String, i64)>;

async fn side(url: &str) -> Result<Side, CopyError> {
    // Opening creates and migrates: both ends get this binary's schema.
    let _ = super::open(url).await?;
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or("");
    Ok(match scheme {
        "sqlite" => Side::Sqlite(super::sqlite::connect(url).await?),
        _ => Side::Postgres(super::postgres::connect(url).await?),
    })
}

/// Tables ordered so that every table comes after those its foreign keys point at.
async fn copy_order(source: &Side, tables: &[String]) -> Result<Vec<String>, CopyError> {
    let mut pending: Vec<(String, BTreeSet<String>)> = Vec::new();
    for table in tables {
        let references = source
            .references(table)
            .await?
            .into_iter()
            .filter(|r| r != table && tables.contains(r))
            .collect();
        pending.push((table.clone(), references));
    }
    let mut order: Vec<String> = Vec::new();
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .iter()
            .filter(|(_, refs)| refs.iter().all(|r| order.contains(r)))
            .map(|(t, _)| t.clone())
            .collect();
        if ready.is_empty() {
            let tables = pending.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>();
            return Err(CopyError::Cycle {
                tables: tables.join(", "),
            });
        }
        pending.retain(|(t, _)| !ready.contains(t));
        order.extend(ready);
    }
    Ok(order)
}

/// The source's columns in the target's order, each with the target's kind; the column
/// sets must agree.
fn matched_columns(
    table: &str,
    source: &[Column],
    target: &[Column],
) -> Result<(Vec<Column>, Vec<Column>), CopyError> {
    let differs = |column: &str| CopyError::ColumnDiffers {
        table: table.to_owned(),
        column: column.to_owned(),
    };
    if let Some(extra) = source
        .iter()
        .find(|s| !target.iter().any(|t| t.name == s.name))
    {
        return Err(differs(&extra.name));
    }
    let read = target
        .iter()
        .map(|t| {
            source
                .iter()
                .find(|s| s.name == t.name)
                .cloned()
                .ok_or_else(|| differs(&t.name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((read, target.to_vec()))
}

/// Copies everything from the store at `source_url` into the empty store at `target_url`
/// and verifies the row counts.
pub async fn copy(source_url: &str, target_url: &str) -> Result<Report, CopyError> {
    if source_url == target_url {
        return Err(CopyError::SameStore);
    }
    let source = side(source_url).await?;
    let target = side(target_url).await?;
    let tables = source.tables().await?;
    let target_tables = target.tables().await?;
    if tables != target_tables {
        return Err(CopyError::SchemaDiffers {
            source_tables: tables.join(","),
            target_tables: target_tables.join(","),
        });
    }
    for table in &tables {
        let mut rows = target.count(table).await?;
        if table == "users" {
            rows -= target.reserved_users().await?;
        }
        if rows > 0 {
            return Err(CopyError::TargetNotEmpty {
                table: table.clone(),
                rows,
            });
        }
    }
    let order = copy_order(&source, &tables).await?;
    let mut writer = target.begin().await?;
    writer.drop_reserved_users().await?;
    for table in &order {
        let (read, write) = matched_columns(
            table,
            &source.columns(table).await?,
            &target.columns(table).await?,
        )?;
        let rows = source.read(table, &read).await?;
        writer.insert(table, &write, &rows).await?;
        writer.advance_identities(table, &write).await?;
    }
    writer.commit().await?;
    let mut report = Vec::with_capacity(order.len());
    for table in order {
        let (copied, there) = (source.count(&table).await?, target.count(&table).await?);
        if copied != there {
            return Err(CopyError::CountMismatch {
                table,
                in_source: copied,
                in_target: there,
            });
        }
        report.push((table, there));
    }
    tracing::debug!(
        from = source.dialect(),
        to = target.dialect(),
        "store copied"
    );
    Ok(report)
}
