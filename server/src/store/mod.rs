//! Durable storage of reports, their photos' records, contact details, the outbox and the
//! status timeline. One interface, [`Store`], with two engines: SQLite (the embedded
//! default, [`sqlite`]) and PostgreSQL (for several server instances, [`postgres`]). Only
//! this module and its two engines hold SQL; both pass the same test suite
//! (`server/tests/api/store.rs`).
//!
//! Architecture invariants: a report, its photos' records and its outbox row are inserted
//! in one transaction, and a receipt is only given after that transaction committed. An
//! outbox row is delivered only by the forwarder holding its lease.

pub mod copy;
mod just_stored;
mod postgres;
mod sqlite;
mod writer;

use std::path::Path;

use lianxin_contract::follow_up::{EscalationReason, Supervision};
use lianxin_contract::pipeline::{EventKind, PipelineMessage, PipelineReport};
use lianxin_contract::report::{ReportStatus, Status, StatusEvent};
use lianxin_contract::{Receipt, ReportSubmission};
use serde::Serialize;

use crate::geo;
use crate::ids;
use crate::lifecycle::{self, Change, Current, Detail, Input, NewStep, Outcome, PipelineInput, Policy, Refusal};
use crate::photos::StoredPhoto;
use crate::privacy::ContactCipher;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Store failures.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL reported an error.
    #[error("postgresql: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    #[error("postgresql connection pool: {0}")]
    Pool(String),
    /// The database takes no writes (a read-only standby, say): try later or elsewhere.
    #[error("the database is read-only")]
    ReadOnly,
    /// The database URL is not one this server can use.
    #[error("database url: {0}")]
    Url(String),
    /// The SQLite database to copy from is missing or holds what no schema version wrote.
    #[error("copying from SQLite: {0}")]
    Copy(String),
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
    /// A migration would have left rows that refer to no row; nothing of it was applied.
    #[error("schema migration {0} would break references between tables; nothing of it was applied")]
    MigrationBrokeReferences(usize),
    /// Every tracking number of the sequence is taken (31^8 reports).
    #[error("every tracking number is taken")]
    TrackingNumbersExhausted,
    /// A write job panicked (a bug); it was rolled back and the writer went on.
    #[error("a write job panicked")]
    JobPanicked,
    /// A blocking read task failed.
    #[error("read task: {0}")]
    Task(String),
}

impl StoreError {
    /// Whether the failure is the disk being full (the server then answers 503).
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => error.code == rusqlite::ErrorCode::DiskFull,
            StoreError::Postgres(error) => error.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL),
            _ => false,
        }
    }

    /// Whether the database could not be reached at all (the server then answers 503).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Pool(_) | StoreError::ReadOnly => true,
            // The connection is gone, or could not be made (an I/O error underneath); a
            // database error or a type mismatch is ours, not "try later".
            StoreError::Postgres(error) => error.is_closed() || std::error::Error::source(error).is_some_and(|source| source.is::<std::io::Error>()),
            _ => false,
        }
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
    /// The network it came from (`ClientNetwork`'s text), when known; stored only as a
    /// keyed hash, to tell one sender's repeated reports from several senders'.
    pub sender: Option<String>,
    /// The category's time limit in ms: the report is due this long after acceptance.
    pub limit_ms: Option<i64>,
    /// The Open311 app that filed it, by name; `None` for the widget and the JSON API.
    pub source: Option<String>,
    /// The classes of cases it belongs to, and the rules they form by.
    pub classes: Vec<crate::classes::ClassKey>,
    /// The catalog's class rules.
    pub class_rules: std::sync::Arc<crate::classes::ClassRules>,
}

/// A class of cases, for operators (`lianxin classes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClassRow {
    /// The stable key.
    pub key: String,
    /// Category code.
    pub category: String,
    /// `place` or `subject`.
    pub kind: String,
    /// The cell or the subject.
    pub label: String,
    /// Which time it formed.
    pub generation: i64,
    /// Members in this generation.
    pub members: i64,
    /// First member (RFC 3339).
    pub first_at: String,
    /// Last member (RFC 3339).
    pub last_at: String,
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

/// A report waiting in the outbox: the message the pipeline gets (a wire type of the
/// contract crate) and when the report was accepted, for the forwarder's age limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// What the pipeline receives.
    pub message: PipelineReport,
    /// When the report was accepted (ms since the epoch).
    pub created_ms: i64,
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
    /// Reports whose personal data was purged.
    pub reports: u64,
    /// Photo hashes no longer used by any unpurged report: their files can go.
    pub unused_photos: Vec<String>,
}

/// Where the store lives, from the configuration.
#[derive(Debug, Clone)]
pub enum Database<'a> {
    /// `lianxin.sqlite3` in this data directory.
    Sqlite(&'a Path),
    /// A PostgreSQL database, by `postgres://` URL, with this many pooled connections.
    Postgres {
        /// The connection URL.
        url: &'a str,
        /// Most connections held open.
        pool_size: usize,
    },
}

/// Handle to the store, whichever engine holds it; cheap to clone.
#[derive(Clone, Debug)]
pub enum Store {
    /// The embedded SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database shared by several server instances.
    Postgres(PostgresStore),
}

/// The condition that finds the report with tracking number `$1`, where `$2` is the
/// sequence number behind it: SQLite's numbers are a permutation of a sequence, found through
/// the sequence's unique index; a number drawn at random (PostgreSQL's, or SQLite's before
/// migration 12) has no sequence number and its own unique index. `$2` is NULL where the
/// engine draws numbers or the text is no number. SQLite answers the two branches from the
/// two indexes (`numbers_are_found_through_an_index`); its `tracking_no` alone has none.
macro_rules! by_number {
    () => {
        "tracking_no = $1 AND (tracking_seq = $2 OR tracking_seq IS NULL)"
    };
}

/// Calls the same method on whichever engine holds the store.
macro_rules! on_engine {
    ($store:expr, $engine:ident => $call:expr) => {
        match $store {
            Store::Sqlite($engine) => $call,
            Store::Postgres($engine) => $call,
        }
    };
}

impl Store {
    /// Opens the store at `location`, creating it and applying its migrations as needed.
    /// Contacts are sealed with `cipher`.
    pub async fn open(location: Database<'_>, cipher: ContactCipher) -> Result<Store, StoreError> {
        Ok(match location {
            Database::Sqlite(data_dir) => Store::Sqlite(SqliteStore::open(data_dir, cipher)?),
            Database::Postgres { url, pool_size } => Store::Postgres(PostgresStore::open(url, pool_size, cipher).await?),
        })
    }

    /// The engine's name, for logs and the health answer.
    pub fn engine(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgresql",
        }
    }

    /// The receipt of the report stored under `idempotency_key`, with its request hash.
    pub async fn find_by_idempotency_key(&self, idempotency_key: &str) -> Result<Option<(Receipt, String)>, StoreError> {
        on_engine!(self, engine => engine.find_by_idempotency_key(idempotency_key).await)
    }

    /// Stores a report with its photos' records, contact and outbox row in one transaction,
    /// or returns the report already stored under its idempotency key.
    pub async fn insert_report(&self, new: NewReport) -> Result<Inserted, StoreError> {
        on_engine!(self, engine => engine.insert_report(new).await)
    }

    /// The public status of a report, without personal data; `answer_window_ms` says until
    /// when a resolved report waits for the resident.
    pub async fn status(&self, tracking_no: &str, answer_window_ms: i64) -> Result<Option<ReportStatus>, StoreError> {
        let Some((view, timeline)) = on_engine!(self, engine => engine.public_view(tracking_no).await)? else {
            return Ok(None);
        };
        Ok(Some(view.into_status(tracking_no, timeline, answer_window_ms)?))
    }

    /// Leases up to `limit` pending outbox rows due at `now_ms` to forwarder `owner` until
    /// `lease_until_ms`, oldest first, skipping rows another forwarder holds a live lease
    /// on. Returns their report ids.
    pub async fn claim_due(&self, owner: &str, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        on_engine!(self, engine => engine.claim_due(owner, now_ms, lease_until_ms, limit).await)
    }

    /// Called when this server's forwarder starts. A SQLite file has one server, so every
    /// lease in it belongs to a previous run of this one (killed before it could give them
    /// back) and is released now. In PostgreSQL other instances may hold live leases: those
    /// of a dead instance run out by themselves.
    pub async fn forwarder_started(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(engine) => engine.release_all_leases().await,
            Store::Postgres(_) => Ok(()),
        }
    }

    /// Gives up forwarder `owner`'s leases on rows it has not delivered, so any forwarder
    /// can take them at once (at shutdown, or when a round stops early).
    pub async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        on_engine!(self, engine => engine.release_leases(owner).await)
    }

    /// Everything the pipeline gets for report `id`.
    pub async fn outbox_report(&self, id: &str) -> Result<Outgoing, StoreError> {
        on_engine!(self, engine => engine.outbox_report(id).await)
    }

    /// The reports `ids` as the pipeline receives them, in that order, read together (on
    /// SQLite in one read transaction).
    pub async fn outbox_reports(&self, ids: Vec<String>) -> Result<Vec<Outgoing>, StoreError> {
        on_engine!(self, engine => engine.outbox_reports(ids).await)
    }

    /// Records successful deliveries (report id, the pipeline's ticket id) in one
    /// transaction: each lease released, each report moved to `forwarded`.
    pub async fn mark_delivered(&self, delivered: Vec<(String, Option<String>)>) -> Result<(), StoreError> {
        if delivered.is_empty() {
            return Ok(());
        }
        on_engine!(self, engine => engine.mark_delivered(delivered).await)
    }

    /// Records a failed delivery and releases the lease: retried at `next_attempt_ms`, or
    /// dead-lettered. Returns the attempts so far.
    pub async fn mark_failed(&self, id: &str, error: String, next_attempt_ms: i64, dead_letter: bool) -> Result<u32, StoreError> {
        on_engine!(self, engine => engine.mark_failed(id, error, next_attempt_ms, dead_letter).await)
    }

    /// How many delivery attempts report `id` has had.
    pub async fn attempts(&self, id: &str) -> Result<u32, StoreError> {
        on_engine!(self, engine => engine.attempts(id).await)
    }

    /// Outbox rows in `state` (`pending` or `dead_letter`), oldest first, at most `limit`.
    pub async fn outbox_entries(&self, state: &str, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        on_engine!(self, engine => engine.outbox_entries(state, limit).await)
    }

    /// Puts dead-lettered reports back in the queue, due now: the one with this report id or
    /// tracking number, or all when `which` is `None`. Returns how many were requeued.
    pub async fn requeue(&self, which: Option<String>) -> Result<usize, StoreError> {
        on_engine!(self, engine => engine.requeue(which).await)
    }

    /// Outbox depth and age.
    pub async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        on_engine!(self, engine => engine.outbox_stats().await)
    }

    /// Applies what happened to report `id` under the lifecycle's rules
    /// ([`lifecycle::step`]), in one transaction holding the report's row: the report, its
    /// timeline, the resident's answer and the messages for the pipeline change together or
    /// not at all. A refusal changes nothing.
    pub async fn advance(&self, id: &str, input: Input, policy: &Policy) -> Result<Result<Outcome, Refusal>, StoreError> {
        on_engine!(self, engine => engine.advance(id, input, policy.clone()).await)
    }

    /// Records a plain status event from the pipeline (`accepted`, `in_progress`,
    /// `resolved`, `rejected`), as the Open311 status poll reads them. Returns whether it
    /// changed anything (a repeat or an event that would move the report backwards does not).
    pub async fn record_status(&self, id: &str, status: Status, at_ms: i64, message: Option<String>) -> Result<bool, StoreError> {
        let kind = match status {
            Status::Accepted => EventKind::Accepted,
            Status::InProgress => EventKind::InProgress,
            Status::Resolved => EventKind::Resolved,
            Status::Rejected => EventKind::Rejected,
            _ => return Ok(false),
        };
        let input = Input::Pipeline(PipelineInput { kind, at_ms, message, planned_for: None, department: None, duplicate_of: None, due_ms: None });
        Ok(matches!(self.advance(id, input, &Policy::default()).await?, Ok(Outcome::Changed(_))))
    }

    /// Open reports past their due time at `now_ms` and not yet supervised, at most `limit`.
    pub async fn overdue(&self, now_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        on_engine!(self, engine => engine.ids_due(OVERDUE, now_ms, limit).await)
    }

    /// Resolved reports whose resolution came at or before `resolved_before_ms`, at most `limit`.
    pub async fn silent(&self, resolved_before_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        on_engine!(self, engine => engine.ids_due(SILENT, resolved_before_ms, limit).await)
    }

    /// Leases up to `limit` follow-up messages due at `now_ms` whose report reached the
    /// pipeline, as [`Store::claim_due`] does for reports. Returns their ids.
    pub async fn claim_messages(&self, owner: &str, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        on_engine!(self, engine => engine.claim_messages(owner, now_ms, lease_until_ms, limit).await)
    }

    /// A follow-up message as the pipeline gets it (with the report's ticket id), when it
    /// was queued, and its delivery attempts so far.
    pub async fn message(&self, id: &str) -> Result<(PipelineMessage, i64, u32), StoreError> {
        let (body, ticket_id, created_ms, attempts) = on_engine!(self, engine => engine.message_row(id).await)?;
        let mut message: PipelineMessage = serde_json::from_str(&body)?;
        message.ticket_id = ticket_id;
        Ok((message, created_ms, attempts))
    }

    /// Records a follow-up message delivered.
    pub async fn message_delivered(&self, id: &str) -> Result<(), StoreError> {
        on_engine!(self, engine => engine.message_delivered(id).await)
    }

    /// Records a failed delivery of a follow-up message: retried at `next_attempt_ms`, or
    /// dead-lettered. Returns the attempts so far.
    pub async fn message_failed(&self, id: &str, error: String, next_attempt_ms: i64, dead_letter: bool) -> Result<u32, StoreError> {
        on_engine!(self, engine => engine.message_failed(id, error, next_attempt_ms, dead_letter).await)
    }

    /// Satisfaction, reopenings and overdue reports per department and category, at `now_ms`.
    pub async fn loop_figures(&self, now_ms: i64) -> Result<Vec<LoopFigures>, StoreError> {
        on_engine!(self, engine => engine.loop_figures(now_ms).await)
    }

    /// Removes the personal data of every report due (see [`PURGE_DUE`]): its contact, its
    /// sender hash, its description, address and exact position, the department's messages
    /// in its timeline; and says which photos no unpurged report uses any more.
    /// `final_before_ms`: reports closed (resolved, rejected, or dead-lettered) before it;
    /// `created_before_ms`: any report accepted before it, closed or not.
    pub async fn purge_due(&self, final_before_ms: i64, created_before_ms: i64) -> Result<Purged, StoreError> {
        on_engine!(self, engine => engine.purge_due(final_before_ms, created_before_ms).await)
    }

    /// Whether a report whose personal data is kept still uses the photo `sha256`.
    pub async fn photo_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        on_engine!(self, engine => engine.photo_in_use(sha256).await)
    }

    /// The id of the report the pipeline knows under `ticket_id`.
    pub async fn report_by_ticket(&self, ticket_id: &str) -> Result<Option<String>, StoreError> {
        on_engine!(self, engine => engine.report_by_ticket(ticket_id).await)
    }

    /// Delivered reports that are not finished (neither resolved nor rejected), with the
    /// pipeline's ticket id: what a status poll asks about. One page of at most `limit`, in
    /// report id order, of those whose id sorts after `after` (`""` for the first page).
    pub async fn open_tickets(&self, after: &str, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        on_engine!(self, engine => engine.open_tickets(after, limit).await)
    }

    /// Replaces a report's ticket id (an Open311 token resolved to its request id).
    pub async fn set_ticket(&self, report_id: &str, ticket_id: &str) -> Result<(), StoreError> {
        on_engine!(self, engine => engine.set_ticket(report_id, ticket_id).await)
    }

    /// The reports with these tracking numbers, as an Open311 listing shows them (unknown
    /// numbers left out).
    pub async fn listed_by_number(&self, tracking_nos: &[String]) -> Result<Vec<ListedReport>, StoreError> {
        let mut found = Vec::with_capacity(tracking_nos.len());
        for tracking_no in tracking_nos {
            if let Some(row) = on_engine!(self, engine => engine.listed_one(tracking_no).await)? {
                found.push(listed(row)?);
            }
        }
        Ok(found)
    }

    /// The reports an Open311 listing asks for, newest first.
    pub async fn listed(&self, filter: &ListFilter) -> Result<Vec<ListedReport>, StoreError> {
        let status = match filter.open {
            Some(true) => "open",
            Some(false) => "closed",
            None => "",
        };
        let rows = on_engine!(self, engine => engine.listed_between(filter.since_ms, filter.until_ms, filter.category.clone().unwrap_or_default(), status, filter.limit).await)?;
        rows.into_iter().map(listed).collect()
    }

    /// The reports accepted in `[from_ms, to_ms)` as the city's figures count them.
    pub async fn counted(&self, from_ms: i64, to_ms: i64) -> Result<Vec<crate::figures::Counted>, StoreError> {
        let rows = on_engine!(self, engine => engine.counted_rows(from_ms, to_ms).await)?;
        Ok(rows.into_iter().map(counted).collect())
    }

    /// Open reports of `category` within `radius_m` of a point in the last [`RELATED_DAYS`]
    /// days, nearest first, at most `limit`.
    pub async fn nearby_reports(&self, category: &str, lat: f64, lon: f64, radius_m: f64, limit: usize) -> Result<Vec<NearbyReport>, StoreError> {
        let since = ids::now_ms() - RELATED_DAYS * 86_400_000;
        let rows = on_engine!(self, engine => engine.nearby_rows(category.to_owned(), since, box_around(lat, lon, radius_m)).await)?;
        let mut found = Vec::new();
        for (tracking_no, status, created_ms, other_lat, other_lon, body, supporters, reply, photo) in rows {
            let (Some(other_lat), Some(other_lon)) = (other_lat, other_lon) else { continue };
            let distance_m = geo::distance_m(lat, lon, other_lat, other_lon);
            if distance_m <= radius_m {
                found.push(NearbyReport { tracking_no, status: parse_wire(&status)?, created_ms, distance_m, report: serde_json::from_str(&body)?, supporters: supporters as u32, reply, photo });
            }
        }
        found.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        found.truncate(limit);
        Ok(found)
    }

    /// Where the open reports of `category` within `radius_m` of a point stand (the newest
    /// that "is it one of these?" would list), counted per `cell_m` grid cell: each cell's
    /// centre and its count, never a report's own position; busiest cells first.
    pub async fn open_cells(&self, category: &str, lat: f64, lon: f64, radius_m: f64, cell_m: f64) -> Result<Vec<OpenCell>, StoreError> {
        let since = ids::now_ms() - RELATED_DAYS * 86_400_000;
        let rows = on_engine!(self, engine => engine.nearby_rows(category.to_owned(), since, box_around(lat, lon, radius_m)).await)?;
        let mut cells: Vec<OpenCell> = Vec::new();
        for (_, _, _, other_lat, other_lon, ..) in rows {
            let (Some(other_lat), Some(other_lon)) = (other_lat, other_lon) else { continue };
            if geo::distance_m(lat, lon, other_lat, other_lon) > radius_m {
                continue;
            }
            let (cell_lat, cell_lon) = geo::snap_to_grid(other_lat, other_lon, cell_m);
            match cells.iter_mut().find(|cell| cell.lat == cell_lat && cell.lon == cell_lon) {
                Some(cell) => cell.count += 1,
                None => cells.push(OpenCell { lat: cell_lat, lon: cell_lon, count: 1 }),
            }
        }
        cells.sort_by_key(|cell| std::cmp::Reverse(cell.count));
        Ok(cells)
    }

    /// The largest classes active in `[from_ms, to_ms)` with at least `min_members`, for the
    /// public page.
    pub async fn public_classes(&self, min_members: u64, from_ms: i64, to_ms: i64) -> Result<Vec<PublicClass>, StoreError> {
        on_engine!(self, engine => engine.public_class_rows(min_members as i64, from_ms, to_ms).await)
    }

    /// The largest classes, at most `limit`.
    pub async fn classes(&self, limit: usize) -> Result<Vec<ClassRow>, StoreError> {
        on_engine!(self, engine => engine.class_rows(limit).await)
    }

    /// The id of the report with this tracking number.
    pub async fn report_id(&self, tracking_no: &str) -> Result<Option<String>, StoreError> {
        on_engine!(self, engine => engine.text_by_number(ID_BY_NUMBER, tracking_no.to_owned()).await)
    }

    /// The tracking number of the report with this id or tracking number.
    pub async fn tracking_no(&self, id_or_tracking_no: &str) -> Result<Option<String>, StoreError> {
        on_engine!(self, engine => engine.text_by_number(NUMBER_BY_ID_OR_NUMBER, id_or_tracking_no.to_owned()).await)
    }

    /// Whether a report with this id exists.
    pub async fn report_exists(&self, id: &str) -> Result<bool, StoreError> {
        on_engine!(self, engine => engine.report_exists(id).await)
    }

    /// Open reports of `category` within [`SAME_PLACE_M`] of a point in the last
    /// [`RELATED_DAYS`] days.
    pub async fn nearby_open(&self, category: &str, lat: f64, lon: f64) -> Result<usize, StoreError> {
        on_engine!(self, engine => engine.nearby_open(category, lat, lon).await)
    }

    /// Write transactions committed by this process since start (group commit makes this
    /// smaller than the number of writes under load on SQLite).
    pub fn commits(&self) -> u64 {
        on_engine!(self, engine => engine.commits())
    }

    /// Proves the database is reachable and writable.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        on_engine!(self, engine => engine.check_writable().await)
    }
}

/// Reports closer than this are "the same place".
pub const SAME_PLACE_M: f64 = 150.0;
/// How far back related reports are looked for.
pub const RELATED_DAYS: i64 = 30;
/// A report whose related earlier reports came from this many other senders (it is at least
/// the third sender) is flagged as one neighbours keep reporting.
pub const ESCALATE_AFTER: usize = 2;
/// Related reports looked at per new report, newest first: the work per report stays
/// bounded however many reports one spot collects.
pub const RELATED_SCAN: usize = 200;
/// Related report ids stored and forwarded per report, newest first.
pub const RELATED_IDS_KEPT: usize = 5;

/// What [`crate::lifecycle`] reads of a report, under the row's lock (PostgreSQL adds
/// `FOR UPDATE`). `$1` the report id.
const CURRENT: &str = "SELECT id, tracking_no, status, department, handlings, supervised_ms, due_ms, limit_ms, resolved_ms FROM reports WHERE id = $1";
/// The newest timeline step of report `$1`.
const LAST_STEP: &str = "SELECT step, status, at_ms, message, detail FROM timeline WHERE report_id = $1 ORDER BY seq DESC LIMIT 1";
/// Whether report `$1` has an answer with the phone's id `$2`.
const ANSWER_SEEN: &str = "SELECT EXISTS (SELECT 1 FROM answers WHERE report_id = $1 AND answer_id = $2)";
/// Makes sure class `$1` has a row (of category `$2`, kind `$3`, label `$4`, at `$5`), so
/// its state can be read under a lock.
const CLASS_ENSURE: &str = "INSERT INTO classes (key, category, kind, label, generation, members, first_ms, last_ms) VALUES ($1, $2, $3, $4, 0, 0, $5, $5) ON CONFLICT DO NOTHING";
/// Class `$1`'s state (PostgreSQL adds `FOR UPDATE`).
const CLASS_STATE: &str = "SELECT generation, members, first_ms, last_ms FROM classes WHERE key = $1";
/// Writes class `$1`'s state after a member joined.
const CLASS_UPDATE: &str = "UPDATE classes SET generation = $2, members = $3, first_ms = $4, last_ms = $5 WHERE key = $1";
/// Report `$3` joins generation `$2` of class `$1` at `$4`.
const CLASS_JOIN: &str = "INSERT INTO class_members (class_key, generation, report_id, joined_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
/// The newest members of generation `$2` of class `$1`.
const CLASS_MEMBERS: &str = "SELECT report_id FROM class_members WHERE class_key = $1 AND generation = $2 ORDER BY joined_ms DESC, report_id LIMIT 100";
/// The largest classes active in `[$2, $3)` with at least `$1` members, for the public
/// page: category, kind, members, the district most of its members are in (not finer),
/// and how many of them the department resolved.
const PUBLIC_CLASSES: &str = "SELECT c.category, c.kind, c.members,
        (SELECT r.district FROM class_members m JOIN reports r ON r.id = m.report_id
          WHERE m.class_key = c.key AND m.generation = c.generation AND r.district IS NOT NULL
          GROUP BY r.district ORDER BY COUNT(*) DESC, r.district LIMIT 1),
        (SELECT COUNT(*) FROM class_members m JOIN reports r ON r.id = m.report_id
          WHERE m.class_key = c.key AND m.generation = c.generation AND r.status IN ('resolved', 'closed'))
     FROM classes c WHERE c.members >= $1 AND c.last_ms >= $2 AND c.first_ms < $3
     ORDER BY c.members DESC, c.last_ms DESC LIMIT 10";

/// A class as the public page shows it: no subject and no position finer than the district.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicClass {
    /// Category code.
    pub category: String,
    /// `place` or `subject`.
    pub kind: String,
    /// Members.
    pub members: u64,
    /// The district most members are in.
    pub district: Option<String>,
    /// Members the department resolved.
    pub resolved: u64,
}

/// Every class, largest first, for operators.
const CLASS_LIST: &str = "SELECT key, category, kind, label, generation, members, first_ms, last_ms FROM classes WHERE members > 0 ORDER BY members DESC, last_ms DESC LIMIT $1";
/// Whether the phone `$2` supports report `$1` already.
const SUPPORT_SEEN: &str = "SELECT EXISTS (SELECT 1 FROM supports WHERE report_id = $1 AND supporter = $2)";
/// How many residents support report `$1`.
const SUPPORTERS: &str = "SELECT COUNT(*) FROM supports WHERE report_id = $1";
/// Stores a supporter of report `$1`.
const INSERT_SUPPORT: &str = "INSERT INTO supports (report_id, supporter, comment, at_ms, photo_sha256) VALUES ($1, $2, $3, $4, $5)";
/// Open reports of category `$1` accepted since `$2` inside the box `$3`–`$4` (lat), `$5`–`$6`
/// (lon), newest first: what "is it one of these?" offers.
const NEARBY_LIST: &str = "SELECT r.tracking_no, r.status, r.created_ms, r.lat, r.lon, r.body,
        (SELECT COUNT(*) FROM supports s WHERE s.report_id = r.id),
        (SELECT t.message FROM timeline t WHERE t.report_id = r.id AND t.message IS NOT NULL ORDER BY t.seq DESC LIMIT 1),
        (SELECT p.sha256 FROM photos p WHERE p.report_id = r.id ORDER BY p.position LIMIT 1)
     FROM reports r WHERE r.category = $1 AND r.created_ms >= $2 AND r.status IN ('received', 'forwarded', 'accepted', 'in_progress', 'reopened')
       AND r.lat BETWEEN $3 AND $4 AND r.lon BETWEEN $5 AND $6 AND r.purged_ms IS NULL
     ORDER BY r.created_ms DESC LIMIT 50";
/// Writes a [`Change`](crate::lifecycle::Change) to report `$1`; supervision is kept once begun.
const UPDATE_LIFECYCLE: &str = "UPDATE reports SET status = $2, department = $3, handlings = $4, due_ms = $5, resolved_ms = $6,
     supervised_ms = COALESCE(supervised_ms, $7), supervised_reason = COALESCE(supervised_reason, $8), duplicate_of = COALESCE($9, duplicate_of) WHERE id = $1";
/// Appends a step to report `$1`'s timeline, numbered after its newest.
const APPEND_STEP: &str = "INSERT INTO timeline (report_id, seq, step, status, at_ms, message, detail)
     SELECT CAST($1 AS TEXT), COALESCE(MAX(seq), 0) + 1, CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS BIGINT), CAST($5 AS TEXT), CAST($6 AS TEXT) FROM timeline WHERE report_id = $1";
/// Stores the resident's answer to one resolution (one per round: the key refuses a second).
const INSERT_ANSWER: &str = "INSERT INTO answers (report_id, round, answer_id, solved, rating, reasons, comment, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// Queues a message for the pipeline; its id makes a repeat a no-op.
const INSERT_MESSAGE: &str = "INSERT INTO messages (id, report_id, kind, body, state, next_attempt_ms, created_ms) VALUES ($1, $2, $3, $4, 'pending', $5, $5) ON CONFLICT DO NOTHING";
/// Open reports past their due time `$1` and not yet supervised, at most `$2`, oldest due first.
const OVERDUE: &str = "SELECT id FROM reports WHERE due_ms <= $1 AND supervised_ms IS NULL AND status IN ('received', 'forwarded', 'accepted', 'in_progress', 'reopened') ORDER BY due_ms LIMIT $2";
/// Resolved reports whose resolution came before `$1` (their answer window closed), at most `$2`.
const SILENT: &str = "SELECT id FROM reports WHERE status = 'resolved' AND resolved_ms <= $1 ORDER BY resolved_ms LIMIT $2";
/// The timeline of report `$1`, oldest first.
const TIMELINE: &str = "SELECT step, status, at_ms, message, detail FROM timeline WHERE report_id = $1 ORDER BY seq";
/// The id of the report with tracking number `$1` (sequence number `$2`).
const ID_BY_NUMBER: &str = concat!("SELECT id FROM reports WHERE ", by_number!());
/// The tracking number of the report with id or tracking number `$1` (sequence number `$2`).
const NUMBER_BY_ID_OR_NUMBER: &str = concat!("SELECT tracking_no FROM reports WHERE id = $1 OR (", by_number!(), ")");
/// The id of the report with id or tracking number `$1` (sequence number `$2`).
const ID_BY_ID_OR_NUMBER: &str = concat!("SELECT id FROM reports WHERE id = $1 OR (", by_number!(), ")");
/// The public view of the report with tracking number `$1` (sequence number `$2`).
const PUBLIC_VIEW: &str = concat!(
    "SELECT id, category, status, created_ms, department, due_ms, handlings, supervised_ms, supervised_reason, resolved_ms, duplicate_of,
        (SELECT COUNT(*) FROM supports s WHERE s.report_id = reports.id),
        (SELECT CAST(COALESCE(MAX(c.members), 0) AS BIGINT) FROM class_members m JOIN classes c ON c.key = m.class_key AND c.generation = m.generation WHERE m.report_id = reports.id)
     FROM reports WHERE ",
    by_number!()
);
/// Follow-up messages due for delivery: pending, due at `$3`, not leased, and only once
/// the report itself reached the pipeline. PostgreSQL adds `FOR UPDATE OF m SKIP LOCKED`.
const DUE_MESSAGES: &str = "SELECT m.id FROM messages m JOIN outbox o ON o.report_id = m.report_id
     WHERE m.state = 'pending' AND o.state = 'delivered' AND m.next_attempt_ms <= $3 AND (m.lease_until_ms IS NULL OR m.lease_until_ms <= $3)
     ORDER BY m.created_ms, m.id LIMIT $4";
/// A message as delivered: its body, the pipeline's ticket id, when it was queued.
const MESSAGE_BODY: &str = "SELECT m.body, o.ticket_id, m.created_ms, m.attempts FROM messages m JOIN outbox o ON o.report_id = m.report_id WHERE m.id = $1";
/// Records message `$1` delivered.
const MESSAGE_DELIVERED: &str = "UPDATE messages SET state = 'delivered', attempts = attempts + 1, delivered_ms = $2, last_error = NULL, lease_owner = NULL, lease_until_ms = NULL WHERE id = $1";
/// Records a failed delivery of message `$1`; returns the attempts.
const MESSAGE_FAILED: &str =
    "UPDATE messages SET state = $2, attempts = attempts + 1, last_error = $3, next_attempt_ms = $4, lease_owner = NULL, lease_until_ms = NULL WHERE id = $1 RETURNING attempts";
/// The residents' answers per department and category: rated, satisfied (the top three
/// levels), not solved (reopenings), and resolutions closed by silence.
const ANSWER_FIGURES: &str = "SELECT r.department, r.category, COUNT(a.rating),
        SUM(CASE WHEN a.rating IN ('very_satisfied', 'satisfied', 'basically_satisfied') THEN 1 ELSE 0 END),
        SUM(CASE WHEN a.solved = 0 THEN 1 ELSE 0 END),
        SUM(CASE WHEN a.answer_id IS NULL THEN 1 ELSE 0 END)
     FROM answers a JOIN reports r ON r.id = a.report_id GROUP BY r.department, r.category";
/// A report as an Open311 listing shows it (see [`ListedReport`]); `$1` its tracking number
/// (sequence number `$2`).
const LISTED_BY_NUMBER: &str = concat!(
    "SELECT r.tracking_no, r.category, r.status, r.created_ms, r.department, r.due_ms, r.body,
        (SELECT MAX(t.at_ms) FROM timeline t WHERE t.report_id = r.id),
        (SELECT t.message FROM timeline t WHERE t.report_id = r.id AND t.message IS NOT NULL ORDER BY t.seq DESC LIMIT 1),
        (SELECT p.sha256 FROM photos p WHERE p.report_id = r.id ORDER BY p.position LIMIT 1)
     FROM reports r WHERE ",
    by_number!()
);
/// Reports accepted between `$1` and `$2` (ms), of category `$3` (any when empty), open or
/// closed as `$4` says (`open`, `closed`, or any when empty), newest first, at most `$5`.
const LISTED_BETWEEN: &str = "SELECT r.tracking_no, r.category, r.status, r.created_ms, r.department, r.due_ms, r.body,
        (SELECT MAX(t.at_ms) FROM timeline t WHERE t.report_id = r.id),
        (SELECT t.message FROM timeline t WHERE t.report_id = r.id AND t.message IS NOT NULL ORDER BY t.seq DESC LIMIT 1),
        (SELECT p.sha256 FROM photos p WHERE p.report_id = r.id ORDER BY p.position LIMIT 1)
     FROM reports r
     WHERE r.created_ms >= $1 AND r.created_ms <= $2 AND ($3 = '' OR r.category = $3)
       AND ($4 = '' OR ($4 = 'closed') = (r.status IN ('resolved', 'closed', 'rejected', 'duplicate')))
     ORDER BY r.created_ms DESC LIMIT $5";

/// A report as the Open311 door lists it: what the public may see is chosen there.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedReport {
    /// Tracking number (the Open311 `service_request_id`).
    pub tracking_no: String,
    /// Category code.
    pub category: String,
    /// Status now.
    pub status: Status,
    /// When it was accepted (ms).
    pub created_ms: i64,
    /// The department that has it.
    pub department: String,
    /// Its due time.
    pub due_ms: Option<i64>,
    /// The stored report (no contact: that lives apart).
    pub report: ReportSubmission,
    /// When it last changed (ms).
    pub updated_ms: Option<i64>,
    /// The department's newest public words.
    pub notes: Option<String>,
    /// Its first photo's hash.
    pub photo: Option<String>,
}

/// Which reports an Open311 listing asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListFilter {
    /// From (ms).
    pub since_ms: i64,
    /// Until (ms).
    pub until_ms: i64,
    /// One category's code, or any.
    pub category: Option<String>,
    /// `Some(true)` open only, `Some(false)` closed only.
    pub open: Option<bool>,
    /// At most this many.
    pub limit: usize,
}

/// The raw row both engines read for a [`ListedReport`].
type ListedRow = (String, String, String, i64, String, Option<i64>, String, Option<i64>, Option<String>, Option<String>);

fn listed(row: ListedRow) -> Result<ListedReport, StoreError> {
    let (tracking_no, category, status, created_ms, department, due_ms, body, updated_ms, notes, photo) = row;
    Ok(ListedReport { tracking_no, category, status: parse_wire(&status)?, created_ms, department, due_ms, report: serde_json::from_str(&body)?, updated_ms, notes, photo })
}

/// Every report accepted in `[$1, $2)` as the city's figures count it: category, district,
/// times, the newest rating — nothing personal.
const COUNTED: &str = "SELECT r.category, r.district, r.created_ms, r.due_ms,
        (SELECT MIN(t.at_ms) FROM timeline t WHERE t.report_id = r.id AND t.step = 'resolved'),
        (SELECT a.rating FROM answers a WHERE a.report_id = r.id AND a.rating IS NOT NULL ORDER BY a.round DESC LIMIT 1)
     FROM reports r WHERE r.created_ms >= $1 AND r.created_ms < $2";

/// The raw row both engines read for a [`crate::figures::Counted`].
type CountedRow = (String, Option<String>, i64, Option<i64>, Option<i64>, Option<String>);

fn counted(row: CountedRow) -> crate::figures::Counted {
    let (category, district, created_ms, due_ms, resolved_ms, rating) = row;
    crate::figures::Counted { category, district, created_ms, due_ms, resolved_ms, rating: rating.as_deref().and_then(lianxin_contract::follow_up::Satisfaction::from_code) }
}

/// Open reports past their due time `$1`, per department and category.
const OVERDUE_FIGURES: &str = "SELECT department, category, COUNT(*) FROM reports
     WHERE due_ms < $1 AND status IN ('received', 'forwarded', 'accepted', 'in_progress', 'reopened') GROUP BY department, category";

/// An earlier report that may be of the same problem, as the candidate query returns it.
struct Candidate {
    id: String,
    lat: Option<f64>,
    lon: Option<f64>,
    phone_hash: Option<String>,
    sender_hash: Option<String>,
}

/// The reports whose personal data is due for the purge, with their stored bodies: `$1`
/// closed before (resolved or rejected then, or dead-lettered and accepted before), `$2`
/// accepted before whatever their state. Both engines read these placeholders.
const PURGE_DUE: &str = "SELECT r.id, r.body FROM reports r WHERE r.purged_ms IS NULL AND (
        r.created_ms < $2
     OR EXISTS (SELECT 1 FROM timeline e WHERE e.report_id = r.id AND e.step IN ('resolved', 'rejected', 'closed', 'duplicate') AND e.at_ms < $1)
     OR (r.created_ms < $1 AND EXISTS (SELECT 1 FROM outbox o WHERE o.report_id = r.id AND o.state = 'dead_letter')))";

/// Records the delivery of report `$1` (the pipeline's ticket `$2`, at `$3`) and releases its lease.
const MARK_DELIVERED: &str = "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, ticket_id = $2, delivered_ms = $3, last_error = NULL,
     lease_owner = NULL, lease_until_ms = NULL WHERE report_id = $1";
/// Report `$1` is with the pipeline now (a later status is kept).
const REPORT_FORWARDED: &str = "UPDATE reports SET status = 'forwarded' WHERE id = $1 AND status = 'received'";
/// Appends the `forwarded` step to report `$1` at `$2`, once. Run after the report's status
/// moved on. (The casts let PostgreSQL type the parameters of an `INSERT … SELECT`.)
/// PostgreSQL's only: SQLite would run this `INSERT … SELECT` of the table it writes through
/// a temporary b-tree per report, so it asks and inserts in two statements of its own
/// (`FORWARDED_STEP_RECORDED`, `FORWARDED_STEP_VALUES` in `sqlite.rs`).
const FORWARDED_STEP: &str = "INSERT INTO timeline (report_id, seq, step, status, at_ms)
     SELECT CAST($1 AS TEXT), (SELECT COALESCE(MAX(seq), 0) + 1 FROM timeline WHERE report_id = $1), 'forwarded', (SELECT status FROM reports WHERE id = $1), CAST($2 AS BIGINT)
     WHERE NOT EXISTS (SELECT 1 FROM timeline WHERE report_id = $1 AND step = 'forwarded')";

/// Marks report `$1` purged at `$2` and keeps `$3`, its body scrubbed (`scrubbed_body`),
/// without its sender and exact position.
const PURGE_REPORT: &str = "UPDATE reports SET purged_ms = $2, sender_hash = NULL, lat = NULL, lon = NULL, body = $3 WHERE id = $1";

/// What else the retention purge removes of report `$1`: its contact, and of its way back the
/// department's public words, the resident's comments and the messages holding them.
const PURGE_PERSONAL: [&str; 5] = [
    "DELETE FROM contacts WHERE report_id = $1",
    "UPDATE timeline SET message = NULL WHERE report_id = $1",
    "UPDATE answers SET comment = NULL WHERE report_id = $1",
    "UPDATE supports SET comment = NULL WHERE report_id = $1",
    "DELETE FROM messages WHERE report_id = $1",
];

/// Whether an unpurged report uses photo `$1`, as one of its own or a supporter's.
const PHOTO_IN_USE: &str = "SELECT EXISTS (SELECT 1 FROM photos p JOIN reports r ON r.id = p.report_id WHERE p.sha256 = $1 AND r.purged_ms IS NULL)
     OR EXISTS (SELECT 1 FROM supports s JOIN reports r ON r.id = s.report_id WHERE s.photo_sha256 = $1 AND r.purged_ms IS NULL)";

/// The photos of report `$1`: its own and its supporters'.
const REPORT_PHOTOS: &str = "SELECT sha256 FROM photos WHERE report_id = $1 UNION SELECT photo_sha256 FROM supports WHERE report_id = $1 AND photo_sha256 IS NOT NULL";

/// A stored report body without what the retention policy removes: the description, the
/// address and the exact position (the district stays, for the city's figures).
fn scrubbed_body(body: &str) -> Result<String, StoreError> {
    let mut report: serde_json::Value = serde_json::from_str(body)?;
    if let Some(object) = report.as_object_mut() {
        object.insert("description".into(), serde_json::Value::String(String::new()));
        if let Some(location) = object.get_mut("location").and_then(serde_json::Value::as_object_mut) {
            location.retain(|key, _| key == "district");
        }
    }
    Ok(serde_json::to_string(&report)?)
}

/// One page of open tickets (see [`Store::open_tickets`]); `$1` the last report id of the
/// previous page, `$2` the page size. Both engines read these placeholders.
const OPEN_TICKETS: &str = "SELECT o.report_id, o.ticket_id FROM outbox o JOIN reports r ON r.id = o.report_id
     WHERE o.state = 'delivered' AND o.ticket_id IS NOT NULL AND r.status IN ('received', 'forwarded', 'accepted', 'in_progress', 'reopened') AND o.report_id > $1
     ORDER BY o.report_id LIMIT $2";

/// The ids of the reports a report is related to, newest first, at most
/// [`RELATED_IDS_KEPT`] (reports stored before the bound have more rows). `$1` is the
/// report's id; both engines read this placeholder.
fn related_ids_sql() -> String {
    format!("SELECT x.related_id FROM relations x JOIN reports r ON r.id = x.related_id WHERE x.report_id = $1 ORDER BY r.created_ms DESC, x.related_id LIMIT {RELATED_IDS_KEPT}")
}

/// The earlier open reports of the same problem a new report is related to.
#[derive(Debug, Default)]
struct Related {
    /// The newest ids, at most [`RELATED_IDS_KEPT`].
    ids: Vec<String>,
    /// How many there are (among the newest [`RELATED_SCAN`] candidates).
    count: usize,
    /// Whether they came from at least [`ESCALATE_AFTER`] other senders.
    escalate: bool,
}

/// Where related reports are looked for: the category, since when, the phone hash and a
/// bounding box around the position (the exact distance is checked by [`Search::keep`]).
/// The sender's hash only decides which related reports count as other senders'.
struct Search<'a> {
    category: &'a str,
    since_ms: i64,
    phone_hash: Option<&'a str>,
    sender_hash: Option<&'a str>,
    position: Option<(f64, f64)>,
    /// min lat, max lat, min lon, max lon; NULL (matching nothing) without a position.
    bounds: [Option<f64>; 4],
}

impl<'a> Search<'a> {
    /// `None` when there is nothing to relate by.
    fn new(category: &'a str, position: Option<(f64, f64)>, phone_hash: Option<&'a str>, sender_hash: Option<&'a str>, now_ms: i64) -> Option<Search<'a>> {
        if position.is_none() && phone_hash.is_none() {
            return None;
        }
        let bounds = position.map_or([None; 4], |(lat, lon)| {
            let d_lat = SAME_PLACE_M / 111_000.0;
            let d_lon = d_lat / lat.to_radians().cos().abs().max(0.01);
            [Some(lat - d_lat), Some(lat + d_lat), Some(lon - d_lon), Some(lon + d_lon)]
        });
        Some(Search { category, since_ms: now_ms - RELATED_DAYS * 86_400_000, phone_hash, sender_hash, position, bounds })
    }

    /// Of the candidates (newest first, at most [`RELATED_SCAN`]), those from the same
    /// phone or really within [`SAME_PLACE_M`]; and whether other senders filed them. A
    /// related report counts as another sender's unless it came from this network or this
    /// phone; reports stored before senders were recorded count as one sender each.
    fn keep(&self, candidates: Vec<Candidate>) -> Related {
        let mut related = Related::default();
        let mut other_senders = std::collections::HashSet::new();
        for candidate in candidates {
            let same_person = self.phone_hash.is_some() && candidate.phone_hash.as_deref() == self.phone_hash;
            let same_place =
                matches!((self.position, candidate.lat, candidate.lon), (Some((lat, lon)), Some(other_lat), Some(other_lon)) if geo::distance_m(lat, lon, other_lat, other_lon) <= SAME_PLACE_M);
            if !(same_person || same_place) {
                continue;
            }
            related.count += 1;
            let same_sender = same_person || (self.sender_hash.is_some() && candidate.sender_hash.as_deref() == self.sender_hash);
            if !same_sender {
                other_senders.insert(candidate.sender_hash.clone().unwrap_or_else(|| candidate.id.clone()));
            }
            if related.ids.len() < RELATED_IDS_KEPT {
                related.ids.push(candidate.id);
            }
        }
        related.escalate = other_senders.len() >= ESCALATE_AFTER;
        related
    }
}

fn receipt(id: String, tracking_no: String, created_ms: i64) -> Receipt {
    Receipt { status_url: format!("/api/v1/reports/{tracking_no}"), id, tracking_no, created_at: ids::rfc3339(created_ms), follow_up_secret: String::new(), follow_up_url: String::new() }
}

/// Reads a wire name (a status, a step) as stored.
fn parse_wire<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    Ok(serde_json::from_value(serde_json::Value::String(text.to_owned()))?)
}

/// The wire name of a status or a step, as stored.
fn wire<T: Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|value| value.as_str().map(str::to_owned)).unwrap_or_default()
}

/// One row of [`Store::loop_figures`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopFigures {
    /// Department code.
    pub department: String,
    /// Category code.
    pub category: String,
    /// Resolutions the resident rated.
    pub rated: u64,
    /// Of those, rated in the top three levels.
    pub satisfied: u64,
    /// Resolutions the resident said did not solve it (reopenings).
    pub unsolved: u64,
    /// Resolutions closed by silence.
    pub silent: u64,
    /// Open reports past their due time.
    pub overdue: u64,
}

/// Adds the overdue counts to the answer figures, one row per department and category.
fn merge_figures(mut answered: Vec<LoopFigures>, overdue: Vec<(String, String, u64)>) -> Vec<LoopFigures> {
    for (department, category, count) in overdue {
        match answered.iter_mut().find(|row| row.department == department && row.category == category) {
            Some(row) => row.overdue = count,
            None => answered.push(LoopFigures { department, category, overdue: count, ..LoopFigures::default() }),
        }
    }
    answered.sort_by(|a, b| (&a.department, &a.category).cmp(&(&b.department, &b.category)));
    answered
}

/// A report's row as [`CURRENT`] reads it.
struct CurrentRow {
    id: String,
    tracking_no: String,
    status: String,
    department: String,
    handlings: i64,
    supervised_ms: Option<i64>,
    due_ms: Option<i64>,
    limit_ms: Option<i64>,
    resolved_ms: Option<i64>,
}

/// A timeline row as [`LAST_STEP`] and [`TIMELINE`] read it.
struct StepRow {
    step: String,
    status: String,
    at_ms: i64,
    message: Option<String>,
    detail: Option<String>,
}

impl StepRow {
    fn into_step(self) -> Result<NewStep, StoreError> {
        Ok(NewStep { step: Some(parse_wire(&self.step)?), status: Some(parse_wire(&self.status)?), at_ms: self.at_ms, message: self.message, detail: Detail::from_json(self.detail.as_deref()) })
    }

    fn into_public(self) -> Result<StatusEvent, StoreError> {
        let detail = Detail::from_json(self.detail.as_deref());
        Ok(StatusEvent {
            step: parse_wire(&self.step)?,
            status: parse_wire(&self.status)?,
            at: ids::rfc3339(self.at_ms),
            message: self.message,
            planned_for: detail.planned_for,
            department: detail.department,
            due_at: detail.due_ms.map(ids::rfc3339),
            duplicate_of: detail.duplicate_of,
            reason: detail.reason,
            answer: detail.answer,
        })
    }
}

impl CurrentRow {
    fn into_current(self, last: Option<StepRow>, answer_seen: bool, supporters: i64) -> Result<Current, StoreError> {
        Ok(Current {
            status: parse_wire(&self.status)?,
            id: self.id,
            tracking_no: self.tracking_no,
            department: self.department,
            handlings: self.handlings as u32,
            supervised: self.supervised_ms.is_some(),
            due_ms: self.due_ms,
            limit_ms: self.limit_ms,
            resolved_ms: self.resolved_ms,
            last: last.map(StepRow::into_step).transpose()?,
            answer_seen,
            supporters: supporters as u32,
        })
    }
}

/// The public view's row as [`PUBLIC_VIEW`] reads it.
struct ViewRow {
    category: String,
    status: String,
    created_ms: i64,
    department: String,
    due_ms: Option<i64>,
    handlings: i64,
    supervised_ms: Option<i64>,
    supervised_reason: Option<String>,
    resolved_ms: Option<i64>,
    duplicate_of: Option<String>,
    supporters: i64,
    class_size: i64,
}

impl ViewRow {
    fn into_status(self, tracking_no: &str, timeline: Vec<StepRow>, answer_window_ms: i64) -> Result<ReportStatus, StoreError> {
        let status: Status = parse_wire(&self.status)?;
        let timeline = timeline.into_iter().map(StepRow::into_public).collect::<Result<Vec<_>, _>>()?;
        // The supervising office is named on the timeline's `supervised` step.
        let supervisor = timeline.iter().rev().find_map(|event| event.reason.and(event.department.clone()));
        let open = !status.is_final() && status != Status::Resolved;
        Ok(ReportStatus {
            tracking_no: tracking_no.to_owned(),
            category: self.category,
            status,
            created_at: ids::rfc3339(self.created_ms),
            department: self.department,
            due_at: self.due_ms.filter(|_| open).map(ids::rfc3339),
            handlings: self.handlings as u32,
            supervision: match (self.supervised_ms, self.supervised_reason.as_deref().and_then(EscalationReason::from_code)) {
                (Some(at), Some(reason)) => Some(Supervision { at: ids::rfc3339(at), reason, department: supervisor.unwrap_or_default() }),
                _ => None,
            },
            answer_until: self.resolved_ms.filter(|_| status == Status::Resolved).map(|resolved| ids::rfc3339(resolved + answer_window_ms)),
            duplicate_of: self.duplicate_of,
            supporters: self.supporters as u32,
            class_size: self.class_size as u32,
            timeline,
        })
    }
}

/// The values a [`Change`] writes with [`UPDATE_LIFECYCLE`], in its placeholder order after the id.
struct ChangeRow {
    status: String,
    department: String,
    handlings: i32,
    due_ms: Option<i64>,
    resolved_ms: Option<i64>,
    supervised_ms: Option<i64>,
    supervised_reason: Option<&'static str>,
    duplicate_of: Option<String>,
}

impl ChangeRow {
    fn of(change: &Change) -> ChangeRow {
        ChangeRow {
            status: wire(change.status),
            department: change.department.clone(),
            handlings: change.handlings as i32,
            due_ms: change.due_ms,
            resolved_ms: change.resolved_ms,
            supervised_ms: change.supervised.map(|(at, _)| at),
            supervised_reason: change.supervised.map(|(_, reason)| reason.code()),
            duplicate_of: change.duplicate_of.clone(),
        }
    }
}

/// A message's JSON as stored (its ticket id is added at delivery).
fn message_json(message: &PipelineMessage) -> Result<String, StoreError> {
    Ok(serde_json::to_string(message)?)
}

/// Steps the lifecycle for `current` (None: no such report).
fn decide(current: Option<Current>, input: Input, policy: &Policy) -> Result<Outcome, Refusal> {
    match current {
        Some(current) => lifecycle::step(&current, input, policy),
        None => Err(Refusal::NoSuchReport),
    }
}

/// What tells a repeat of an input: the statement and its key (the answer's id, the
/// supporting phone).
fn seen_check(input: &Input) -> Option<(&'static str, String)> {
    match input {
        Input::Answer { answer, .. } => Some((ANSWER_SEEN, answer.answer_id.clone())),
        Input::Support { supporter, .. } => Some((SUPPORT_SEEN, supporter.clone())),
        _ => None,
    }
}

/// The box of latitudes and longitudes around a point that holds a circle of `radius_m`.
fn box_around(lat: f64, lon: f64, radius_m: f64) -> [f64; 4] {
    let d_lat = radius_m / 111_000.0;
    let d_lon = d_lat / lat.to_radians().cos().abs().max(0.01);
    [lat - d_lat, lat + d_lat, lon - d_lon, lon + d_lon]
}

/// A grid cell with open reports in it (see [`Store::open_cells`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct OpenCell {
    /// The cell's centre, WGS 84.
    pub lat: f64,
    /// The cell's centre, WGS 84.
    pub lon: f64,
    /// Open reports in the cell.
    pub count: u32,
}

/// A report "is it one of these?" offers (see [`Store::nearby_reports`]).
#[derive(Debug, Clone, PartialEq)]
pub struct NearbyReport {
    /// Tracking number.
    pub tracking_no: String,
    /// Status now.
    pub status: Status,
    /// When it was accepted (ms).
    pub created_ms: i64,
    /// Metres from the asked point.
    pub distance_m: f64,
    /// The report (its words shown only when filed as public).
    pub report: ReportSubmission,
    /// Residents supporting it.
    pub supporters: u32,
    /// The department's newest public words.
    pub reply: Option<String>,
    /// Its first photo's hash.
    pub photo: Option<String>,
}

/// The raw row both engines read for a [`NearbyReport`].
type NearbyRow = (String, String, i64, Option<f64>, Option<f64>, String, i64, Option<String>, Option<String>);

/// A report split into what the tables hold: the body without contact, the position, and
/// the sealed contact when the resident consented to give one.
struct Rows {
    body: String,
    category: String,
    kind: &'static str,
    lat: Option<f64>,
    lon: Option<f64>,
    phone_hash: Option<String>,
    name_sealed: Option<Vec<u8>>,
    phone_sealed: Option<Vec<u8>>,
    consented: bool,
    sender_hash: Option<String>,
    /// The report as the pipeline receives it, as [`outbox_body`] makes it of these rows.
    forwarded: ReportSubmission,
}

impl Rows {
    fn of(report: &ReportSubmission, sender: Option<&str>, cipher: &ContactCipher) -> Result<Rows, StoreError> {
        let mut report = report.clone();
        let contact = report.contact.take().filter(|contact| contact.consent);
        let (lat, lon) = report.location.as_ref().map_or((None, None), |location| (location.lat, location.lon));
        let phone = contact.as_ref().and_then(|contact| contact.phone.as_deref());
        let body = serde_json::to_string(&report)?;
        let (phone_hash, phone_sealed) = (phone.map(|phone| cipher.phone_hash(phone)), phone.map(|phone| cipher.seal(phone)));
        let name_sealed = contact.as_ref().and_then(|contact| contact.name.as_deref()).map(|name| cipher.seal(name));
        let consented = contact.is_some();
        report.contact = contact;
        Ok(Rows {
            body,
            category: report.category.clone(),
            kind: report.kind.code(),
            lat,
            lon,
            phone_hash,
            name_sealed,
            phone_sealed,
            consented,
            sender_hash: sender.map(|network| cipher.sender_hash(network)),
            forwarded: report,
        })
    }
}

/// A stored contact: sealed name and sealed phone.
type SealedContact = (Option<Vec<u8>>, Option<Vec<u8>>);

/// Rebuilds the report the pipeline gets from its stored body and sealed contact.
fn outbox_body(body: &str, contact: Option<SealedContact>, cipher: &ContactCipher) -> Result<ReportSubmission, StoreError> {
    let mut report: ReportSubmission = serde_json::from_str(body)?;
    report.contact = contact.map(|(name, phone)| lianxin_contract::Contact { name: name.and_then(|sealed| cipher.open(&sealed)), phone: phone.and_then(|sealed| cipher.open(&sealed)), consent: true });
    Ok(report)
}
