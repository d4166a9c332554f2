//! The SQLite engine: one file (WAL, `synchronous=FULL`) in the data directory. Writes go
//! through the group-commit [`Writer`]; reads use their own connection. Schema changes are
//! ordered migrations counted by `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use lianxin_contract::Receipt;
use lianxin_contract::pipeline::{PipelinePhoto, PipelineReport};
use lianxin_contract::report::{ReportStatus, StatusEvent};
use rusqlite::{Connection, OptionalExtension, params};

use super::writer::Writer;
use super::{
    Candidate, Inserted, NewReport, OPEN_TICKETS, OutboxEntry, OutboxStats, Outgoing, PHOTO_IN_USE, PURGE_DUE, Purged, RELATED_SCAN, Related, Rows, STATUS_RANK, Search, StoreError, outbox_body,
    parse_status, receipt, related_ids_sql, scrubbed_body,
};
use crate::ids;
use crate::privacy::ContactCipher;

/// The schema's migrations, in order; `PRAGMA user_version` records how many are applied.
/// Never edit a released migration: append a new one.
pub(super) const MIGRATIONS: &[&str] =
    &[include_str!("sqlite/001_schema.sql"), include_str!("sqlite/002_leases.sql"), include_str!("sqlite/003_bounded_relations.sql"), include_str!("sqlite/004_indexes_as_postgres.sql")];

/// The database file's name in the data directory.
pub const FILE_NAME: &str = "lianxin.sqlite3";

/// Handle to the SQLite store; cheap to clone.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: Writer,
    reader: Arc<Mutex<Connection>>,
    cipher: ContactCipher,
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    Ok(connection)
}

impl SqliteStore {
    /// Opens (creating if needed) `lianxin.sqlite3` in `data_dir` and applies the migrations.
    pub fn open(data_dir: &Path, cipher: ContactCipher) -> Result<SqliteStore, StoreError> {
        let path = data_dir.join(FILE_NAME);
        let connection = open_connection(&path)?;
        migrate(&connection)?;
        let reader = open_connection(&path)?;
        Ok(SqliteStore { writer: Writer::start(connection), reader: Arc::new(Mutex::new(reader)), cipher })
    }

    pub(super) async fn read<T: Send + 'static>(&self, work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let connection = reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&connection)
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))?
    }

    pub(super) async fn find_by_idempotency_key(&self, idempotency_key: &str) -> Result<Option<(Receipt, String)>, StoreError> {
        let key = idempotency_key.to_owned();
        self.read(move |connection| find_by_key(connection, &key)).await
    }

    pub(super) async fn insert_report(&self, new: NewReport) -> Result<Inserted, StoreError> {
        let cipher = self.cipher.clone();
        self.writer
            .write(move |connection| {
                if let Some((receipt, hash)) = find_by_key(connection, &new.idempotency_key)? {
                    return Ok(Inserted::Existing { receipt, same_request: hash == new.request_hash });
                }
                let now = ids::now_ms();
                let rows = Rows::of(&new.report, new.sender.as_deref(), &cipher)?;
                let related = related_reports(connection, Search::new(&rows.category, rows.lat.zip(rows.lon), rows.phone_hash.as_deref(), rows.sender_hash.as_deref(), now))?;
                let mut tracking_no = ids::new_tracking_no();
                // A collision of tracking numbers is rare; draw again until the index is happy.
                while connection.prepare_cached("SELECT 1 FROM reports WHERE tracking_no = ?1")?.query_row([&tracking_no], |_| Ok(())).optional()?.is_some() {
                    tracking_no = ids::new_tracking_no();
                }
                connection.prepare_cached("INSERT INTO reports (id, tracking_no, idempotency_key, request_hash, category, department, district, kind, body, status, created_ms, lat, lon, escalate, related_count, sender_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'received', ?10, ?11, ?12, ?13, ?14, ?15)")?.execute(params![
                        new.id, tracking_no, new.idempotency_key, new.request_hash, rows.category, new.department, new.district,
                        rows.kind, rows.body, now, rows.lat, rows.lon, related.escalate, related.count as i64, rows.sender_hash
                    ],
                )?;
                for related_id in &related.ids {
                    connection.prepare_cached("INSERT INTO relations (report_id, related_id) VALUES (?1, ?2)")?.execute(params![new.id, related_id])?;
                }
                for (position, photo) in new.photos.iter().enumerate() {
                    connection.prepare_cached("INSERT INTO photos (report_id, position, sha256, width, height, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![new.id, position as i64, photo.sha256, photo.width, photo.height, photo.bytes as i64],
                    )?;
                }
                if rows.consented {
                    connection.prepare_cached("INSERT INTO contacts (report_id, name_sealed, phone_sealed, phone_hash) VALUES (?1, ?2, ?3, ?4)")?.execute(params![new.id, rows.name_sealed, rows.phone_sealed, rows.phone_hash],
                    )?;
                }
                connection.prepare_cached("INSERT INTO outbox (report_id, state, next_attempt_ms) VALUES (?1, 'pending', ?2)")?.execute(params![new.id, now])?;
                connection.prepare_cached("INSERT INTO status_events (report_id, status, at_ms) VALUES (?1, 'received', ?2)")?.execute(params![new.id, now])?;
                Ok(Inserted::Created(receipt(new.id.clone(), tracking_no, now)))
            })
            .await
    }

    pub(super) async fn status(&self, tracking_no: &str) -> Result<Option<ReportStatus>, StoreError> {
        let tracking_no = tracking_no.to_owned();
        self.read(move |connection| {
            let Some((id, category, status, created_ms)) = connection
                .query_row("SELECT id, category, status, created_ms FROM reports WHERE tracking_no = ?1", [&tracking_no], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get::<_, i64>(3)?))
                })
                .optional()?
            else {
                return Ok(None);
            };
            let mut statement = connection.prepare(&format!("SELECT status, at_ms, message FROM status_events WHERE report_id = ?1 ORDER BY at_ms, {STATUS_RANK}"))?;
            let timeline = statement
                .query_map([&id], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, Option<String>>(2)?)))?
                .map(|row| {
                    let (status, at, message) = row?;
                    Ok(StatusEvent { status: parse_status(&status)?, at: ids::rfc3339(at), message })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok(Some(ReportStatus { tracking_no, category, status: parse_status(&status)?, created_at: ids::rfc3339(created_ms), timeline }))
        })
        .await
    }

    pub(super) async fn claim_due(&self, owner: &str, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let owner = owner.to_owned();
        self.writer
            .write(move |connection| {
                let mut statement = connection.prepare_cached(
                    "UPDATE outbox SET lease_owner = ?1, lease_until_ms = ?2
                     WHERE report_id IN (SELECT report_id FROM outbox
                                         WHERE state = 'pending' AND next_attempt_ms <= ?3 AND (lease_until_ms IS NULL OR lease_until_ms <= ?3)
                                         ORDER BY next_attempt_ms LIMIT ?4)
                     RETURNING report_id",
                )?;
                let ids = statement.query_map(params![owner, lease_until_ms, now_ms, limit as i64], |row| row.get(0))?.collect::<Result<_, _>>()?;
                Ok(ids)
            })
            .await
    }

    pub(super) async fn release_all_leases(&self) -> Result<(), StoreError> {
        self.writer.write(|connection| Ok(connection.execute("UPDATE outbox SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner IS NOT NULL", []).map(|_| ())?)).await
    }

    pub(super) async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        let owner = owner.to_owned();
        self.writer
            .write(move |connection| {
                connection.execute("UPDATE outbox SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = ?1 AND state = 'pending'", [owner])?;
                Ok(())
            })
            .await
    }

    pub(super) async fn outbox_report(&self, id: &str) -> Result<Outgoing, StoreError> {
        let id = id.to_owned();
        let cipher = self.cipher.clone();
        self.read(move |connection| {
            let (tracking_no, department, district, body, created_ms, escalate, related_count) =
                connection.query_row("SELECT tracking_no, department, district, body, created_ms, escalate, related_count FROM reports WHERE id = ?1", [&id], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, bool>(5)?,
                        row.get::<_, u32>(6)?,
                    ))
                })?;
            let mut related = connection.prepare_cached(&numbered(&related_ids_sql()))?;
            let related = related.query_map([&id], |row| row.get(0))?.collect::<Result<Vec<String>, _>>()?;
            let contact = connection.query_row("SELECT name_sealed, phone_sealed FROM contacts WHERE report_id = ?1", [&id], |row| Ok((row.get(0)?, row.get(1)?))).optional()?;
            let report = outbox_body(&body, contact, &cipher)?;
            let mut statement = connection.prepare("SELECT sha256, width, height FROM photos WHERE report_id = ?1 ORDER BY position")?;
            let photos = statement.query_map([&id], |row| Ok(PipelinePhoto { sha256: row.get(0)?, width: row.get(1)?, height: row.get(2)?, url: None }))?.collect::<Result<_, _>>()?;
            Ok(Outgoing { message: PipelineReport { id, tracking_no, created_at: ids::rfc3339(created_ms), department, district, report, photos, related, related_count, escalate }, created_ms })
        })
        .await
    }

    pub(super) async fn mark_delivered(&self, id: &str, ticket_id: Option<String>) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.writer
            .write(move |connection| {
                let now = ids::now_ms();
                connection
                    .prepare_cached(
                        "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, ticket_id = ?2, delivered_ms = ?3, last_error = NULL,
                                       lease_owner = NULL, lease_until_ms = NULL
                     WHERE report_id = ?1",
                    )?
                    .execute(params![id, ticket_id, now])?;
                connection.prepare_cached("UPDATE reports SET status = 'forwarded' WHERE id = ?1 AND status = 'received'")?.execute([&id])?;
                connection.prepare_cached("INSERT OR IGNORE INTO status_events (report_id, status, at_ms) VALUES (?1, 'forwarded', ?2)")?.execute(params![id, now])?;
                Ok(())
            })
            .await
    }

    pub(super) async fn mark_failed(&self, id: &str, error: String, next_attempt_ms: i64, dead_letter: bool) -> Result<u32, StoreError> {
        let id = id.to_owned();
        self.writer
            .write(move |connection| {
                let state = if dead_letter { "dead_letter" } else { "pending" };
                Ok(connection.query_row(
                    "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_error = ?3, next_attempt_ms = ?4, lease_owner = NULL, lease_until_ms = NULL
                     WHERE report_id = ?1 RETURNING attempts",
                    params![id, state, error, next_attempt_ms],
                    |row| row.get(0),
                )?)
            })
            .await
    }

    pub(super) async fn attempts(&self, id: &str) -> Result<u32, StoreError> {
        let id = id.to_owned();
        self.read(move |connection| Ok(connection.query_row("SELECT attempts FROM outbox WHERE report_id = ?1", [&id], |row| row.get(0))?)).await
    }

    pub(super) async fn outbox_entries(&self, state: &str, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let state = state.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare(
                "SELECT o.report_id, r.tracking_no, o.state, o.attempts, o.next_attempt_ms, o.last_error, r.created_ms
                 FROM outbox o JOIN reports r ON r.id = o.report_id WHERE o.state = ?1 ORDER BY r.created_ms LIMIT ?2",
            )?;
            let entries = statement
                .query_map(params![state, limit as i64], |row| {
                    Ok(OutboxEntry {
                        report_id: row.get(0)?,
                        tracking_no: row.get(1)?,
                        state: row.get(2)?,
                        attempts: row.get(3)?,
                        next_attempt_at: ids::rfc3339(row.get(4)?),
                        last_error: row.get(5)?,
                        created_at: ids::rfc3339(row.get(6)?),
                    })
                })?
                .collect::<Result<_, _>>()?;
            Ok(entries)
        })
        .await
    }

    pub(super) async fn requeue(&self, which: Option<String>) -> Result<usize, StoreError> {
        self.writer
            .write(move |connection| {
                let now = ids::now_ms();
                let changed = match which {
                    Some(which) => connection.execute(
                        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?2, lease_owner = NULL, lease_until_ms = NULL
                         WHERE state = 'dead_letter' AND report_id IN (SELECT id FROM reports WHERE id = ?1 OR tracking_no = ?1)",
                        params![which, now],
                    )?,
                    None => {
                        connection.execute("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?1, lease_owner = NULL, lease_until_ms = NULL WHERE state = 'dead_letter'", [now])?
                    }
                };
                Ok(changed)
            })
            .await
    }

    pub(super) async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        self.read(|connection| {
            Ok(connection.query_row(
                "SELECT
                    (SELECT count(*) FROM outbox WHERE state = 'pending'),
                    (SELECT count(*) FROM outbox WHERE state = 'dead_letter'),
                    (SELECT min(r.created_ms) FROM outbox o JOIN reports r ON r.id = o.report_id WHERE o.state = 'pending')",
                [],
                |row| Ok(OutboxStats { pending: row.get(0)?, dead_letter: row.get(1)?, oldest_pending_ms: row.get(2)? }),
            )?)
        })
        .await
    }

    pub(super) async fn record_status(&self, id: &str, code: String, at_ms: i64, message: Option<String>) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.writer
            .write(move |connection| {
                let inserted = connection.execute("INSERT OR IGNORE INTO status_events (report_id, status, at_ms, message) VALUES (?1, ?2, ?3, ?4)", params![id, code, at_ms, message])?;
                connection
                    .execute(&format!("UPDATE reports SET status = (SELECT status FROM status_events WHERE report_id = ?1 ORDER BY {STATUS_RANK} DESC, at_ms DESC LIMIT 1) WHERE id = ?1"), [&id])?;
                Ok(inserted > 0)
            })
            .await
    }

    pub(super) async fn purge_due(&self, final_before_ms: i64, created_before_ms: i64) -> Result<Purged, StoreError> {
        self.writer
            .write(move |connection| {
                let now = ids::now_ms();
                let due: Vec<(String, String)> =
                    connection.prepare(&numbered(PURGE_DUE))?.query_map(params![final_before_ms, created_before_ms], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
                let mut hashes = Vec::new();
                for (id, body) in &due {
                    connection.execute("DELETE FROM contacts WHERE report_id = ?1", [id])?;
                    connection.execute("UPDATE reports SET purged_ms = ?2, sender_hash = NULL, lat = NULL, lon = NULL, body = ?3 WHERE id = ?1", params![id, now, scrubbed_body(body)?])?;
                    connection.execute("UPDATE status_events SET message = NULL WHERE report_id = ?1", [id])?;
                    let mut photos = connection.prepare_cached("SELECT sha256 FROM photos WHERE report_id = ?1")?;
                    hashes.extend(photos.query_map([id], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?);
                }
                let mut unused_photos = Vec::new();
                for hash in hashes {
                    let in_use: bool = connection.prepare_cached(&numbered(PHOTO_IN_USE))?.query_row([&hash], |row| row.get(0))?;
                    if !in_use && !unused_photos.contains(&hash) {
                        unused_photos.push(hash);
                    }
                }
                Ok(Purged { reports: due.len() as u64, unused_photos })
            })
            .await
    }

    pub(super) async fn photo_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        let sha256 = sha256.to_owned();
        self.read(move |connection| Ok(connection.prepare_cached(&numbered(PHOTO_IN_USE))?.query_row([&sha256], |row| row.get(0))?)).await
    }

    pub(super) async fn report_by_ticket(&self, ticket_id: &str) -> Result<Option<String>, StoreError> {
        let ticket_id = ticket_id.to_owned();
        self.read(move |connection| Ok(connection.query_row("SELECT report_id FROM outbox WHERE ticket_id = ?1", [&ticket_id], |row| row.get(0)).optional()?)).await
    }

    pub(super) async fn open_tickets(&self, after: &str, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        let after = after.to_owned();
        self.read(move |connection| {
            let mut statement = connection.prepare_cached(&numbered(OPEN_TICKETS))?;
            let rows = statement.query_map(params![after, limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    pub(super) async fn set_ticket(&self, report_id: &str, ticket_id: &str) -> Result<(), StoreError> {
        let (report_id, ticket_id) = (report_id.to_owned(), ticket_id.to_owned());
        self.writer.write(move |connection| Ok(connection.execute("UPDATE outbox SET ticket_id = ?2 WHERE report_id = ?1", params![report_id, ticket_id]).map(|_| ())?)).await
    }

    pub(super) async fn report_exists(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.read(move |connection| Ok(connection.query_row("SELECT EXISTS (SELECT 1 FROM reports WHERE id = ?1)", [&id], |row| row.get(0))?)).await
    }

    pub(super) async fn nearby_open(&self, category: &str, lat: f64, lon: f64) -> Result<usize, StoreError> {
        let category = category.to_owned();
        self.read(move |connection| Ok(related_reports(connection, Search::new(&category, Some((lat, lon)), None, None, ids::now_ms()))?.count)).await
    }

    pub(super) fn commits(&self) -> u64 {
        self.writer.commits()
    }

    pub(super) async fn check_writable(&self) -> Result<(), StoreError> {
        self.writer.write(|connection| Ok(connection.execute_batch("CREATE TEMP TABLE IF NOT EXISTS ping (x); DELETE FROM ping;")?)).await
    }
}

/// A statement shared with the PostgreSQL engine, for SQLite: `$N` placeholders become
/// `?N`. (SQLite reads `$N` as a named parameter numbered by first appearance, so `$2`
/// before `$1` in the text would swap the values.) The shared statements hold no `$` else.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Applies the migrations the database has not seen yet, each in its own transaction.
fn migrate(connection: &Connection) -> Result<(), StoreError> {
    let applied: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if applied as usize > MIGRATIONS.len() {
        return Err(StoreError::SchemaTooNew { found: applied, known: MIGRATIONS.len() });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        connection.execute_batch(&format!("BEGIN; {migration} PRAGMA user_version = {}; COMMIT;", index + 1))?;
    }
    Ok(())
}

/// Earlier open reports of the same problem, oldest first (see [`Search`]).
fn related_reports(connection: &Connection, search: Option<Search<'_>>) -> Result<Related, StoreError> {
    let Some(search) = search else { return Ok(Related::default()) };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT r.id, r.lat, r.lon, c.phone_hash, r.sender_hash FROM reports r LEFT JOIN contacts c ON c.report_id = r.id
         WHERE r.category = ?1 AND r.created_ms >= ?2 AND r.status NOT IN ('resolved', 'rejected')
           AND ((?3 IS NOT NULL AND c.phone_hash = ?3) OR (r.lat BETWEEN ?4 AND ?5 AND r.lon BETWEEN ?6 AND ?7))
         ORDER BY r.created_ms DESC LIMIT {RELATED_SCAN}"
    ))?;
    let [min_lat, max_lat, min_lon, max_lon] = search.bounds;
    let candidates = statement
        .query_map(params![search.category, search.since_ms, search.phone_hash, min_lat, max_lat, min_lon, max_lon], |row| {
            Ok(Candidate { id: row.get(0)?, lat: row.get(1)?, lon: row.get(2)?, phone_hash: row.get(3)?, sender_hash: row.get(4)? })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(search.keep(candidates))
}

fn find_by_key(connection: &Connection, key: &str) -> Result<Option<(Receipt, String)>, StoreError> {
    Ok(connection
        .prepare_cached("SELECT id, tracking_no, created_ms, request_hash FROM reports WHERE idempotency_key = ?1")?
        .query_row([key], |row| Ok((receipt(row.get(0)?, row.get(1)?, row.get(2)?), row.get(3)?)))
        .optional()?)
}
