//! Durable storage of reports, their photos' records, contact details, the outbox and the
//! status timeline, in one SQLite file (WAL, `synchronous=FULL`). Only this module holds
//! SQL. Writes go through the group-commit [`writer`]; reads use their own connection.
//!
//! Architecture invariant: a report, its photos' records and its outbox row are inserted in
//! one transaction, and a receipt is only given after that transaction committed.

mod writer;

use std::path::Path;
use std::sync::{Arc, Mutex};

use lianxin_contract::report::{ReportStatus, Status, StatusEvent};
use lianxin_contract::{Contact, Receipt, ReportSubmission};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::geo;
use crate::ids;
use crate::photos::StoredPhoto;
use crate::privacy::ContactCipher;
use writer::Writer;

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Stored JSON could not be read back.
    #[error("stored json: {0}")]
    Json(#[from] serde_json::Error),
    /// The group's commit failed; nothing of the job was stored.
    #[error("commit failed")]
    CommitFailed,
    /// The writer thread is gone or could not start a transaction.
    #[error("the store's writer is not available")]
    WriterGone,
    /// The database was written by a newer server.
    #[error("the database has schema version {found}, newer than this server knows ({known}); upgrade the server")]
    SchemaTooNew {
        /// The database's version.
        found: i64,
        /// The newest this server knows.
        known: usize,
    },
    /// A blocking read task failed.
    #[error("read task: {0}")]
    Task(String),
}

impl StoreError {
    /// Whether the failure is the disk being full (the server then answers 503).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) if error.code == rusqlite::ErrorCode::DiskFull)
    }
}

/// A validated report ready to be stored.
#[derive(Debug, Clone)]
pub struct NewReport {
    /// Report id.
    pub id: String,
    /// The `Idempotency-Key` it came with.
    pub idempotency_key: String,
    /// Hash of the request's parts.
    pub request_hash: String,
    /// Responsible department code.
    pub department: String,
    /// District code, when known.
    pub district: Option<String>,
    /// The normalised report; its contact is stored apart.
    pub report: ReportSubmission,
    /// Its photos, already safe on disk.
    pub photos: Vec<StoredPhoto>,
}

/// What an insert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Stored now.
    Created(Receipt),
    /// A report with this idempotency key already exists.
    Existing {
        /// Its receipt.
        receipt: Receipt,
        /// Whether the request hash matches (a true retry) or not (a reused key).
        same_request: bool,
    },
}

/// A report as the forwarder sends it to the pipeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxReport {
    /// Report id: the idempotency key towards the pipeline.
    pub id: String,
    /// Tracking number the resident holds.
    pub tracking_no: String,
    /// When it was accepted (RFC 3339).
    pub created_at: String,
    /// Responsible department.
    pub department: String,
    /// District, when known.
    pub district: Option<String>,
    /// The normalised report, with contact details only when the resident consented.
    pub report: ReportSubmission,
    /// Its photos.
    pub photos: Vec<OutboxPhoto>,
    /// Ids of earlier open reports of the same problem (same contact, or within 150 m, in
    /// the last 30 days).
    pub related: Vec<String>,
    /// The third (or later) report of the same problem: the hotline authority supervises it.
    pub escalate: bool,
    /// When it was accepted (ms since the epoch), for the forwarder's age limit.
    #[serde(skip)]
    pub created_ms: i64,
}

/// A photo reference in an [`OutboxReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxPhoto {
    /// Content hash, the photo's name in storage.
    pub sha256: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// A signed link to fetch it, filled in by the forwarder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Outbox size for metrics and readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxStats {
    /// Reports waiting for delivery.
    pub pending: u64,
    /// Reports given up on, waiting for an operator.
    pub dead_letter: u64,
    /// Acceptance time of the oldest pending report (ms since the epoch).
    pub oldest_pending_ms: Option<i64>,
}

/// One outbox row, for operators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxEntry {
    /// Report id.
    pub report_id: String,
    /// Tracking number.
    pub tracking_no: String,
    /// `pending`, `delivered` or `dead_letter`.
    pub state: String,
    /// Delivery attempts so far.
    pub attempts: u32,
    /// When the next attempt is due (pending rows).
    pub next_attempt_at: String,
    /// The last failure, without personal data.
    pub last_error: Option<String>,
    /// When the report was accepted.
    pub created_at: String,
}

/// What a retention purge removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Reports whose contact and photos were purged.
    pub reports: u64,
    /// Photo hashes no longer used by any unpurged report: their files can go.
    pub unused_photos: Vec<String>,
}

/// Handle to the store; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
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

impl Store {
    /// Opens (creating if needed) the database `lianxin.sqlite3` in `data_dir` and applies
    /// the schema. Contacts are sealed with `cipher`.
    pub fn open(data_dir: &Path, cipher: ContactCipher) -> Result<Store, StoreError> {
        let path = data_dir.join("lianxin.sqlite3");
        let connection = open_connection(&path)?;
        migrate(&connection)?;
        let reader = open_connection(&path)?;
        Ok(Store { writer: Writer::start(connection), reader: Arc::new(Mutex::new(reader)), cipher })
    }

    async fn read<T: Send + 'static>(&self, work: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static) -> Result<T, StoreError> {
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || {
            let connection = reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&connection)
        })
        .await
        .map_err(|error| StoreError::Task(error.to_string()))?
    }

    /// The receipt of the report stored under `idempotency_key`, with its request hash.
    pub async fn find_by_idempotency_key(&self, idempotency_key: &str) -> Result<Option<(Receipt, String)>, StoreError> {
        let key = idempotency_key.to_owned();
        self.read(move |connection| find_by_key(connection, &key)).await
    }

    /// Stores a report with its photos' records, contact and outbox row in one transaction,
    /// or returns the report already stored under its idempotency key.
    pub async fn insert_report(&self, new: NewReport) -> Result<Inserted, StoreError> {
        let cipher = self.cipher.clone();
        self.writer
            .write(move |connection| {
                if let Some((receipt, hash)) = find_by_key(connection, &new.idempotency_key)? {
                    return Ok(Inserted::Existing { receipt, same_request: hash == new.request_hash });
                }
                let now = ids::now_ms();
                let mut report = new.report.clone();
                let contact = report.contact.take();
                let body = serde_json::to_string(&report)?;
                let (lat, lon) = report.location.as_ref().map_or((None, None), |location| (location.lat, location.lon));
                let phone_hash = contact.as_ref().filter(|contact| contact.consent).and_then(|contact| contact.phone.as_deref()).map(|phone| cipher.phone_hash(phone));
                let related = related_reports(connection, &report.category, lat.zip(lon), phone_hash.as_deref(), now)?;
                let mut tracking_no = ids::new_tracking_no();
                // A collision of tracking numbers is rare; draw again until the index is happy.
                while connection.query_row("SELECT 1 FROM reports WHERE tracking_no = ?1", [&tracking_no], |_| Ok(())).optional()?.is_some() {
                    tracking_no = ids::new_tracking_no();
                }
                connection.execute(
                    "INSERT INTO reports (id, tracking_no, idempotency_key, request_hash, category, department, district, kind, body, status, created_ms, lat, lon, escalate)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'received', ?10, ?11, ?12, ?13)",
                    params![
                        new.id, tracking_no, new.idempotency_key, new.request_hash, report.category, new.department, new.district,
                        report.kind.code(), body, now, lat, lon, related.len() >= ESCALATE_AFTER
                    ],
                )?;
                for related_id in &related {
                    connection.execute("INSERT INTO relations (report_id, related_id) VALUES (?1, ?2)", params![new.id, related_id])?;
                }
                for (position, photo) in new.photos.iter().enumerate() {
                    connection.execute(
                        "INSERT INTO photos (report_id, position, sha256, width, height, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![new.id, position as i64, photo.sha256, photo.width, photo.height, photo.bytes as i64],
                    )?;
                }
                if let Some(Contact { name, phone, consent: true }) = contact {
                    connection.execute(
                        "INSERT INTO contacts (report_id, name_sealed, phone_sealed, phone_hash) VALUES (?1, ?2, ?3, ?4)",
                        params![
                            new.id,
                            name.as_deref().map(|name| cipher.seal(name)),
                            phone.as_deref().map(|phone| cipher.seal(phone)),
                            phone_hash,
                        ],
                    )?;
                }
                connection.execute("INSERT INTO outbox (report_id, state, next_attempt_ms) VALUES (?1, 'pending', ?2)", params![new.id, now])?;
                connection.execute("INSERT INTO status_events (report_id, status, at_ms) VALUES (?1, 'received', ?2)", params![new.id, now])?;
                Ok(Inserted::Created(receipt(new.id.clone(), tracking_no, now)))
            })
            .await
    }

    /// The public status of a report, without personal data.
    pub async fn status(&self, tracking_no: &str) -> Result<Option<ReportStatus>, StoreError> {
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
            let mut statement = connection.prepare("SELECT status, at_ms, message FROM status_events WHERE report_id = ?1 ORDER BY at_ms, rowid")?;
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

    /// Ids of up to `limit` pending outbox rows due at `now_ms`, oldest first.
    pub async fn due_outbox(&self, now_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        self.read(move |connection| {
            let mut statement = connection.prepare(
                "SELECT report_id FROM outbox WHERE state = 'pending' AND next_attempt_ms <= ?1 ORDER BY next_attempt_ms LIMIT ?2",
            )?;
            let ids = statement.query_map(params![now_ms, limit as i64], |row| row.get(0))?.collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .await
    }

    /// Everything the pipeline gets for report `id`.
    pub async fn outbox_report(&self, id: &str) -> Result<OutboxReport, StoreError> {
        let id = id.to_owned();
        let cipher = self.cipher.clone();
        self.read(move |connection| {
            let (tracking_no, department, district, body, created_ms, escalate) = connection.query_row(
                "SELECT tracking_no, department, district, body, created_ms, escalate FROM reports WHERE id = ?1",
                [&id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, bool>(5)?,
                    ))
                },
            )?;
            let mut related = connection.prepare_cached("SELECT related_id FROM relations WHERE report_id = ?1 ORDER BY related_id")?;
            let related = related.query_map([&id], |row| row.get(0))?.collect::<Result<Vec<String>, _>>()?;
            let mut report: ReportSubmission = serde_json::from_str(&body)?;
            report.contact = connection
                .query_row("SELECT name_sealed, phone_sealed FROM contacts WHERE report_id = ?1", [&id], |row| {
                    Ok((row.get::<_, Option<Vec<u8>>>(0)?, row.get::<_, Option<Vec<u8>>>(1)?))
                })
                .optional()?
                .map(|(name, phone)| Contact {
                    name: name.and_then(|sealed| cipher.open(&sealed)),
                    phone: phone.and_then(|sealed| cipher.open(&sealed)),
                    consent: true,
                });
            let mut statement = connection.prepare("SELECT sha256, width, height FROM photos WHERE report_id = ?1 ORDER BY position")?;
            let photos = statement
                .query_map([&id], |row| Ok(OutboxPhoto { sha256: row.get(0)?, width: row.get(1)?, height: row.get(2)?, url: None }))?
                .collect::<Result<_, _>>()?;
            Ok(OutboxReport { id, tracking_no, created_at: ids::rfc3339(created_ms), department, district, report, photos, related, escalate, created_ms })
        })
        .await
    }

    /// Records a successful delivery and moves the report to `forwarded`.
    pub async fn mark_delivered(&self, id: &str, ticket_id: Option<String>) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.writer
            .write(move |connection| {
                let now = ids::now_ms();
                connection.execute(
                    "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, ticket_id = ?2, delivered_ms = ?3, last_error = NULL WHERE report_id = ?1",
                    params![id, ticket_id, now],
                )?;
                connection.execute("UPDATE reports SET status = 'forwarded' WHERE id = ?1 AND status = 'received'", [&id])?;
                connection.execute("INSERT OR IGNORE INTO status_events (report_id, status, at_ms) VALUES (?1, 'forwarded', ?2)", params![id, now])?;
                Ok(())
            })
            .await
    }

    /// Records a failed delivery: retried at `next_attempt_ms`, or dead-lettered.
    pub async fn mark_failed(&self, id: &str, error: String, next_attempt_ms: i64, dead_letter: bool) -> Result<u32, StoreError> {
        let id = id.to_owned();
        self.writer
            .write(move |connection| {
                let state = if dead_letter { "dead_letter" } else { "pending" };
                connection.execute(
                    "UPDATE outbox SET state = ?2, attempts = attempts + 1, last_error = ?3, next_attempt_ms = ?4 WHERE report_id = ?1",
                    params![id, state, error, next_attempt_ms],
                )?;
                Ok(connection.query_row("SELECT attempts FROM outbox WHERE report_id = ?1", [&id], |row| row.get(0))?)
            })
            .await
    }

    /// How many delivery attempts report `id` has had.
    pub async fn attempts(&self, id: &str) -> Result<u32, StoreError> {
        let id = id.to_owned();
        self.read(move |connection| Ok(connection.query_row("SELECT attempts FROM outbox WHERE report_id = ?1", [&id], |row| row.get(0))?)).await
    }

    /// Outbox rows in `state` (`pending` or `dead_letter`), oldest first, at most `limit`.
    pub async fn outbox_entries(&self, state: &str, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
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

    /// Puts dead-lettered reports back in the queue, due now: the one with this report id or
    /// tracking number, or all when `which` is `None`. Returns how many were requeued.
    pub async fn requeue(&self, which: Option<String>) -> Result<usize, StoreError> {
        self.writer
            .write(move |connection| {
                let now = ids::now_ms();
                let changed = match which {
                    Some(which) => connection.execute(
                        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?2
                         WHERE state = 'dead_letter' AND report_id IN (SELECT id FROM reports WHERE id = ?1 OR tracking_no = ?1)",
                        params![which, now],
                    )?,
                    None => connection.execute("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?1 WHERE state = 'dead_letter'", [now])?,
                };
                Ok(changed)
            })
            .await
    }

    /// Outbox depth and age.
    pub async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
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

    /// Records that report `id` reached `status` at `at_ms` (status coming back from the
    /// pipeline). A status reached twice keeps its first time; the report's current status
    /// is the furthest reached.
    pub async fn record_status(&self, id: &str, status: Status, at_ms: i64, message: Option<String>) -> Result<bool, StoreError> {
        let id = id.to_owned();
        let code = serde_json::to_value(status)?.as_str().unwrap_or_default().to_owned();
        self.writer
            .write(move |connection| {
                let inserted = connection.execute(
                    "INSERT OR IGNORE INTO status_events (report_id, status, at_ms, message) VALUES (?1, ?2, ?3, ?4)",
                    params![id, code, at_ms, message],
                )?;
                // The current status is the furthest one reached, whatever order events arrive in.
                connection.execute(
                    "UPDATE reports SET status = (
                        SELECT status FROM status_events WHERE report_id = ?1
                        ORDER BY CASE status WHEN 'received' THEN 0 WHEN 'forwarded' THEN 1 WHEN 'accepted' THEN 2
                                             WHEN 'in_progress' THEN 3 WHEN 'resolved' THEN 4 WHEN 'rejected' THEN 4 END DESC, at_ms DESC LIMIT 1)
                     WHERE id = ?1",
                    [&id],
                )?;
                Ok(inserted > 0)
            })
            .await
    }

    /// Purges contacts and photos of reports resolved before `resolved_before_ms`.
    pub async fn purge_resolved(&self, resolved_before_ms: i64) -> Result<Purged, StoreError> {
        self.writer
            .write(move |connection| {
                let now = ids::now_ms();
                let mut due = connection.prepare(
                    "SELECT r.id FROM reports r JOIN status_events e ON e.report_id = r.id AND e.status = 'resolved'
                     WHERE r.purged_ms IS NULL AND e.at_ms < ?1",
                )?;
                let ids: Vec<String> = due.query_map([resolved_before_ms], |row| row.get(0))?.collect::<Result<_, _>>()?;
                let mut hashes = Vec::new();
                for id in &ids {
                    connection.execute("DELETE FROM contacts WHERE report_id = ?1", [id])?;
                    connection.execute("UPDATE reports SET purged_ms = ?2 WHERE id = ?1", params![id, now])?;
                    let mut photos = connection.prepare_cached("SELECT sha256 FROM photos WHERE report_id = ?1")?;
                    hashes.extend(photos.query_map([id], |row| row.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?);
                }
                let mut unused_photos = Vec::new();
                for hash in hashes {
                    let still_used: bool = connection.query_row(
                        "SELECT EXISTS (SELECT 1 FROM photos p JOIN reports r ON r.id = p.report_id WHERE p.sha256 = ?1 AND r.purged_ms IS NULL)",
                        [&hash],
                        |row| row.get(0),
                    )?;
                    if !still_used && !unused_photos.contains(&hash) {
                        unused_photos.push(hash);
                    }
                }
                Ok(Purged { reports: ids.len() as u64, unused_photos })
            })
            .await
    }

    /// The id of the report the pipeline knows under `ticket_id`.
    pub async fn report_by_ticket(&self, ticket_id: &str) -> Result<Option<String>, StoreError> {
        let ticket_id = ticket_id.to_owned();
        self.read(move |connection| Ok(connection.query_row("SELECT report_id FROM outbox WHERE ticket_id = ?1", [&ticket_id], |row| row.get(0)).optional()?)).await
    }

    /// Delivered reports that are not finished (neither resolved nor rejected), with the
    /// pipeline's ticket id, oldest first: what a status poll asks about.
    pub async fn open_tickets(&self, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        self.read(move |connection| {
            let mut statement = connection.prepare(
                "SELECT o.report_id, o.ticket_id FROM outbox o JOIN reports r ON r.id = o.report_id
                 WHERE o.state = 'delivered' AND o.ticket_id IS NOT NULL AND r.status NOT IN ('resolved', 'rejected')
                 ORDER BY r.created_ms LIMIT ?1",
            )?;
            let rows = statement.query_map([limit as i64], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
        .await
    }

    /// Replaces a report's ticket id (an Open311 token resolved to its request id).
    pub async fn set_ticket(&self, report_id: &str, ticket_id: &str) -> Result<(), StoreError> {
        let (report_id, ticket_id) = (report_id.to_owned(), ticket_id.to_owned());
        self.writer.write(move |connection| Ok(connection.execute("UPDATE outbox SET ticket_id = ?2 WHERE report_id = ?1", params![report_id, ticket_id]).map(|_| ())?)).await
    }

    /// Whether a report with this id exists.
    pub async fn report_exists(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.read(move |connection| Ok(connection.query_row("SELECT EXISTS (SELECT 1 FROM reports WHERE id = ?1)", [&id], |row| row.get(0))?)).await
    }

    /// Open reports of `category` within [`SAME_PLACE_M`] of a point in the last
    /// [`RELATED_DAYS`] days.
    pub async fn nearby_open(&self, category: &str, lat: f64, lon: f64) -> Result<usize, StoreError> {
        let category = category.to_owned();
        self.read(move |connection| Ok(related_reports(connection, &category, Some((lat, lon)), None, ids::now_ms())?.len())).await
    }

    /// Write transactions committed since start (group commit makes this smaller than the
    /// number of writes under load).
    pub fn commits(&self) -> u64 {
        self.writer.commits()
    }

    /// Proves the writer thread is alive and the database writable.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        self.writer.write(|connection| Ok(connection.execute_batch("CREATE TEMP TABLE IF NOT EXISTS ping (x); DELETE FROM ping;")?)).await
    }
}

/// The schema's migrations, in order; `PRAGMA user_version` records how many are applied.
/// Never edit a released migration: append a new one.
const MIGRATIONS: &[&str] = &[include_str!("schema.sql")];

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

/// Reports closer than this are "the same place".
pub const SAME_PLACE_M: f64 = 150.0;
/// How far back related reports are looked for.
pub const RELATED_DAYS: i64 = 30;
/// A report with this many related earlier reports (it is the third) is escalated.
pub const ESCALATE_AFTER: usize = 2;

/// Earlier open reports of `category` from the same phone (by keyed hash) or within
/// [`SAME_PLACE_M`] of `position`, in the last [`RELATED_DAYS`] days, oldest first.
fn related_reports(connection: &Connection, category: &str, position: Option<(f64, f64)>, phone_hash: Option<&str>, now_ms: i64) -> Result<Vec<String>, StoreError> {
    if position.is_none() && phone_hash.is_none() {
        return Ok(Vec::new());
    }
    // A bounding box narrows the candidates in SQL; the exact distance is checked below.
    let (lat, lon) = position.unwrap_or((f64::NAN, f64::NAN));
    let d_lat = SAME_PLACE_M / 111_000.0;
    let d_lon = d_lat / lat.to_radians().cos().abs().max(0.01);
    let mut statement = connection.prepare_cached(
        "SELECT r.id, r.lat, r.lon, c.phone_hash FROM reports r LEFT JOIN contacts c ON c.report_id = r.id
         WHERE r.category = ?1 AND r.created_ms >= ?2 AND r.status NOT IN ('resolved', 'rejected')
           AND ((?3 IS NOT NULL AND c.phone_hash = ?3) OR (r.lat BETWEEN ?4 AND ?5 AND r.lon BETWEEN ?6 AND ?7))
         ORDER BY r.created_ms",
    )?;
    let since = now_ms - RELATED_DAYS * 86_400_000;
    let rows = statement.query_map(params![category, since, phone_hash, lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, Option<f64>>(1)?, row.get::<_, Option<f64>>(2)?, row.get::<_, Option<String>>(3)?))
    })?;
    let mut related = Vec::new();
    for row in rows {
        let (id, other_lat, other_lon, other_phone) = row?;
        let same_person = phone_hash.is_some() && other_phone.as_deref() == phone_hash;
        let same_place = matches!((position, other_lat, other_lon), (Some((lat, lon)), Some(other_lat), Some(other_lon)) if geo::distance_m(lat, lon, other_lat, other_lon) <= SAME_PLACE_M);
        if same_person || same_place {
            related.push(id);
        }
    }
    Ok(related)
}

fn find_by_key(connection: &Connection, key: &str) -> Result<Option<(Receipt, String)>, StoreError> {
    Ok(connection
        .query_row("SELECT id, tracking_no, created_ms, request_hash FROM reports WHERE idempotency_key = ?1", [key], |row| {
            Ok((receipt(row.get(0)?, row.get(1)?, row.get(2)?), row.get(3)?))
        })
        .optional()?)
}

fn receipt(id: String, tracking_no: String, created_ms: i64) -> Receipt {
    Receipt { status_url: format!("/api/v1/reports/{tracking_no}"), id, tracking_no, created_at: ids::rfc3339(created_ms) }
}

fn parse_status(text: &str) -> Result<Status, StoreError> {
    Ok(serde_json::from_value(serde_json::Value::String(text.to_owned()))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lianxin_contract::RequestKind;

    fn new_report(key: usize) -> NewReport {
        NewReport {
            id: ids::new_report_id(),
            idempotency_key: format!("key-{key}"),
            request_hash: "hash".into(),
            department: "urban_management".into(),
            district: None,
            report: ReportSubmission {
                category: "manhole_cover".into(),
                kind: RequestKind::Complaint,
                description: "井盖".into(),
                fields: Default::default(),
                location: None,
                contact: None,
                lang: Default::default(),
            },
            photos: Vec::new(),
        }
    }

    #[test]
    fn reopening_applies_no_migration_twice_and_a_newer_database_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path(), ContactCipher::new([1; 32])).unwrap());
        drop(Store::open(dir.path(), ContactCipher::new([1; 32])).unwrap());
        let connection = Connection::open(dir.path().join("lianxin.sqlite3")).unwrap();
        let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0)).unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
        connection.pragma_update(None, "user_version", 99).unwrap();
        drop(connection);
        let error = Store::open(dir.path(), ContactCipher::new([1; 32])).unwrap_err().to_string();
        assert!(error.contains("newer than this server knows"), "{error}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_reports_share_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), ContactCipher::new([1; 32])).unwrap();
        let before = store.commits();
        let inserts = (0..200).map(|key| {
            let store = store.clone();
            tokio::spawn(async move { store.insert_report(new_report(key)).await })
        });
        for insert in inserts.collect::<Vec<_>>() {
            assert!(matches!(insert.await.unwrap().unwrap(), Inserted::Created(_)));
        }
        let commits = store.commits() - before;
        assert!(commits < 200, "200 reports took {commits} commits");
        assert_eq!(store.outbox_stats().await.unwrap().pending, 200, "every report has its outbox row");
    }
}
