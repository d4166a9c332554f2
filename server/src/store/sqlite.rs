//! The SQLite engine: one file (WAL, `synchronous=FULL`) in the data directory. Writes go
//! through the group-commit [`Writer`]; reads use their own connection. Schema changes are
//! ordered migrations counted by `PRAGMA user_version`.

use std::path::Path;
use std::sync::{Arc, Mutex};

use lianxin_contract::Receipt;
use lianxin_contract::pipeline::{PipelinePhoto, PipelineReport};
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, params};

use super::just_stored::JustStored;
use super::writer::Writer;
use super::{
    ANSWER_FIGURES, APPEND_STEP, COUNTED, CURRENT, Candidate, ChangeRow, CountedRow, CurrentRow, DUE_MESSAGES, INSERT_ANSWER, INSERT_MESSAGE, Inserted, LAST_STEP, LISTED_BETWEEN, LISTED_BY_NUMBER,
    ListedRow, LoopFigures, MESSAGE_BODY, MESSAGE_DELIVERED, MESSAGE_FAILED, NewReport, OPEN_TICKETS, OVERDUE_FIGURES, OutboxEntry, OutboxStats, Outgoing, PHOTO_IN_USE, PUBLIC_VIEW, PURGE_DUE,
    Purged, RELATED_SCAN, Related, Rows, Search, StepRow, StoreError, TIMELINE, UPDATE_LIFECYCLE, ViewRow, decide, merge_figures, message_json, outbox_body, receipt, related_ids_sql, scrubbed_body,
    wire,
};
use super::{CLASS_ENSURE, CLASS_JOIN, CLASS_MEMBERS, CLASS_STATE, CLASS_UPDATE, INSERT_SUPPORT, NEARBY_LIST, NearbyRow, SUPPORTERS, seen_check};
use crate::ids;
use crate::lifecycle::{Change, Input, Outcome, Policy, Refusal};
use crate::privacy::ContactCipher;
use crate::tracking::{self, Numbering};

/// The schema's migrations, in order; `PRAGMA user_version` records how many are applied.
/// Never edit a released migration: append a new one.
pub(super) const MIGRATIONS: &[&str] = &[
    include_str!("sqlite/001_schema.sql"),
    include_str!("sqlite/002_leases.sql"),
    include_str!("sqlite/003_bounded_relations.sql"),
    include_str!("sqlite/004_indexes_as_postgres.sql"),
    include_str!("sqlite/005_follow_up.sql"),
    include_str!("sqlite/006_open311.sql"),
    include_str!("sqlite/007_support.sql"),
    include_str!("sqlite/008_classes.sql"),
    include_str!("sqlite/009_support_photo.sql"),
    include_str!("sqlite/010_class_members_newest.sql"),
    include_str!("sqlite/011_state_checks_as_comparisons.sql"),
    include_str!("sqlite/012_tracking_sequence.sql"),
];

/// A new report (the values in the order `insert_report` binds them), `received`.
const INSERT_REPORT: &str = "INSERT INTO reports (id, tracking_no, idempotency_key, request_hash, category, department, district, kind, body, status, created_ms, lat, lon, escalate, related_count, sender_hash, limit_ms, due_ms, source, tracking_seq)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'received', ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)";
/// The next tracking sequence number: one past the last, read from the end of the
/// sequence's index (a page the insert changes anyway; a counter row of its own was one
/// more page for every commit). Reports are never deleted (the retention purge empties
/// them), so a number is never given twice.
const NEXT_TRACKING_SEQ: &str = "SELECT COALESCE(MAX(tracking_seq), 0) + 1 FROM reports";
/// Whether `?1` is the number of a report numbered before the sequence (drawn at random).
const DRAWN_BEFORE: &str = "SELECT EXISTS (SELECT 1 FROM reports WHERE tracking_no = ?1 AND tracking_seq IS NULL)";
/// Report `?1`'s outbox row, due at `?2`.
const INSERT_OUTBOX: &str = "INSERT INTO outbox (report_id, state, next_attempt_ms) VALUES (?1, 'pending', ?2)";
/// Report `?1`'s first timeline step, at `?2`.
const RECEIVED_STEP: &str = "INSERT INTO timeline (report_id, seq, step, status, at_ms) VALUES (?1, 1, 'received', 'received', ?2)";
/// Whether report `?1`'s timeline has its `forwarded` step (SQLite's half of the shared
/// `FORWARDED_STEP`'s guard).
const FORWARDED_STEP_RECORDED: &str = "SELECT EXISTS (SELECT 1 FROM timeline WHERE report_id = ?1 AND step = 'forwarded')";
/// Report `?1`'s `forwarded` step at `?2`, numbered after its last, with its status now
/// (SQLite's half of the shared `FORWARDED_STEP`'s insert).
const FORWARDED_STEP_VALUES: &str = "INSERT INTO timeline (report_id, seq, step, status, at_ms)
     VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM timeline WHERE report_id = ?1), 'forwarded', (SELECT status FROM reports WHERE id = ?1), ?2)";

/// Leases up to `?4` reports due at `?3` to owner `?1` until `?2`, the longest waiting first.
const CLAIM_DUE: &str = "UPDATE outbox SET lease_owner = ?1, lease_until_ms = ?2
     WHERE report_id IN (SELECT report_id FROM outbox
                         WHERE state = 'pending' AND next_attempt_ms <= ?3 AND (lease_until_ms IS NULL OR lease_until_ms <= ?3)
                         ORDER BY next_attempt_ms LIMIT ?4)
     RETURNING report_id";

/// Sends the dead-lettered report with id or tracking number `?1` (sequence number `?2`)
/// again from `?3`.
fn requeue_one_sql() -> String {
    format!(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?3, lease_owner = NULL, lease_until_ms = NULL
         WHERE state = 'dead_letter' AND report_id IN ({})",
        numbered(super::ID_BY_ID_OR_NUMBER)
    )
}

/// Leases up to `?4` messages due at `?3` to owner `?1` until `?2` (`DUE_MESSAGES`).
fn claim_messages_sql() -> String {
    format!("UPDATE messages SET lease_owner = ?1, lease_until_ms = ?2 WHERE id IN ({}) RETURNING id", numbered(DUE_MESSAGES))
}

/// The database file's name in the data directory.
pub const FILE_NAME: &str = "lianxin.sqlite3";

/// Handle to the SQLite store; cheap to clone.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: Writer,
    reader: Arc<Mutex<Connection>>,
    cipher: ContactCipher,
    /// The tracking numbers shown for the sequence numbers (the key is the database's).
    numbering: Numbering,
    /// Reports just stored, for the forwarder's next round (see [`JustStored`]).
    just_stored: Arc<JustStored>,
}

/// Each connection's page cache, in KiB (SQLite's negative `cache_size`). Both read the
/// database file through the memory map, so a cache holds the pages a transaction changed
/// or read from the WAL, and little else. Kept small because SQLite walks the whole cache
/// whenever it drops pages: the writer at the commit after a b-tree balance that swapped two
/// pages (`balance_nonroot` parks one at the lock-byte page's number, past the end of the
/// file, and the commit drops every cached page past the end), the reader at each read
/// transaction that finds the WAL changed (every forwarder round under load). At 32 MB that
/// walk was a tenth of the writer's time in a JSON run; at 2 MB it is gone from the profile.
const CACHE_KIB: i64 = -2_048;

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.busy_timeout(std::time::Duration::from_secs(5))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.pragma_update(None, "cache_size", CACHE_KIB)?;
    connection.pragma_update(None, "mmap_size", 268_435_456)?;
    connection.pragma_update(None, "wal_autocheckpoint", 10_000)?;
    // SQLite plans a statement with a bound `LIMIT` (and a few other bound values) for the
    // value bound at the time, so binding another value throws the plan away: the claims
    // and scans with `LIMIT ?n` were parsed and planned again at every run, 8 % of the
    // writer's time in a JSON run. With the planner's stability guarantee a statement keeps
    // one plan whatever is bound (`same_plan_whatever_is_bound`).
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(connection)
}

impl SqliteStore {
    /// Opens (creating if needed) `lianxin.sqlite3` in `data_dir` and applies the migrations.
    pub fn open(data_dir: &Path, cipher: ContactCipher) -> Result<SqliteStore, StoreError> {
        let path = data_dir.join(FILE_NAME);
        let connection = open_connection(&path)?;
        // Statement journals (a savepoint's, when a failed group runs again with one per
        // job, and a statement's own) keep the original of every page they change; in
        // memory that is a copy, in a temporary file (the default past 64 KB) it was most of
        // what the writer wrote while every job had its savepoint: 24 write calls and 52 KB
        // per JSON report, 7 and 14 KB without it (the bench's writer rows).
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        migrate(&connection)?;
        let numbering = numbering(&connection)?;
        let reader = open_connection(&path)?;
        Ok(SqliteStore { writer: Writer::start(connection), reader: Arc::new(Mutex::new(reader)), cipher, numbering, just_stored: Arc::default() })
    }

    /// The sequence number behind a typed tracking number, for the look-ups by number: NULL
    /// for text that is not a number (then only a number drawn before the sequence matches).
    fn sequence(&self, tracking_no: &str) -> Option<i64> {
        self.numbering.sequence(tracking_no).map(|sequence| sequence as i64)
    }

    /// Runs `work` in the writer's next group. Any write that may change a stored report
    /// goes this way: when it runs, the reports kept for the forwarder are forgotten.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.write_forgetting(JustStored::forget_all, work).await
    }

    /// Runs `work`, which changes stored report `id` and no other, in the writer's next
    /// group: when it runs, only that report is forgotten (pipeline events and answers come
    /// as often as reports; forgetting every kept report at each would leave the forwarder
    /// reading back nearly all).
    async fn write_report<T, F>(&self, id: &str, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let id = id.to_owned();
        self.write_forgetting(move |just_stored| just_stored.forget(&id), work).await
    }

    /// Runs `work` in the writer's next group after `forget` (on the writer thread, in job
    /// order, at every run of the job).
    async fn write_forgetting<T, F>(&self, forget: impl Fn(&JustStored) + Send + 'static, mut work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let just_stored = self.just_stored.clone();
        self.writer
            .write(move |connection| {
                forget(&just_stored);
                work(connection)
            })
            .await
    }

    /// Runs `work` in the writer's next group, keeping the reports kept for the forwarder:
    /// only for a new report's insert and the outbox's and messages' own bookkeeping
    /// (leases, deliveries, failures), which change nothing the pipeline receives.
    async fn write_leaving_reports<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.write(work).await
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
        // The body, the sealed contact and the keyed hashes need no database: made here, they
        // stay out of the single writer's turn.
        let rows = Rows::of(&new.report, new.sender.as_deref(), &self.cipher)?;
        // What the pipeline will receive, all but what the writer draws: kept for the
        // forwarder by the job that stores it (the forwarder reads back only what is not).
        let mut forwarded = Some(PipelineReport {
            id: new.id.clone(),
            tracking_no: String::new(),
            created_at: String::new(),
            department: new.department.clone(),
            district: new.district.clone(),
            report: rows.forwarded,
            photos: new.photos.iter().map(|photo| PipelinePhoto { sha256: photo.sha256.clone(), width: photo.width, height: photo.height, url: None }).collect(),
            related: Vec::new(),
            related_count: 0,
            escalate: false,
            due_at: None,
        });
        let just_stored = self.just_stored.clone();
        let numbering = self.numbering.clone();
        self.write_leaving_reports(move |connection| {
            let now = ids::now_ms();
            let related = related_reports(connection, Search::new(&rows.category, rows.lat.zip(rows.lon), rows.phone_hash.as_deref(), rows.sender_hash.as_deref(), now))?;
            let (tracking_seq, tracking_no) = next_tracking_number(connection, &numbering)?;
            // The unique index answers in the insert itself, without a look-up before it: a
            // key stored before is a retry (its receipt is found; the sequence number taken
            // is rolled back with the job).
            {
                let inserted = connection.prepare_cached(INSERT_REPORT)?.execute(params![
                    new.id,
                    tracking_no,
                    new.idempotency_key,
                    new.request_hash,
                    rows.category,
                    new.department,
                    new.district,
                    rows.kind,
                    rows.body,
                    now,
                    rows.lat,
                    rows.lon,
                    related.escalate,
                    related.count as i64,
                    rows.sender_hash,
                    new.limit_ms,
                    new.limit_ms.map(|limit| now + limit),
                    new.source,
                    tracking_seq
                ]);
                if let Err(error) = inserted {
                    if unique_violation(&error) != Some("reports.idempotency_key") {
                        return Err(error.into());
                    }
                    let (receipt, hash) = find_by_key(connection, &new.idempotency_key)?.ok_or(StoreError::Sqlite(error))?;
                    return Ok(Inserted::Existing { receipt, same_request: hash == new.request_hash });
                }
            }
            for related_id in &related.ids {
                connection.prepare_cached("INSERT INTO relations (report_id, related_id) VALUES (?1, ?2)")?.execute(params![new.id, related_id])?;
            }
            let member = crate::classes::Member { id: &new.id, tracking_no: &tracking_no, department: &new.department, category: &rows.category };
            for class in &new.classes {
                connection.prepare_cached(&numbered(CLASS_ENSURE))?.execute(params![class.key, rows.category, class.kind.code(), class.label, now])?;
                let stored = connection
                    .prepare_cached(&numbered(CLASS_STATE))?
                    .query_row([&class.key], |row| Ok(crate::classes::ClassState { generation: row.get(0)?, members: row.get(1)?, first_ms: row.get(2)?, last_ms: row.get(3)? }))?;
                let joined = crate::classes::join(Some(stored), class.kind, now, &new.class_rules.effective(&rows.category));
                let state = joined.state;
                connection.prepare_cached(&numbered(CLASS_UPDATE))?.execute(params![class.key, state.generation, state.members, state.first_ms, state.last_ms])?;
                connection.prepare_cached(&numbered(CLASS_JOIN))?.execute(params![class.key, state.generation, new.id, now])?;
                if joined.message.is_some() || joined.hotspot {
                    let members = connection.prepare_cached(&numbered(CLASS_MEMBERS))?.query_map(params![class.key, state.generation], |row| row.get(0))?.collect::<Result<Vec<String>, _>>()?;
                    for (index, message) in crate::classes::messages(&joined, class, &member, members).iter().enumerate() {
                        connection.prepare_cached(&numbered(INSERT_MESSAGE))?.execute(params![message.id, new.id, message.message.code(), message_json(message)?, now + index as i64])?;
                    }
                }
            }
            for (position, photo) in new.photos.iter().enumerate() {
                connection.prepare_cached("INSERT INTO photos (report_id, position, sha256, width, height, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![
                    new.id,
                    position as i64,
                    photo.sha256,
                    photo.width,
                    photo.height,
                    photo.bytes as i64
                ])?;
            }
            if rows.consented {
                connection.prepare_cached("INSERT INTO contacts (report_id, name_sealed, phone_sealed, phone_hash) VALUES (?1, ?2, ?3, ?4)")?.execute(params![
                    new.id,
                    rows.name_sealed,
                    rows.phone_sealed,
                    rows.phone_hash
                ])?;
            }
            connection.prepare_cached(INSERT_OUTBOX)?.execute(params![new.id, now])?;
            connection.prepare_cached(RECEIVED_STEP)?.execute(params![new.id, now])?;
            // A report related to others is read back: the relations' order is the
            // database's. A job run again (its group ran again after another job failed)
            // drew another tracking number and time than its first run kept: read back too.
            match forwarded.take() {
                Some(mut message) if related.count == 0 => {
                    message.tracking_no = tracking_no.clone();
                    message.created_at = ids::rfc3339(now);
                    message.due_at = new.limit_ms.map(|limit| ids::rfc3339(now + limit));
                    just_stored.keep(Outgoing { message, created_ms: now });
                }
                _ => just_stored.forget(&new.id),
            }
            Ok(Inserted::Created(receipt(new.id.clone(), tracking_no, now)))
        })
        .await
    }

    pub(super) async fn public_view(&self, tracking_no: &str) -> Result<Option<(ViewRow, Vec<StepRow>)>, StoreError> {
        let (tracking_no, sequence) = (tracking_no.to_owned(), self.sequence(tracking_no));
        self.read(move |connection| {
            let Some((id, view)) = connection
                .prepare_cached(&numbered(PUBLIC_VIEW))?
                .query_row(params![tracking_no, sequence], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        ViewRow {
                            category: row.get(1)?,
                            status: row.get(2)?,
                            created_ms: row.get(3)?,
                            department: row.get(4)?,
                            due_ms: row.get(5)?,
                            handlings: row.get(6)?,
                            supervised_ms: row.get(7)?,
                            supervised_reason: row.get(8)?,
                            resolved_ms: row.get(9)?,
                            duplicate_of: row.get(10)?,
                            supporters: row.get(11)?,
                            class_size: row.get(12)?,
                        },
                    ))
                })
                .optional()?
            else {
                return Ok(None);
            };
            let timeline = connection.prepare_cached(&numbered(TIMELINE))?.query_map([&id], step_row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(Some((view, timeline)))
        })
        .await
    }

    pub(super) async fn advance(&self, report_id: &str, input: Input, policy: Policy) -> Result<Result<Outcome, Refusal>, StoreError> {
        let id = report_id.to_owned();
        // `write_change` writes report `id`'s row and its own timeline, support, answer and
        // messages: no other report's.
        self.write_report(report_id, move |connection| {
            let row = connection
                .prepare_cached(&numbered(CURRENT))?
                .query_row([&id], |row| {
                    Ok(CurrentRow {
                        id: row.get(0)?,
                        tracking_no: row.get(1)?,
                        status: row.get(2)?,
                        department: row.get(3)?,
                        handlings: row.get(4)?,
                        supervised_ms: row.get(5)?,
                        due_ms: row.get(6)?,
                        limit_ms: row.get(7)?,
                        resolved_ms: row.get(8)?,
                    })
                })
                .optional()?;
            let current = match row {
                Some(row) => {
                    let last = connection.prepare_cached(&numbered(LAST_STEP))?.query_row([&id], step_row).optional()?;
                    let seen = match seen_check(&input) {
                        Some((sql, key)) => connection.prepare_cached(&numbered(sql))?.query_row(params![id, key], |row| row.get(0))?,
                        None => false,
                    };
                    let supporters: i64 = connection.prepare_cached(&numbered(SUPPORTERS))?.query_row([&id], |row| row.get(0))?;
                    Some(row.into_current(last, seen, supporters)?)
                }
                None => None,
            };
            let outcome = decide(current, input.clone(), &policy);
            if let Ok(Outcome::Changed(change)) = &outcome {
                write_change(connection, &id, change)?;
            }
            Ok(outcome)
        })
        .await
    }

    pub(super) async fn nearby_rows(&self, category: String, since_ms: i64, bounds: [f64; 4]) -> Result<Vec<NearbyRow>, StoreError> {
        self.read(move |connection| {
            let [min_lat, max_lat, min_lon, max_lon] = bounds;
            Ok(connection
                .prepare_cached(&numbered(NEARBY_LIST))?
                .query_map(params![category, since_ms, min_lat, max_lat, min_lon, max_lon], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?))
                })?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn listed_one(&self, tracking_no: &str) -> Result<Option<ListedRow>, StoreError> {
        let (tracking_no, sequence) = (tracking_no.to_owned(), self.sequence(tracking_no));
        self.read(move |connection| Ok(connection.prepare_cached(&numbered(LISTED_BY_NUMBER))?.query_row(params![tracking_no, sequence], listed_row).optional()?)).await
    }

    pub(super) async fn listed_between(&self, since_ms: i64, until_ms: i64, category: String, status: &'static str, limit: usize) -> Result<Vec<ListedRow>, StoreError> {
        self.read(move |connection| {
            Ok(connection.prepare_cached(&numbered(LISTED_BETWEEN))?.query_map(params![since_ms, until_ms, category, status, limit as i64], listed_row)?.collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn counted_rows(&self, from_ms: i64, to_ms: i64) -> Result<Vec<CountedRow>, StoreError> {
        self.read(move |connection| {
            Ok(connection
                .prepare_cached(&numbered(COUNTED))?
                .query_map(params![from_ms, to_ms], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?)))?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn public_class_rows(&self, min_members: i64, from_ms: i64, to_ms: i64) -> Result<Vec<super::PublicClass>, StoreError> {
        self.read(move |connection| {
            Ok(connection
                .prepare_cached(&numbered(super::PUBLIC_CLASSES))?
                .query_map(params![min_members, from_ms, to_ms], |row| {
                    Ok(super::PublicClass { category: row.get(0)?, kind: row.get(1)?, members: row.get(2)?, district: row.get(3)?, resolved: row.get(4)? })
                })?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    pub(super) async fn class_rows(&self, limit: usize) -> Result<Vec<super::ClassRow>, StoreError> {
        self.read(move |connection| {
            Ok(connection
                .prepare_cached(&numbered(super::CLASS_LIST))?
                .query_map([limit as i64], |row| {
                    Ok(super::ClassRow {
                        key: row.get(0)?,
                        category: row.get(1)?,
                        kind: row.get(2)?,
                        label: row.get(3)?,
                        generation: row.get(4)?,
                        members: row.get(5)?,
                        first_at: ids::rfc3339(row.get(6)?),
                        last_at: ids::rfc3339(row.get(7)?),
                    })
                })?
                .collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The text `sql` selects for `$1`, a tracking number (or an id) whose sequence number
    /// is bound to `$2`.
    pub(super) async fn text_by_number(&self, sql: &'static str, key: String) -> Result<Option<String>, StoreError> {
        let sequence = self.sequence(&key);
        self.read(move |connection| Ok(connection.prepare_cached(&numbered(sql))?.query_row(params![key, sequence], |row| row.get(0)).optional()?)).await
    }

    pub(super) async fn ids_due(&self, sql: &'static str, before_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        self.read(move |connection| Ok(connection.prepare_cached(&numbered(sql))?.query_map(params![before_ms, limit as i64], |row| row.get(0))?.collect::<Result<_, _>>()?)).await
    }

    pub(super) async fn claim_messages(&self, owner: &str, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let owner = owner.to_owned();
        self.write_leaving_reports(move |connection| {
            let ids = connection.prepare_cached(&claim_messages_sql())?.query_map(params![owner, lease_until_ms, now_ms, limit as i64], |row| row.get(0))?.collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .await
    }

    pub(super) async fn message_row(&self, id: &str) -> Result<(String, Option<String>, i64, u32), StoreError> {
        let id = id.to_owned();
        self.read(move |connection| Ok(connection.prepare_cached(&numbered(MESSAGE_BODY))?.query_row([&id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))?)).await
    }

    pub(super) async fn message_delivered(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_owned();
        self.write_leaving_reports(move |connection| Ok(connection.prepare_cached(&numbered(MESSAGE_DELIVERED))?.execute(params![id, ids::now_ms()]).map(|_| ())?)).await
    }

    pub(super) async fn message_failed(&self, id: &str, error: String, next_attempt_ms: i64, dead_letter: bool) -> Result<u32, StoreError> {
        let id = id.to_owned();
        let state = if dead_letter { "dead_letter" } else { "pending" };
        self.write_leaving_reports(move |connection| Ok(connection.prepare_cached(&numbered(MESSAGE_FAILED))?.query_row(params![id, state, error, next_attempt_ms], |row| row.get(0))?)).await
    }

    pub(super) async fn loop_figures(&self, now_ms: i64) -> Result<Vec<LoopFigures>, StoreError> {
        self.read(move |connection| {
            let answered = connection
                .prepare_cached(ANSWER_FIGURES)?
                .query_map([], |row| {
                    Ok(LoopFigures { department: row.get(0)?, category: row.get(1)?, rated: row.get(2)?, satisfied: row.get(3)?, unsolved: row.get(4)?, silent: row.get(5)?, overdue: 0 })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let overdue = connection.prepare_cached(&numbered(OVERDUE_FIGURES))?.query_map([now_ms], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
            Ok(merge_figures(answered, overdue))
        })
        .await
    }

    pub(super) async fn claim_due(&self, owner: &str, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let owner = owner.to_owned();
        let just_stored = self.just_stored.clone();
        self.write_leaving_reports(move |connection| {
            // An operator's command on the same file (another connection) may have
            // changed a stored report: SQLite counts other connections' commits.
            just_stored.note_data_version(connection.prepare_cached("PRAGMA data_version")?.query_row([], |row| row.get(0))?);
            let mut statement = connection.prepare_cached(CLAIM_DUE)?;
            let ids = statement.query_map(params![owner, lease_until_ms, now_ms, limit as i64], |row| row.get(0))?.collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .await
    }

    pub(super) async fn release_all_leases(&self) -> Result<(), StoreError> {
        self.write_leaving_reports(|connection| {
            connection.execute("UPDATE outbox SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner IS NOT NULL", [])?;
            connection.execute("UPDATE messages SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner IS NOT NULL", [])?;
            Ok(())
        })
        .await
    }

    pub(super) async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        let owner = owner.to_owned();
        self.write_leaving_reports(move |connection| {
            connection.execute("UPDATE outbox SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = ?1 AND state = 'pending'", [&owner])?;
            connection.execute("UPDATE messages SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = ?1 AND state = 'pending'", [&owner])?;
            Ok(())
        })
        .await
    }

    pub(super) async fn outbox_report(&self, id: &str) -> Result<Outgoing, StoreError> {
        let id = id.to_owned();
        let cipher = self.cipher.clone();
        self.read(move |connection| {
            let snapshot = connection.unchecked_transaction()?;
            let report = outgoing(&snapshot, id, &cipher)?;
            snapshot.commit()?;
            Ok(report)
        })
        .await
    }

    /// The reports `ids`: those just stored as the writer kept them, the rest read back in
    /// one read transaction (one snapshot and one warm page cache for a forwarder round,
    /// not one of each per report).
    pub(super) async fn outbox_reports(&self, ids: Vec<String>) -> Result<Vec<Outgoing>, StoreError> {
        let kept = self.just_stored.take(&ids);
        let missing: Vec<String> = ids.into_iter().zip(&kept).filter(|(_, kept)| kept.is_none()).map(|(id, _)| id).collect();
        if missing.is_empty() {
            return Ok(kept.into_iter().flatten().collect());
        }
        let cipher = self.cipher.clone();
        let mut read = self
            .read(move |connection| {
                let snapshot = connection.unchecked_transaction()?;
                let reports = missing.into_iter().map(|id| outgoing(&snapshot, id, &cipher)).collect::<Result<Vec<_>, _>>()?;
                snapshot.commit()?;
                Ok(reports)
            })
            .await?
            .into_iter();
        Ok(kept.into_iter().filter_map(|kept| kept.or_else(|| read.next())).collect())
    }

    pub(super) async fn mark_delivered(&self, delivered: Vec<(String, Option<String>)>) -> Result<(), StoreError> {
        self.write_leaving_reports(move |connection| {
            let now = ids::now_ms();
            for (id, ticket_id) in &delivered {
                connection.prepare_cached(&numbered(super::MARK_DELIVERED))?.execute(params![id, ticket_id, now])?;
                connection.prepare_cached(&numbered(super::REPORT_FORWARDED))?.execute([id])?;
                // The shared `FORWARDED_STEP` is one `INSERT … SELECT` reading the timeline it
                // writes, which SQLite runs through a temporary b-tree for every report; asked
                // first and then inserted from values, it builds none.
                let recorded: bool = connection.prepare_cached(FORWARDED_STEP_RECORDED)?.query_row([id], |row| row.get(0))?;
                if !recorded {
                    connection.prepare_cached(FORWARDED_STEP_VALUES)?.execute(params![id, now])?;
                }
            }
            Ok(())
        })
        .await
    }

    pub(super) async fn mark_failed(&self, id: &str, error: String, next_attempt_ms: i64, dead_letter: bool) -> Result<u32, StoreError> {
        let id = id.to_owned();
        self.write_leaving_reports(move |connection| {
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
        let sequence = which.as_deref().and_then(|which| self.sequence(which));
        self.write(move |connection| {
            let now = ids::now_ms();
            let changed = match &which {
                Some(which) => connection.execute(&requeue_one_sql(), params![which, sequence, now])?,
                None => connection.execute("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = ?1, lease_owner = NULL, lease_until_ms = NULL WHERE state = 'dead_letter'", [now])?,
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

    pub(super) async fn purge_due(&self, final_before_ms: i64, created_before_ms: i64) -> Result<Purged, StoreError> {
        self.write(move |connection| {
            let now = ids::now_ms();
            let due: Vec<(String, String)> =
                connection.prepare(&numbered(PURGE_DUE))?.query_map(params![final_before_ms, created_before_ms], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
            let mut hashes = Vec::new();
            for (id, body) in &due {
                connection.prepare_cached(&numbered(super::PURGE_REPORT))?.execute(params![id, now, scrubbed_body(body)?])?;
                for statement in super::PURGE_PERSONAL {
                    connection.prepare_cached(&numbered(statement))?.execute([id])?;
                }
                let mut photos = connection.prepare_cached(&numbered(super::REPORT_PHOTOS))?;
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
        self.write(move |connection| Ok(connection.execute("UPDATE outbox SET ticket_id = ?2 WHERE report_id = ?1", params![report_id, ticket_id]).map(|_| ())?)).await
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
        self.write_leaving_reports(|connection| Ok(connection.execute_batch("CREATE TEMP TABLE IF NOT EXISTS ping (x); DELETE FROM ping;")?)).await
    }
}

/// Report `id` as the pipeline receives it, read on `connection`.
fn outgoing(connection: &Connection, id: String, cipher: &ContactCipher) -> Result<Outgoing, StoreError> {
    let (tracking_no, department, district, body, created_ms, escalate, related_count, due_ms) =
        connection.prepare_cached("SELECT tracking_no, department, district, body, created_ms, escalate, related_count, due_ms FROM reports WHERE id = ?1")?.query_row([&id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, bool>(5)?,
                row.get::<_, u32>(6)?,
                row.get::<_, Option<i64>>(7)?,
            ))
        })?;
    // Relations are written with the report and counted in it: most reports have none.
    let related = if related_count == 0 { Vec::new() } else { connection.prepare_cached(&numbered(&related_ids_sql()))?.query_map([&id], |row| row.get(0))?.collect::<Result<Vec<String>, _>>()? };
    let contact = connection.prepare_cached("SELECT name_sealed, phone_sealed FROM contacts WHERE report_id = ?1")?.query_row([&id], |row| Ok((row.get(0)?, row.get(1)?))).optional()?;
    let report = outbox_body(&body, contact, cipher)?;
    let mut statement = connection.prepare_cached("SELECT sha256, width, height FROM photos WHERE report_id = ?1 ORDER BY position")?;
    let photos = statement.query_map([&id], |row| Ok(PipelinePhoto { sha256: row.get(0)?, width: row.get(1)?, height: row.get(2)?, url: None }))?.collect::<Result<_, _>>()?;
    Ok(Outgoing {
        message: PipelineReport { id, tracking_no, created_at: ids::rfc3339(created_ms), department, district, report, photos, related, related_count, escalate, due_at: due_ms.map(ids::rfc3339) },
        created_ms,
    })
}

/// A statement shared with the PostgreSQL engine, for SQLite: `$N` placeholders become
/// `?N`. (SQLite reads `$N` as a named parameter numbered by first appearance, so `$2`
/// before `$1` in the text would swap the values.) The shared statements hold no `$` else.
fn numbered(sql: &str) -> String {
    sql.replace('$', "?")
}

/// A listing row as [`LISTED_BY_NUMBER`] and [`LISTED_BETWEEN`] select it.
fn listed_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ListedRow> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?, row.get(6)?, row.get(7)?, row.get(8)?, row.get(9)?))
}

/// A timeline row as [`LAST_STEP`] and [`TIMELINE`] select it.
fn step_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StepRow> {
    Ok(StepRow { step: row.get(0)?, status: row.get(1)?, at_ms: row.get(2)?, message: row.get(3)?, detail: row.get(4)? })
}

/// Writes what the lifecycle decided, inside the writer's transaction.
fn write_change(connection: &Connection, id: &str, change: &Change) -> Result<(), StoreError> {
    let row = ChangeRow::of(change);
    connection.prepare_cached(&numbered(UPDATE_LIFECYCLE))?.execute(params![
        id,
        row.status,
        row.department,
        row.handlings,
        row.due_ms,
        row.resolved_ms,
        row.supervised_ms,
        row.supervised_reason,
        row.duplicate_of
    ])?;
    for step in &change.steps {
        connection.prepare_cached(&numbered(APPEND_STEP))?.execute(params![id, wire(step.step), wire(step.status), step.at_ms, step.message, step.detail.to_json()])?;
    }
    if let Some(support) = &change.support {
        let comment = (!support.comment.is_empty()).then_some(&support.comment);
        connection.prepare_cached(&numbered(INSERT_SUPPORT))?.execute(params![id, support.supporter, comment, ids::now_ms(), support.photo_sha256])?;
    }
    if let Some(answer) = &change.answer {
        connection.prepare_cached(&numbered(INSERT_ANSWER))?.execute(params![
            id,
            answer.round,
            answer.answer_id,
            answer.solved.map(i32::from),
            answer.rating.map(|rating| rating.code()),
            answer.reasons,
            answer.comment,
            answer.at_ms
        ])?;
    }
    let now = ids::now_ms();
    for (index, message) in change.messages.iter().enumerate() {
        // A millisecond apart, so the messages of one change go out in their order.
        connection.prepare_cached(&numbered(INSERT_MESSAGE))?.execute(params![message.id, id, message.message.code(), message_json(message)?, now + index as i64])?;
    }
    Ok(())
}

/// Applies the migrations the database has not seen yet, each in its own transaction.
fn migrate(connection: &Connection) -> Result<(), StoreError> {
    migrate_to(connection, MIGRATIONS.len())
}

/// Applies the migrations not yet applied of the first `count`, each in its transaction.
/// A migration that makes a table again drops the one other tables refer to: they run with
/// foreign keys off (SQLite's way to change a table's definition; it cannot be switched
/// inside a transaction), and each commits only when every reference still finds its row.
fn migrate_to(connection: &Connection, count: usize) -> Result<(), StoreError> {
    let applied: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if applied as usize > MIGRATIONS.len() {
        return Err(StoreError::SchemaTooNew { found: applied, known: MIGRATIONS.len() });
    }
    let enforced: bool = connection.pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
    connection.pragma_update(None, "foreign_keys", false)?;
    let migrated = (|| {
        for (index, migration) in MIGRATIONS.iter().enumerate().take(count).skip(applied as usize) {
            connection.execute_batch(&format!("BEGIN; {migration}"))?;
            let broken = connection.prepare("PRAGMA foreign_key_check")?.exists([])?;
            if broken {
                return Err(StoreError::MigrationBrokeReferences(index + 1));
            }
            connection.execute_batch(&format!("PRAGMA user_version = {}; COMMIT;", index + 1))?;
        }
        Ok(())
    })();
    // A migration that failed left its transaction open: nothing of it stays.
    let rolled_back = if connection.is_autocommit() { Ok(()) } else { connection.execute_batch("ROLLBACK") };
    connection.pragma_update(None, "foreign_keys", enforced)?;
    migrated?;
    Ok(rolled_back?)
}

/// The permutation's key: 32 random bytes written by the first start with migration 12,
/// the database's own from then on (a copy of the file finds its reports by the same
/// numbers).
fn numbering(connection: &Connection) -> Result<Numbering, StoreError> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("the operating system's random source works");
    connection.execute("INSERT INTO tracking_key (key) SELECT ?1 WHERE NOT EXISTS (SELECT 1 FROM tracking_key)", [&key[..]])?;
    let key: [u8; 32] = connection.query_row("SELECT key FROM tracking_key", [], |row| row.get(0))?;
    Ok(Numbering::new(key))
}

/// The next tracking sequence number and the number shown for it. A number that a report
/// drew before the sequence began is passed over (with a million such reports, about one
/// number in 850,000), so a number never finds two reports.
fn next_tracking_number(connection: &Connection, numbering: &Numbering) -> Result<(i64, String), StoreError> {
    let mut sequence: i64 = connection.prepare_cached(NEXT_TRACKING_SEQ)?.query_row([], |row| row.get(0))?;
    loop {
        if sequence as u64 >= tracking::SPACE {
            return Err(StoreError::TrackingNumbersExhausted);
        }
        let number = numbering.number(sequence as u64);
        if !connection.prepare_cached(DRAWN_BEFORE)?.query_row([&number], |row| row.get::<_, bool>(0))? {
            return Ok((sequence, number));
        }
        sequence += 1;
    }
}

/// Earlier open reports of the same problem, oldest first (see [`Search`]).
fn related_reports(connection: &Connection, search: Option<Search<'_>>) -> Result<Related, StoreError> {
    let Some(search) = search else { return Ok(Related::default()) };
    let mut statement = connection.prepare_cached(&format!(
        "SELECT r.id, r.lat, r.lon, c.phone_hash, r.sender_hash FROM reports r LEFT JOIN contacts c ON c.report_id = r.id
         WHERE r.category = ?1 AND r.created_ms >= ?2 AND r.status IN ('received', 'forwarded', 'accepted', 'in_progress', 'reopened')
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

/// The `table.column` whose unique index `error` says an insert would have broken.
fn unique_violation(error: &rusqlite::Error) -> Option<&str> {
    match error {
        rusqlite::Error::SqliteFailure(failure, Some(message)) if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE => message.strip_prefix("UNIQUE constraint failed: "),
        _ => None,
    }
}

fn find_by_key(connection: &Connection, key: &str) -> Result<Option<(Receipt, String)>, StoreError> {
    Ok(connection
        .prepare_cached("SELECT id, tracking_no, created_ms, request_hash FROM reports WHERE idempotency_key = ?1")?
        .query_row([key], |row| Ok((receipt(row.get(0)?, row.get(1)?, row.get(2)?), row.get(3)?)))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows `sql` selects, each as its values joined by `|`, for comparing tables
    /// before and after a migration.
    fn rows(connection: &Connection, sql: &str) -> Vec<String> {
        let mut statement = connection.prepare(sql).unwrap();
        let columns = statement.column_count();
        statement.query_map([], |row| Ok((0..columns).map(|index| format!("{:?}", row.get_ref(index).unwrap())).collect::<Vec<_>>().join("|"))).unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// Every statement a JSON report's intake and forwarding runs in the writer, once per
    /// report. A temporary b-tree in one of them (a constant `IN` list of three or more in a
    /// CHECK or a WHERE, an `INSERT … SELECT` reading its own table) is a page cache opened,
    /// filled and freed for every report.
    #[test]
    fn no_statement_run_once_per_report_builds_a_temporary_b_tree() {
        let connection = Connection::open_in_memory().unwrap();
        migrate(&connection).unwrap();
        let per_report = [
            NEXT_TRACKING_SEQ.to_owned(),
            DRAWN_BEFORE.to_owned(),
            INSERT_REPORT.to_owned(),
            INSERT_OUTBOX.to_owned(),
            RECEIVED_STEP.to_owned(),
            numbered(super::super::MARK_DELIVERED),
            numbered(super::super::REPORT_FORWARDED),
            FORWARDED_STEP_RECORDED.to_owned(),
            FORWARDED_STEP_VALUES.to_owned(),
        ];
        for sql in per_report {
            let mut explain = connection.prepare(&format!("EXPLAIN {sql}")).unwrap();
            let unbound = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, explain.parameter_count()));
            let opcodes: Vec<String> = explain.query_map(unbound, |row| row.get(1)).unwrap().collect::<Result<_, _>>().unwrap();
            assert!(!opcodes.iter().any(|opcode| opcode == "OpenEphemeral" || opcode == "SorterOpen"), "a temporary b-tree in: {sql}");
        }
    }

    /// An insert's answer names the unique index it would have broken: the intake answers a
    /// repeated key from it, without looking it up first. Sequence numbers are unique, and
    /// so are the numbers drawn before the sequence, among themselves.
    #[test]
    fn an_insert_names_the_unique_index_it_would_break() {
        let connection = Connection::open_in_memory().unwrap();
        migrate(&connection).unwrap();
        let insert = |id: &str, tracking_no: &str, key: &str, sequence: Option<i64>| {
            connection.prepare_cached(INSERT_REPORT).unwrap().execute(params![
                id,
                tracking_no,
                key,
                "hash",
                "noise",
                "env",
                None::<String>,
                "complaint",
                "{}",
                1,
                None::<f64>,
                None::<f64>,
                false,
                0,
                None::<String>,
                None::<i64>,
                None::<i64>,
                None::<String>,
                sequence
            ])
        };
        insert("r1", "AAAA-AAAA", "key-1", None).unwrap();
        assert_eq!(unique_violation(&insert("r2", "AAAA-AAAA", "key-2", None).unwrap_err()), Some("reports.tracking_no"));
        assert_eq!(unique_violation(&insert("r2", "BBBB-BBBB", "key-1", Some(1)).unwrap_err()), Some("reports.idempotency_key"));
        assert_eq!(unique_violation(&insert("r1", "BBBB-BBBB", "key-2", Some(1)).unwrap_err()), None, "a report id drawn twice is an error, not a retry");
        let not_unique = connection.execute("INSERT INTO outbox (report_id, state, next_attempt_ms) VALUES ('r1', 'lost', 1)", []).unwrap_err();
        assert_eq!(unique_violation(&not_unique), None);
        insert("r2", "BBBB-BBBB", "key-2", Some(1)).unwrap();
        assert_eq!(unique_violation(&insert("r3", "CCCC-CCCC", "key-3", Some(1)).unwrap_err()), Some("reports.tracking_seq"));
    }

    /// Every look-up by tracking number is answered from an index: the sequence's for the
    /// numbers made from it, the partial one for the numbers drawn before it. `tracking_no`
    /// alone has no index, so a statement that missed either would read the whole table.
    #[test]
    fn numbers_are_found_through_an_index() {
        let connection = Connection::open_in_memory().unwrap();
        migrate(&connection).unwrap();
        let look_ups =
            [numbered(super::super::PUBLIC_VIEW), numbered(super::super::LISTED_BY_NUMBER), numbered(super::super::ID_BY_NUMBER), numbered(super::super::NUMBER_BY_ID_OR_NUMBER), requeue_one_sql()];
        for sql in look_ups {
            let mut plan = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let unbound = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, plan.parameter_count()));
            let steps: Vec<String> = plan.query_map(unbound, |row| row.get(3)).unwrap().collect::<Result<_, _>>().unwrap();
            assert!(!steps.iter().any(|step| step.starts_with("SCAN")), "{sql}: {steps:?}");
            for index in ["reports_by_tracking_seq", "reports_drawn_tracking_no"] {
                assert!(steps.iter().any(|step| step.contains(&format!("USING INDEX {index} "))), "{index} in {sql}: {steps:?}");
            }
        }
        for (sql, index) in [(DRAWN_BEFORE, "USING INDEX reports_drawn_tracking_no "), (NEXT_TRACKING_SEQ, "USING COVERING INDEX reports_by_tracking_seq")] {
            let mut plan = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let unbound = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, plan.parameter_count()));
            let steps: Vec<String> = plan.query_map(unbound, |row| row.get(3)).unwrap().collect::<Result<_, _>>().unwrap();
            assert!(steps.iter().any(|step| step.contains(index)), "{sql}: {steps:?}");
        }
    }

    /// Migration 12 makes `reports` again; every row of every table survives it, the rows'
    /// references are checked, and foreign keys are enforced again afterwards. The numbers
    /// drawn before stay found by every look-up; a new report gets a number from the
    /// sequence, passing over one that a report drawn before already carries.
    #[tokio::test]
    async fn numbers_drawn_before_the_sequence_are_found_and_never_given_again() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(FILE_NAME);
        {
            let connection = open_connection(&path).unwrap();
            migrate_to(&connection, 11).unwrap();
            let body = serde_json::to_string(&new_report(1).report).unwrap().replace('\'', "''");
            connection
                .execute_batch(&format!(
                    "INSERT INTO reports (id, tracking_no, idempotency_key, request_hash, category, department, kind, body, status, created_ms, due_ms)
                         VALUES ('r1', 'AAAA-AAAA', 'k1', 'h', 'noise', 'env', 'complaint', '{body}', 'received', 1, 99),
                                ('r2', 'BBBB-BBBB', 'k2', 'h', 'noise', 'env', 'complaint', '{body}', 'forwarded', 2, NULL);
                     INSERT INTO outbox (report_id, state, next_attempt_ms) VALUES ('r1', 'pending', 50);
                     INSERT INTO outbox (report_id, state, attempts, next_attempt_ms, last_error) VALUES ('r2', 'dead_letter', 9, 10, 'gone');
                     INSERT INTO timeline (report_id, seq, step, status, at_ms) VALUES ('r1', 1, 'received', 'received', 1), ('r2', 1, 'received', 'received', 2);
                     INSERT INTO photos (report_id, position, sha256, width, height, bytes) VALUES ('r2', 0, 'ab', 4, 3, 10);",
                ))
                .unwrap();
        }
        let every_table =
            |connection: &Connection| ["reports ORDER BY id", "outbox ORDER BY report_id", "timeline ORDER BY report_id", "photos"].map(|table| rows(connection, &format!("SELECT * FROM {table}")));
        let mut before = every_table(&Connection::open(&path).unwrap());
        // The one new column, last: no sequence number for a number drawn before.
        before[0].iter_mut().for_each(|row| row.push_str("|Null"));

        let sqlite = SqliteStore::open(directory.path(), ContactCipher::new([7; 32])).unwrap();
        {
            let connection = Connection::open(&path).unwrap();
            assert_eq!(every_table(&connection), before);
            assert!(rows(&connection, "PRAGMA foreign_key_check").is_empty());
        }
        let enforced: bool = sqlite.read(|connection| Ok(connection.pragma_query_value(None, "foreign_keys", |row| row.get(0))?)).await.unwrap();
        assert!(enforced);
        let store = super::super::Store::Sqlite(sqlite.clone());

        assert_eq!(store.report_id("AAAA-AAAA").await.unwrap().as_deref(), Some("r1"));
        assert_eq!(store.tracking_no("r2").await.unwrap().as_deref(), Some("BBBB-BBBB"));
        assert_eq!(store.tracking_no("BBBB-BBBB").await.unwrap().as_deref(), Some("BBBB-BBBB"));
        assert_eq!(store.status("AAAA-AAAA", 1).await.unwrap().map(|status| status.category), Some("noise".to_owned()));
        assert_eq!(store.listed_by_number(&["BBBB-BBBB".to_owned()]).await.unwrap().len(), 1);
        assert_eq!(store.requeue(Some("BBBB-BBBB".into())).await.unwrap(), 1);
        assert_eq!(store.report_id("CCCC-CCCC").await.unwrap(), None);
        assert_eq!(store.report_id("not a number").await.unwrap(), None);

        // The number the sequence gives next is one a report drew before: passed over.
        let first = match sqlite.insert_report(new_report(2)).await.unwrap() {
            Inserted::Created(receipt) => receipt,
            other => panic!("expected a new report, got {other:?}"),
        };
        let (key, next): (Vec<u8>, i64) =
            sqlite.read(|connection| Ok(connection.query_row("SELECT key, (SELECT MAX(tracking_seq) + 1 FROM reports) FROM tracking_key", [], |row| Ok((row.get(0)?, row.get(1)?)))?)).await.unwrap();
        assert_eq!(next, 2, "the first report numbered from the sequence is its first");
        let numbering = Numbering::new(key.try_into().unwrap());
        assert_eq!(first.tracking_no, numbering.number(1));
        let taken = numbering.number(next as u64);
        let drawn = taken.clone();
        sqlite
            .write(move |connection| {
                Ok(connection.execute(
                    "INSERT INTO reports (id, tracking_no, idempotency_key, request_hash, category, department, kind, body, status, created_ms)
                         VALUES ('r3', ?1, 'k3', 'h', 'noise', 'env', 'complaint', '{}', 'received', 3)",
                    [&drawn],
                )?)
            })
            .await
            .unwrap();
        let receipt = match sqlite.insert_report(new_report(1)).await.unwrap() {
            Inserted::Created(receipt) => receipt,
            other => panic!("expected a new report, got {other:?}"),
        };
        assert_eq!(receipt.tracking_no, numbering.number(next as u64 + 1));
        assert_eq!(store.report_id(&taken).await.unwrap().as_deref(), Some("r3"));
        assert_eq!(store.report_id(&receipt.tracking_no).await.unwrap(), Some(receipt.id.clone()));
        assert_eq!(store.tracking_no(&receipt.id).await.unwrap(), Some(receipt.tracking_no.clone()));
        assert_eq!(store.status(&receipt.tracking_no, 1).await.unwrap().map(|status| status.category), Some("manhole_cover".to_owned()));
        assert_eq!(store.listed_by_number(std::slice::from_ref(&receipt.tracking_no)).await.unwrap().len(), 1);
        let sequence: Option<i64> = {
            let id = receipt.id.clone();
            sqlite.read(move |connection| Ok(connection.query_row("SELECT tracking_seq FROM reports WHERE id = ?1", [&id], |row| row.get(0))?)).await.unwrap()
        };
        assert_eq!(sequence, Some(next + 1));
    }

    /// A database whose rows already refer to rows that are not there is not migrated past
    /// them: the start fails naming the migration, and the file stays as it was.
    #[test]
    fn a_migration_that_would_break_references_is_not_applied() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(FILE_NAME);
        {
            let connection = open_connection(&path).unwrap();
            migrate_to(&connection, 11).unwrap();
            connection.pragma_update(None, "foreign_keys", false).unwrap();
            connection.execute("INSERT INTO outbox (report_id, state, next_attempt_ms) VALUES ('gone', 'pending', 1)", []).unwrap();
        }
        let refused = SqliteStore::open(directory.path(), ContactCipher::new([7; 32])).unwrap_err();
        assert!(matches!(refused, StoreError::MigrationBrokeReferences(12)), "{refused}");
        let connection = Connection::open(&path).unwrap();
        assert_eq!(connection.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0)).unwrap(), 11);
        assert!(connection.prepare("SELECT tracking_seq FROM reports").is_err(), "the table was not made again");
        assert_eq!(connection.query_row("SELECT count(*) FROM outbox", [], |row| row.get::<_, i64>(0)).unwrap(), 1);
    }

    /// The claims and the supervision scans bind their `LIMIT`, and each run may bind
    /// another value. Planned for the value bound, SQLite would parse and plan such a
    /// statement again at every run; it keeps one plan, and the partial index it stands on.
    #[test]
    fn same_plan_whatever_is_bound() {
        let directory = tempfile::tempdir().unwrap();
        let connection = open_connection(&directory.path().join(FILE_NAME)).unwrap();
        migrate(&connection).unwrap();
        let scans = [
            (CLAIM_DUE.to_owned(), "outbox_due"),
            (claim_messages_sql(), "messages_due"),
            (numbered(super::super::OVERDUE), "reports_overdue"),
            (numbered(super::super::SILENT), "reports_awaiting_answer"),
        ];
        for (sql, index) in scans {
            // The claims' owner is text; every other parameter a time or, last, the limit.
            let bound = |statement: &rusqlite::Statement, limit: i64| -> Vec<rusqlite::types::Value> {
                let count = statement.parameter_count();
                (1..=count)
                    .map(|at| match at {
                        _ if at == count => limit.into(),
                        1 if count == 4 => "forwarder-1".to_owned().into(),
                        _ => 1_000_i64.into(),
                    })
                    .collect()
            };
            let mut plan = connection.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let values = bound(&plan, 8);
            let steps: Vec<String> = plan.query_map(rusqlite::params_from_iter(values), |row| row.get(3)).unwrap().collect::<Result<_, _>>().unwrap();
            assert!(steps.iter().any(|step| step.contains(&format!("USING INDEX {index}"))), "{sql}: {steps:?}");

            let mut statement = connection.prepare(&sql).unwrap();
            for limit in [1, 8, 32] {
                let values = bound(&statement, limit);
                statement.query(rusqlite::params_from_iter(values)).unwrap().next().unwrap();
            }
            assert_eq!(statement.get_status(rusqlite::StatementStatus::RePrepare), 0, "prepared again: {sql}");
        }
    }

    #[test]
    fn the_state_checks_are_comparisons_and_every_row_survives_the_migration() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join(FILE_NAME);
        {
            let connection = open_connection(&path).unwrap();
            migrate_to(&connection, 10).unwrap();
            connection
                .execute_batch(
                    "INSERT INTO reports (id, tracking_no, idempotency_key, request_hash, category, department, kind, body, status, created_ms)
                         VALUES ('r1', 'AAAA-AAAA', 'k1', 'h', 'noise', 'env', 'complaint', '{}', 'received', 1),
                                ('r2', 'BBBB-BBBB', 'k2', 'h', 'noise', 'env', 'complaint', '{}', 'forwarded', 2);
                     INSERT INTO outbox (report_id, state, attempts, next_attempt_ms, last_error, lease_owner, lease_until_ms) VALUES ('r1', 'pending', 2, 50, 'timeout', 'me', 99);
                     INSERT INTO outbox (report_id, state, attempts, next_attempt_ms, ticket_id, delivered_ms) VALUES ('r2', 'delivered', 1, 10, 'T-7', 20);
                     INSERT INTO messages (id, report_id, kind, body, state, attempts, next_attempt_ms, last_error, created_ms) VALUES ('r2.rated.1', 'r2', 'rated', '{}', 'dead_letter', 9, 70, 'gone', 60);",
                )
                .unwrap();
        }
        let before = {
            let connection = Connection::open(&path).unwrap();
            (rows(&connection, "SELECT * FROM outbox ORDER BY report_id"), rows(&connection, "SELECT * FROM messages ORDER BY id"))
        };

        drop(SqliteStore::open(directory.path(), ContactCipher::new([7; 32])).unwrap());

        let connection = Connection::open(&path).unwrap();
        assert_eq!((rows(&connection, "SELECT * FROM outbox ORDER BY report_id"), rows(&connection, "SELECT * FROM messages ORDER BY id")), before);
        assert_eq!(connection.pragma_query_value(None, "user_version", |row| row.get::<_, usize>(0)).unwrap(), MIGRATIONS.len());
        let mut indexes = connection.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('outbox', 'messages') AND sql IS NOT NULL ORDER BY name").unwrap();
        let indexes: Vec<String> = indexes.query_map([], |row| row.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(indexes, ["messages_by_report", "messages_due", "outbox_due", "outbox_ticket"]);
        assert!(rows(&connection, "PRAGMA foreign_key_check").is_empty());
        let refused = connection.execute("UPDATE outbox SET state = 'lost' WHERE report_id = 'r1'", []).unwrap_err();
        assert!(refused.to_string().contains("CHECK constraint failed"), "{refused}");
        assert!(connection.execute("UPDATE messages SET state = 'pending' WHERE id = 'r2.rated.1'", []).is_ok());
    }

    /// A report as the intake stores it: with the photo, contact, position and time limit
    /// that `variant` asks for.
    fn new_report(variant: usize) -> NewReport {
        let report = lianxin_contract::ReportSubmission {
            category: "manhole_cover".into(),
            kind: lianxin_contract::RequestKind::Complaint,
            description: format!("井盖缺失 {variant}"),
            fields: Default::default(),
            // Positions as phones give them: 17 significant digits, not all read back
            // exactly by a parser that is not correctly rounded.
            location: (variant != 2).then(|| lianxin_contract::Location {
                lat: Some(45.756_789_123_456_78 + variant as f64 * 0.010_000_000_1),
                lon: Some(126.642_315_897 - variant as f64 * 0.033_3 - 1.0 / 3.0e9),
                accuracy_m: Some(12.345_678_901_234_567),
                address: Some("中央大街".into()),
                district: Some("daoli".into()),
            }),
            contact: (variant != 1).then(|| lianxin_contract::Contact { name: Some("王芳".into()), phone: Some(format!("1380013800{variant}")), consent: variant != 3 }),
            lang: lianxin_contract::Lang::Ru,
            media_url: None,
            public: variant == 0,
        };
        NewReport {
            id: ids::new_report_id(),
            idempotency_key: format!("key-{variant}"),
            request_hash: "hash".into(),
            department: "urban_management".into(),
            district: Some("daoli".into()),
            report,
            photos: (variant == 0).then(|| crate::photos::StoredPhoto { sha256: "ab".repeat(32), width: 1600, height: 1200, bytes: 200_000 }).into_iter().collect(),
            sender: Some("203.0.113.7".into()),
            limit_ms: (variant != 1).then_some(24 * 3_600_000),
            source: None,
            classes: Vec::new(),
            class_rules: Default::default(),
        }
    }

    /// Stores `new` (apart from the others, another phone: nothing related) and returns its id.
    async fn stored(store: &SqliteStore, new: NewReport) -> String {
        match store.insert_report(new).await.unwrap() {
            Inserted::Created(receipt) => receipt.id,
            other => panic!("expected a new report, got {other:?}"),
        }
    }

    /// What the forwarder sends of a report it did not read back is exactly what reading it
    /// back gives: contact (consented or not), position, photos, district, time limit.
    #[tokio::test]
    async fn a_report_just_stored_is_forwarded_as_the_database_holds_it() {
        let directory = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(directory.path(), ContactCipher::new([7; 32])).unwrap();
        for variant in 0..4 {
            let id = stored(&store, new_report(variant)).await;
            let kept = store.just_stored.take(std::slice::from_ref(&id)).pop().flatten().unwrap_or_else(|| panic!("variant {variant} was not kept"));
            let cipher = store.cipher.clone();
            let read = store.read(move |connection| outgoing(connection, id, &cipher)).await.unwrap();
            assert_eq!(kept, read, "variant {variant}");
        }
    }

    /// A write that may change stored reports forgets the kept ones, and so does another
    /// connection's commit (an operator's command on the same file): the forwarder reads
    /// those reports back and sends what the database holds now.
    #[tokio::test]
    async fn a_change_after_storing_is_what_the_forwarder_sends() {
        let directory = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(directory.path(), ContactCipher::new([7; 32])).unwrap();
        let department = |reports: Vec<Outgoing>| {
            let mut sent = reports.into_iter().map(|report| (report.message.id, report.message.department)).collect::<Vec<_>>();
            sent.sort();
            sent
        };

        let first = stored(&store, new_report(1)).await;
        let changed = first.clone();
        store.write(move |connection| Ok(connection.execute("UPDATE reports SET department = 'housing' WHERE id = ?1", [&changed])?)).await.unwrap();
        let claimed = store.claim_due("forwarder", ids::now_ms(), ids::now_ms() + 60_000, 8).await.unwrap();
        assert_eq!(claimed, std::slice::from_ref(&first));
        assert_eq!(department(store.outbox_reports(claimed).await.unwrap()), [(first, "housing".to_owned())]);

        let second = stored(&store, new_report(2)).await;
        let third = stored(&store, new_report(3)).await;
        let operator = Connection::open(directory.path().join(FILE_NAME)).unwrap();
        operator.execute("UPDATE reports SET department = 'transport' WHERE id = ?1", [&second]).unwrap();
        let claimed = store.claim_due("forwarder", ids::now_ms(), ids::now_ms() + 60_000, 8).await.unwrap();
        assert_eq!(claimed.len(), 2);
        let mut expected = vec![(second, "transport".to_owned()), (third, "urban_management".to_owned())];
        expected.sort();
        assert_eq!(department(store.outbox_reports(claimed).await.unwrap()), expected);

        let fourth = stored(&store, new_report(0)).await;
        let claimed = store.claim_due("forwarder", ids::now_ms(), ids::now_ms() + 60_000, 8).await.unwrap();
        assert_eq!(claimed, [fourth]);
        assert!(store.just_stored.take(&claimed)[0].is_some(), "nothing changed it: kept");
    }

    /// A lifecycle step (here the pipeline moving a report to another department before
    /// the forwarder sent it) changes its own report only: that one is read back with the
    /// change, every other kept report stays kept.
    #[tokio::test]
    async fn a_lifecycle_step_forgets_its_own_report_only() {
        let directory = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(directory.path(), ContactCipher::new([7; 32])).unwrap();
        let moved = stored(&store, new_report(1)).await;
        let untouched = stored(&store, new_report(2)).await;
        let event = crate::lifecycle::PipelineInput {
            kind: lianxin_contract::pipeline::EventKind::Transferred,
            at_ms: ids::now_ms(),
            message: None,
            planned_for: None,
            department: Some("housing".into()),
            duplicate_of: None,
            due_ms: None,
        };
        let policy = Policy { supervisor: "supervision_office".into(), answer_window_ms: 7 * 86_400_000 };
        let outcome = store.advance(&moved, Input::Pipeline(event), policy).await.unwrap();
        assert!(matches!(outcome, Ok(Outcome::Changed(_))), "{outcome:?}");

        let claimed = store.claim_due("forwarder", ids::now_ms(), ids::now_ms() + 60_000, 8).await.unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(store.just_stored.take(std::slice::from_ref(&untouched))[0].is_some(), "the other report stays kept");
        let sent = store.outbox_reports(vec![moved.clone()]).await.unwrap();
        assert_eq!(sent.iter().map(|report| (report.message.id.as_str(), report.message.department.as_str())).collect::<Vec<_>>(), [(moved.as_str(), "housing")]);
    }

    /// When another job of its group fails, the group runs again and the insert draws
    /// another time: what its first run kept is not what is stored, so the forwarder reads
    /// that report back.
    #[tokio::test]
    async fn a_report_stored_by_its_jobs_second_run_is_forwarded_as_stored() {
        let directory = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(directory.path(), ContactCipher::new([7; 32])).unwrap();
        // The writer is held while the insert and a failing job queue up behind it.
        let held = store.writer.hold().await;
        let inserting = tokio::spawn({
            let store = store.clone();
            async move { stored(&store, new_report(0)).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let failing = tokio::spawn({
            let writer = store.writer.clone();
            async move { writer.write(|connection| Ok(connection.execute("INSERT INTO no_such_table VALUES (1)", [])?)).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // Each run of the insert draws its own time: the second a millisecond or more later.
        held.release().await;
        let id = inserting.await.unwrap();
        assert!(failing.await.unwrap().is_err());

        let claimed = store.claim_due("forwarder", ids::now_ms(), ids::now_ms() + 60_000, 8).await.unwrap();
        assert_eq!(claimed, std::slice::from_ref(&id));
        let sent = store.outbox_reports(claimed).await.unwrap();
        let cipher = store.cipher.clone();
        let read = store.read(move |connection| outgoing(connection, id, &cipher)).await.unwrap();
        assert_eq!(sent, [read]);
    }
}
