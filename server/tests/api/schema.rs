//! The two engines keep one schema: after their own migrations, SQLite and PostgreSQL hold
//! the same tables, the same columns and the same secondary indexes (types are each
//! dialect's own). A change made to one engine's migrations only fails here.

use std::collections::BTreeSet;

use lianxin_server::privacy::ContactCipher;
use lianxin_server::store::{Database, Store};

use crate::helpers::{database_url_for, postgres_under_test};

/// What only SQLite has, on purpose: it numbers reports from a sequence and shows a keyed
/// permutation of it (`tracking.rs`), found through the sequence's index, with the numbers
/// drawn before in a partial index. PostgreSQL draws every number and finds it through
/// `tracking_no`'s unique index (its `tracking_seq` stays NULL).
const SQLITE_ONLY: &[&str] = &["tracking_key.key", "index:reports_by_tracking_seq", "index:reports_drawn_tracking_no"];

/// `table.column` for every column, and `index:name` for every named secondary index.
type Shape = BTreeSet<String>;

fn sqlite_shape(path: &std::path::Path) -> Shape {
    let connection = rusqlite::Connection::open(path).unwrap();
    let mut shape = Shape::new();
    let tables: Vec<String> =
        connection.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").unwrap().query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    for table in tables {
        let columns: Vec<String> = connection.prepare(&format!("PRAGMA table_info({table})")).unwrap().query_map([], |row| row.get(1)).unwrap().collect::<Result<_, _>>().unwrap();
        shape.extend(columns.into_iter().map(|column| format!("{table}.{column}")));
    }
    let indexes: Vec<String> = connection
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    shape.extend(indexes.into_iter().map(|name| format!("index:{name}")));
    shape
}

async fn postgres_shape(url: &str) -> Shape {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let mut shape = Shape::new();
    // The migration bookkeeping table is PostgreSQL's counterpart of SQLite's user_version.
    for row in client.query("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> 'lianxin_schema'", &[]).await.unwrap() {
        shape.insert(format!("{}.{}", row.get::<_, String>(0), row.get::<_, String>(1)));
    }
    // Primary keys and UNIQUE columns get their index from the constraint, as in SQLite.
    let constraint_indexes = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename <> 'lianxin_schema'
         AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE connamespace = current_schema()::regnamespace)";
    for row in client.query(constraint_indexes, &[]).await.unwrap() {
        shape.insert(format!("index:{}", row.get::<_, String>(0)));
    }
    shape
}

#[tokio::test]
async fn sqlite_and_postgresql_have_the_same_tables_columns_and_indexes() {
    if postgres_under_test().is_none() {
        eprintln!("skipped: the schema comparison runs in the PostgreSQL pass (set LIANXIN_TEST_DATABASE)");
        return;
    }
    let sqlite_dir = tempfile::tempdir().unwrap();
    let postgres_dir = tempfile::tempdir().unwrap();
    let url = database_url_for(postgres_dir.path()).await.unwrap();
    let cipher = ContactCipher::new([3; 32]);
    Store::open(Database::Sqlite(sqlite_dir.path()), cipher.clone()).await.unwrap();
    Store::open(Database::Postgres { url: &url, pool_size: 2 }, cipher).await.unwrap();

    let mut sqlite = sqlite_shape(&sqlite_dir.path().join("lianxin.sqlite3"));
    let postgres = postgres_shape(&url).await;
    for part in SQLITE_ONLY {
        assert!(sqlite.remove(*part), "{part} is no longer in SQLite: take it off SQLITE_ONLY");
    }

    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(only_sqlite.is_empty() && only_postgres.is_empty(), "the schemas drifted: only in SQLite {only_sqlite:?}, only in PostgreSQL {only_postgres:?}");
    assert!(sqlite.contains("reports.sender_hash") && sqlite.contains("index:outbox_due"), "the comparison sees columns and indexes: {sqlite:?}");
}
