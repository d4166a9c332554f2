//! The two ceilings ingest is compared with: the HTTP ceiling (the same axum/hyper stack
//! with one route that reads the whole body and answers 201 — no parsing, no storage) and
//! the storage ceiling (raw SQLite inserts of rows the size of a report with the same
//! durability — WAL, `synchronous=FULL` — grouped per commit as the server groups them).
//! The bare-route process also serves the plain HTML form (`/plain`), the widget's floor.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;

/// Runs the bare route on `port` until killed (`bench bare-server <port>`).
pub async fn bare_server(port: u16) -> anyhow::Result<()> {
    async fn take(body: Bytes) -> (StatusCode, String) {
        (StatusCode::CREATED, format!("{{\"bytes\":{}}}", body.len()))
    }
    let catalog = lianxin_server::catalog::load(None)?.catalog;
    let plain = crate::weight::plain_form(&catalog);
    let app = Router::new()
        .route("/api/v1/reports", post(take))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route("/plain", axum::routing::get(move || async move { axum::response::Html(plain) }));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// The bare route as its own process (this binary, re-executed), killed when dropped.
pub struct BareServer {
    /// Its base URL.
    pub url: String,
    child: std::process::Child,
}

impl Drop for BareServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BareServer {
    /// Starts it on a free port.
    pub async fn start() -> anyhow::Result<BareServer> {
        let port = crate::server::free_port()?;
        let child = std::process::Command::new(std::env::current_exe()?).args(["bare-server", &port.to_string()]).spawn()?;
        let url = format!("http://127.0.0.1:{port}");
        let server = BareServer { url: url.clone(), child };
        crate::server::wait_until_up(&format!("{url}/healthz")).await?;
        Ok(server)
    }
}

/// Rows per second that SQLite takes with the server's durability, `group` rows per
/// commit, for `rows` rows of `body_bytes` each.
pub fn raw_inserts(rows: usize, group: usize, body_bytes: usize) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let connection = rusqlite::Connection::open(dir.path().join("raw.sqlite3"))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.execute_batch(
        "CREATE TABLE reports (id TEXT PRIMARY KEY, idempotency_key TEXT UNIQUE, body TEXT, created_ms INTEGER);
         CREATE TABLE outbox (report_id TEXT PRIMARY KEY, next_attempt_ms INTEGER);",
    )?;
    let body = "井".repeat(body_bytes / 3);
    let started = Instant::now();
    let mut inserted = 0;
    while inserted < rows {
        let transaction = connection.unchecked_transaction()?;
        for _ in 0..group.min(rows - inserted) {
            let id = format!("r{inserted}");
            transaction.execute("INSERT INTO reports VALUES (?1, ?1, ?2, 0)", rusqlite::params![id, body])?;
            transaction.execute("INSERT INTO outbox VALUES (?1, 0)", [&id])?;
            inserted += 1;
        }
        transaction.commit()?;
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}
