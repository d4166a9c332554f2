//! Moving a city from SQLite to PostgreSQL: copies every table of the data dir's SQLite
//! file into a PostgreSQL store, in batches, skipping rows already there, so the copy can
//! be run again after an interruption and ends with the same rows on both sides. Contact
//! details stay sealed: the new servers must use the same contact key. Outbox and message
//! leases are not copied (they belong to processes that no longer run).

use std::path::Path;

use rusqlite::types::Value;
use tokio_postgres::types::ToSql;

use super::{PostgresStore, StoreError, sqlite};

/// Rows copied per PostgreSQL transaction.
const BATCH: usize = 500;

/// A column's PostgreSQL type, for converting SQLite's values.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Int4,
    Int8,
    Float,
    Bool,
    Bytes,
}

use Kind::{Bool, Bytes, Float, Int4, Int8, Text};

/// The tables in foreign-key order, with their columns.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "reports",
        &[
            ("id", Text),
            ("tracking_no", Text),
            ("idempotency_key", Text),
            ("request_hash", Text),
            ("category", Text),
            ("department", Text),
            ("district", Text),
            ("kind", Text),
            ("body", Text),
            ("status", Text),
            ("created_ms", Int8),
            ("lat", Float),
            ("lon", Float),
            ("escalate", Bool),
            ("purged_ms", Int8),
            ("related_count", Int4),
            ("sender_hash", Text),
            ("due_ms", Int8),
            ("limit_ms", Int8),
            ("handlings", Int4),
            ("resolved_ms", Int8),
            ("supervised_ms", Int8),
            ("supervised_reason", Text),
            ("duplicate_of", Text),
            ("source", Text),
        ],
    ),
    ("photos", &[("report_id", Text), ("position", Int4), ("sha256", Text), ("width", Int4), ("height", Int4), ("bytes", Int8)]),
    ("contacts", &[("report_id", Text), ("name_sealed", Bytes), ("phone_sealed", Bytes), ("phone_hash", Text)]),
    ("outbox", &[("report_id", Text), ("state", Text), ("attempts", Int4), ("next_attempt_ms", Int8), ("last_error", Text), ("ticket_id", Text), ("delivered_ms", Int8)]),
    ("relations", &[("report_id", Text), ("related_id", Text)]),
    ("timeline", &[("report_id", Text), ("seq", Int4), ("step", Text), ("status", Text), ("at_ms", Int8), ("message", Text), ("detail", Text)]),
    ("classes", &[("key", Text), ("category", Text), ("kind", Text), ("label", Text), ("generation", Int4), ("members", Int4), ("first_ms", Int8), ("last_ms", Int8)]),
    ("class_members", &[("class_key", Text), ("generation", Int4), ("report_id", Text), ("joined_ms", Int8)]),
    ("supports", &[("report_id", Text), ("supporter", Text), ("comment", Text), ("at_ms", Int8), ("photo_sha256", Text)]),
    ("answers", &[("report_id", Text), ("round", Int4), ("answer_id", Text), ("solved", Int4), ("rating", Text), ("reasons", Text), ("comment", Text), ("at_ms", Int8)]),
    (
        "messages",
        &[
            ("id", Text),
            ("report_id", Text),
            ("kind", Text),
            ("body", Text),
            ("state", Text),
            ("attempts", Int4),
            ("next_attempt_ms", Int8),
            ("last_error", Text),
            ("delivered_ms", Int8),
            ("created_ms", Int8),
        ],
    ),
];

/// What a copy did, per table: rows read from SQLite and rows newly written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Copied {
    /// `(table, read, written)` in copy order.
    pub tables: Vec<(String, u64, u64)>,
    /// Content hashes of every photo the copied reports refer to.
    pub photo_hashes: Vec<String>,
}

fn convert(value: Value, kind: Kind) -> Result<Box<dyn ToSql + Sync + Send>, StoreError> {
    let mismatch = |value: &Value| StoreError::Copy(format!("unexpected SQLite value {value:?}"));
    Ok(match (value, kind) {
        (Value::Null, Text) => Box::new(None::<String>),
        (Value::Null, Int4) => Box::new(None::<i32>),
        (Value::Null, Int8) => Box::new(None::<i64>),
        (Value::Null, Float) => Box::new(None::<f64>),
        (Value::Null, Bool) => Box::new(None::<bool>),
        (Value::Null, Bytes) => Box::new(None::<Vec<u8>>),
        (Value::Text(text), Text) => Box::new(text),
        (Value::Integer(number), Int4) => Box::new(i32::try_from(number).map_err(|_| mismatch(&Value::Integer(number)))?),
        (Value::Integer(number), Int8) => Box::new(number),
        (Value::Integer(number), Bool) => Box::new(number != 0),
        (Value::Integer(number), Float) => Box::new(number as f64),
        (Value::Real(number), Float) => Box::new(number),
        (Value::Blob(bytes), Bytes) => Box::new(bytes),
        (other, _) => return Err(mismatch(&other)),
    })
}

/// Copies the SQLite database in `data_dir` into `target`.
pub async fn sqlite_to_postgres(data_dir: &Path, target: &PostgresStore) -> Result<Copied, StoreError> {
    let path = data_dir.join(sqlite::FILE_NAME);
    if !path.exists() {
        return Err(StoreError::Copy(format!("there is no SQLite database at {}", path.display())));
    }
    let source = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut copied = Copied::default();
    for (table, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        let placeholders: Vec<String> = (1..=columns.len()).map(|index| format!("${index}")).collect();
        let insert = format!("INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT DO NOTHING", names.join(", "), placeholders.join(", "));
        let mut select = source.prepare(&format!("SELECT {} FROM {table} ORDER BY rowid", names.join(", ")))?;
        let mut rows = select.query([])?;
        let (mut read, mut written) = (0u64, 0u64);
        let mut batch: Vec<Vec<Box<dyn ToSql + Sync + Send>>> = Vec::with_capacity(BATCH);
        loop {
            let row = rows.next()?;
            if let Some(row) = row {
                let mut values = Vec::with_capacity(columns.len());
                for (index, (_, kind)) in columns.iter().enumerate() {
                    values.push(convert(row.get::<_, Value>(index)?, *kind)?);
                }
                if *table == "photos"
                    && let Some(hash) = row.get::<_, Option<String>>(2)?
                {
                    copied.photo_hashes.push(hash);
                }
                batch.push(values);
                read += 1;
            }
            if batch.len() == BATCH || (row.is_none() && !batch.is_empty()) {
                written += target.insert_rows(&insert, std::mem::take(&mut batch)).await?;
            }
            if row.is_none() {
                break;
            }
        }
        copied.tables.push(((*table).to_owned(), read, written));
    }
    copied.photo_hashes.sort();
    copied.photo_hashes.dedup();
    Ok(copied)
}
