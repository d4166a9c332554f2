//! The PostgreSQL engine, for cities that run several server instances against one
//! database. Every instance takes pooled connections (deadpool + tokio-postgres); a report
//! is one transaction; the outbox is shared, with rows leased to one forwarder at a time
//! (`FOR UPDATE SKIP LOCKED`). Migrations are numbered in the `lianxin_schema` table and
//! applied under an advisory lock, so instances starting together apply each once.
//!
//! The connection URL is libpq's (`postgres://user:pass@host:port/db?options=...`); the
//! schema can be chosen with `options=-csearch_path%3D<schema>`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use lianxin_contract::Receipt;
use lianxin_contract::pipeline::{PipelinePhoto, PipelineReport};
use tokio_postgres::{GenericClient, NoTls};

use super::{
    ANSWER_FIGURES, APPEND_STEP, COUNTED, CURRENT, Candidate, ChangeRow, CountedRow, CurrentRow, DUE_MESSAGES, FORWARDED_STEP, INSERT_ANSWER, INSERT_MESSAGE, Inserted, LAST_STEP, LISTED_BETWEEN,
    LISTED_BY_NUMBER, ListedRow, LoopFigures, MESSAGE_BODY, MESSAGE_DELIVERED, MESSAGE_FAILED, NewReport, OPEN_TICKETS, OVERDUE_FIGURES, OutboxEntry, OutboxStats, Outgoing, PHOTO_IN_USE, PUBLIC_VIEW,
    PURGE_DUE, PURGE_PERSONAL, PURGE_REPORT, Purged, RELATED_SCAN, Related, Rows, Search, StepRow, StoreError, TIMELINE, UPDATE_LIFECYCLE, ViewRow, decide, merge_figures, message_json, outbox_body,
    receipt, related_ids_sql, scrubbed_body, wire,
};
use super::{CLASS_ENSURE, CLASS_JOIN, CLASS_MEMBERS, CLASS_STATE, CLASS_UPDATE, INSERT_SUPPORT, MARK_DELIVERED, NEARBY_LIST, NearbyRow, REPORT_FORWARDED, SUPPORTERS, seen_check};
use crate::ids;
use crate::lifecycle::{Change, Input, Outcome, Policy, Refusal};
use crate::privacy::ContactCipher;
use crate::tracking;

/// The schema's migrations, in order; `lianxin_schema` records which are applied. Never
/// edit a released migration: append a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("postgres/001_schema.sql"),
    include_str!("postgres/002_bounded_relations.sql"),
    include_str!("postgres/003_follow_up.sql"),
    include_str!("postgres/004_open311.sql"),
    include_str!("postgres/005_support.sql"),
    include_str!("postgres/006_classes.sql"),
    include_str!("postgres/007_support_photo.sql"),
    include_str!("postgres/008_class_members_newest.sql"),
    include_str!("postgres/009_tracking_sequence.sql"),
];

/// Any number, the same in every instance: the advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x4c69_616e_7869_6e00;

/// Handle to the PostgreSQL store; cheap to clone.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    cipher: ContactCipher,
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password; the pool's status is what an operator wants.
        formatter.debug_struct("PostgresStore").field("pool", &self.pool.status()).finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to `url` with at most `pool_size` connections and applies the migrations.
    pub async fn open(url: &str, pool_size: usize, cipher: ContactCipher) -> Result<PostgresStore, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(|error: tokio_postgres::Error| StoreError::Url(error.to_string()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        config.application_name("lianxin");
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|error| StoreError::Pool(error.to_string()))?;
        let store = PostgresStore { pool, cipher, commits: Arc::default() };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(|error| match error {
            deadpool_postgres::PoolError::Backend(error) => StoreError::Postgres(error),
            other => StoreError::Pool(other.to_string()),
        })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        transaction.batch_execute("CREATE TABLE IF NOT EXISTS lianxin_schema (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)").await?;
        let applied: i32 = transaction.query_one("SELECT coalesce(max(version), 0) FROM lianxin_schema", &[]).await?.get(0);
        if applied as usize > MIGRATIONS.len() {
            return Err(StoreError::SchemaTooNew { found: i64::from(applied), known: MIGRATIONS.len() });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
            transaction.batch_execute(migration).await?;
            transaction.execute("INSERT INTO lianxin_schema (version, applied_ms) VALUES ($1, $2)", &[&(index as i32 + 1), &ids::now_ms()]).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Runs `insert` once per row in one transaction; returns the rows written (the copy
    /// from SQLite).
    pub(super) async fn insert_rows(&self, insert: &str, rows: Vec<Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>>>) -> Result<u64, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let statement = transaction.prepare(insert).await?;
        let mut written = 0;
        for row in &rows {
            let parameters: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = row.iter().map(|value| value.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync)).collect();
            written += transaction.execute(&statement, &parameters).await?;
        }
        transaction.commit().await?;
        Ok(written)
    }

    pub(super) async fn find_by_idempotency_key(&self, idempotency_key: &str) -> Result<Option<(Receipt, String)>, StoreError> {
        find_by_key(&**self.client().await?, idempotency_key).await
    }

    pub(super) async fn insert_report(&self, new: NewReport) -> Result<Inserted, StoreError> {
        let rows = Rows::of(&new.report, new.sender.as_deref(), &self.cipher)?;
        let mut client = self.client().await?;
        loop {
            let transaction = client.transaction().await?;
            if let Some((receipt, hash)) = find_by_key(&*transaction, &new.idempotency_key).await? {
                return Ok(Inserted::Existing { receipt, same_request: hash == new.request_hash });
            }
            let now = ids::now_ms();
            let search = Search::new(&rows.category, rows.lat.zip(rows.lon), rows.phone_hash.as_deref(), rows.sender_hash.as_deref(), now);
            let related = related_reports(&*transaction, search).await?;
            let tracking_no = tracking::drawn();
            // Another instance may be inserting the same idempotency key right now: the
            // unique index makes this wait for it, then skip. A tracking number collision
            // skips too; the loop tells the two apart.
            let inserted = transaction
                .execute(
                    "INSERT INTO reports (id, tracking_no, idempotency_key, request_hash, category, department, district, kind, body, status, created_ms, lat, lon, escalate, related_count, sender_hash, limit_ms, due_ms, source)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'received', $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT DO NOTHING",
                    &[
                        &new.id, &tracking_no, &new.idempotency_key, &new.request_hash, &rows.category, &new.department, &new.district,
                        &rows.kind, &rows.body, &now, &rows.lat, &rows.lon, &related.escalate, &(related.count as i32), &rows.sender_hash,
                        &new.limit_ms, &new.limit_ms.map(|limit| now + limit), &new.source,
                    ],
                )
                .await?;
            if inserted == 0 {
                transaction.rollback().await?;
                continue;
            }
            for related_id in &related.ids {
                transaction.execute("INSERT INTO relations (report_id, related_id) VALUES ($1, $2)", &[&new.id, related_id]).await?;
            }
            let member = crate::classes::Member { id: &new.id, tracking_no: &tracking_no, department: &new.department, category: &rows.category };
            for class in &new.classes {
                transaction.execute(CLASS_ENSURE, &[&class.key, &rows.category, &class.kind.code(), &class.label, &now]).await?;
                // The class row's lock: two servers adding members take turns, each on what the other committed.
                let row = transaction.query_one(&format!("{CLASS_STATE} FOR UPDATE"), &[&class.key]).await?;
                let stored = crate::classes::ClassState { generation: i64::from(row.get::<_, i32>(0)), members: row.get::<_, i32>(1) as u32, first_ms: row.get(2), last_ms: row.get(3) };
                let joined = crate::classes::join(Some(stored), class.kind, now, &new.class_rules.effective(&rows.category));
                let state = joined.state;
                transaction.execute(CLASS_UPDATE, &[&class.key, &(state.generation as i32), &(state.members as i32), &state.first_ms, &state.last_ms]).await?;
                transaction.execute(CLASS_JOIN, &[&class.key, &(state.generation as i32), &new.id, &now]).await?;
                if joined.message.is_some() || joined.hotspot {
                    let members = transaction.query(CLASS_MEMBERS, &[&class.key, &(state.generation as i32)]).await?.iter().map(|row| row.get(0)).collect();
                    for (index, message) in crate::classes::messages(&joined, class, &member, members).iter().enumerate() {
                        transaction.execute(INSERT_MESSAGE, &[&message.id, &new.id, &message.message.code(), &message_json(message)?, &(now + index as i64)]).await?;
                    }
                }
            }
            for (position, photo) in new.photos.iter().enumerate() {
                transaction
                    .execute(
                        "INSERT INTO photos (report_id, position, sha256, width, height, bytes) VALUES ($1, $2, $3, $4, $5, $6)",
                        &[&new.id, &(position as i32), &photo.sha256, &(photo.width as i32), &(photo.height as i32), &(photo.bytes as i64)],
                    )
                    .await?;
            }
            if rows.consented {
                transaction
                    .execute("INSERT INTO contacts (report_id, name_sealed, phone_sealed, phone_hash) VALUES ($1, $2, $3, $4)", &[&new.id, &rows.name_sealed, &rows.phone_sealed, &rows.phone_hash])
                    .await?;
            }
            transaction.execute("INSERT INTO outbox (report_id, state, next_attempt_ms) VALUES ($1, 'pending', $2)", &[&new.id, &now]).await?;
            transaction.execute("INSERT INTO timeline (report_id, seq, step, status, at_ms) VALUES ($1, 1, 'received', 'received', $2)", &[&new.id, &now]).await?;
            transaction.commit().await?;
            self.commits.fetch_add(1, Ordering::Relaxed);
            return Ok(Inserted::Created(receipt(new.id.clone(), tracking_no, now)));
        }
    }

    pub(super) async fn public_view(&self, tracking_no: &str) -> Result<Option<(ViewRow, Vec<StepRow>)>, StoreError> {
        let client = self.client().await?;
        let Some(row) = client.query_opt(PUBLIC_VIEW, &[&tracking_no, &None::<i64>]).await? else {
            return Ok(None);
        };
        let id: String = row.get(0);
        let view = ViewRow {
            category: row.get(1),
            status: row.get(2),
            created_ms: row.get(3),
            department: row.get(4),
            due_ms: row.get(5),
            handlings: i64::from(row.get::<_, i32>(6)),
            supervised_ms: row.get(7),
            supervised_reason: row.get(8),
            resolved_ms: row.get(9),
            duplicate_of: row.get(10),
            supporters: row.get(11),
            class_size: row.get(12),
        };
        let timeline = client.query(TIMELINE, &[&id]).await?.iter().map(step_row).collect();
        Ok(Some((view, timeline)))
    }

    pub(super) async fn advance(&self, id: &str, input: Input, policy: Policy) -> Result<Result<Outcome, Refusal>, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        // The row lock: two servers changing one report take turns, and each decides on
        // what the other committed.
        let current = match transaction.query_opt(&format!("{CURRENT} FOR UPDATE"), &[&id]).await? {
            Some(row) => {
                let row = CurrentRow {
                    id: row.get(0),
                    tracking_no: row.get(1),
                    status: row.get(2),
                    department: row.get(3),
                    handlings: i64::from(row.get::<_, i32>(4)),
                    supervised_ms: row.get(5),
                    due_ms: row.get(6),
                    limit_ms: row.get(7),
                    resolved_ms: row.get(8),
                };
                let last = transaction.query_opt(LAST_STEP, &[&id]).await?.as_ref().map(step_row);
                let seen = match seen_check(&input) {
                    Some((sql, key)) => transaction.query_one(sql, &[&id, &key]).await?.get(0),
                    None => false,
                };
                let supporters: i64 = transaction.query_one(SUPPORTERS, &[&id]).await?.get(0);
                Some(row.into_current(last, seen, supporters)?)
            }
            None => None,
        };
        let outcome = decide(current, input, &policy);
        if let Ok(Outcome::Changed(change)) = &outcome {
            write_change(&*transaction, id, change).await?;
            transaction.commit().await?;
            self.commits.fetch_add(1, Ordering::Relaxed);
        }
        Ok(outcome)
    }

    pub(super) async fn nearby_rows(&self, category: String, since_ms: i64, bounds: [f64; 4]) -> Result<Vec<NearbyRow>, StoreError> {
        let [min_lat, max_lat, min_lon, max_lon] = bounds;
        let rows = self.client().await?.query(NEARBY_LIST, &[&category, &since_ms, &min_lat, &max_lat, &min_lon, &max_lon]).await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5), row.get(6), row.get(7), row.get(8))).collect())
    }

    pub(super) async fn listed_one(&self, tracking_no: &str) -> Result<Option<ListedRow>, StoreError> {
        Ok(self.client().await?.query_opt(LISTED_BY_NUMBER, &[&tracking_no, &None::<i64>]).await?.as_ref().map(listed_row))
    }

    pub(super) async fn listed_between(&self, since_ms: i64, until_ms: i64, category: String, status: &'static str, limit: usize) -> Result<Vec<ListedRow>, StoreError> {
        Ok(self.client().await?.query(LISTED_BETWEEN, &[&since_ms, &until_ms, &category, &status, &(limit as i64)]).await?.iter().map(listed_row).collect())
    }

    pub(super) async fn counted_rows(&self, from_ms: i64, to_ms: i64) -> Result<Vec<CountedRow>, StoreError> {
        let rows = self.client().await?.query(COUNTED, &[&from_ms, &to_ms]).await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5))).collect())
    }

    pub(super) async fn public_class_rows(&self, min_members: i64, from_ms: i64, to_ms: i64) -> Result<Vec<super::PublicClass>, StoreError> {
        let rows = self.client().await?.query(super::PUBLIC_CLASSES, &[&(min_members as i32), &from_ms, &to_ms]).await?;
        Ok(rows
            .iter()
            .map(|row| super::PublicClass { category: row.get(0), kind: row.get(1), members: row.get::<_, i32>(2) as u64, district: row.get(3), resolved: row.get::<_, i64>(4) as u64 })
            .collect())
    }

    pub(super) async fn class_rows(&self, limit: usize) -> Result<Vec<super::ClassRow>, StoreError> {
        let rows = self.client().await?.query(super::CLASS_LIST, &[&(limit as i64)]).await?;
        Ok(rows
            .iter()
            .map(|row| super::ClassRow {
                key: row.get(0),
                category: row.get(1),
                kind: row.get(2),
                label: row.get(3),
                generation: i64::from(row.get::<_, i32>(4)),
                members: i64::from(row.get::<_, i32>(5)),
                first_at: ids::rfc3339(row.get(6)),
                last_at: ids::rfc3339(row.get(7)),
            })
            .collect())
    }

    /// The text `sql` selects for `$1`, a tracking number (or an id); PostgreSQL draws its
    /// numbers, so none has a sequence number (`$2`).
    pub(super) async fn text_by_number(&self, sql: &'static str, key: String) -> Result<Option<String>, StoreError> {
        Ok(self.client().await?.query_opt(sql, &[&key, &None::<i64>]).await?.map(|row| row.get(0)))
    }

    pub(super) async fn ids_due(&self, sql: &'static str, before_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        Ok(self.client().await?.query(sql, &[&before_ms, &(limit as i64)]).await?.iter().map(|row| row.get(0)).collect())
    }

    pub(super) async fn claim_messages(&self, owner: &str, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let sql = format!("UPDATE messages SET lease_owner = $1, lease_until_ms = $2 WHERE id IN ({DUE_MESSAGES} FOR UPDATE OF m SKIP LOCKED) RETURNING id");
        let rows = self.client().await?.query(&sql, &[&owner, &lease_until_ms, &now_ms, &(limit as i64)]).await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    pub(super) async fn message_row(&self, id: &str) -> Result<(String, Option<String>, i64, u32), StoreError> {
        let row = self.client().await?.query_one(MESSAGE_BODY, &[&id]).await?;
        Ok((row.get(0), row.get(1), row.get(2), row.get::<_, i32>(3) as u32))
    }

    pub(super) async fn message_delivered(&self, id: &str) -> Result<(), StoreError> {
        self.client().await?.execute(MESSAGE_DELIVERED, &[&id, &ids::now_ms()]).await?;
        Ok(())
    }

    pub(super) async fn message_failed(&self, id: &str, error: String, next_attempt_ms: i64, dead_letter: bool) -> Result<u32, StoreError> {
        let state = if dead_letter { "dead_letter" } else { "pending" };
        let row = self.client().await?.query_one(MESSAGE_FAILED, &[&id, &state, &error, &next_attempt_ms]).await?;
        Ok(row.get::<_, i32>(0) as u32)
    }

    pub(super) async fn loop_figures(&self, now_ms: i64) -> Result<Vec<LoopFigures>, StoreError> {
        let client = self.client().await?;
        let answered = client
            .query(ANSWER_FIGURES, &[])
            .await?
            .iter()
            .map(|row| LoopFigures {
                department: row.get(0),
                category: row.get(1),
                rated: row.get::<_, i64>(2) as u64,
                satisfied: row.get::<_, i64>(3) as u64,
                unsolved: row.get::<_, i64>(4) as u64,
                silent: row.get::<_, i64>(5) as u64,
                overdue: 0,
            })
            .collect();
        let overdue = client.query(OVERDUE_FIGURES, &[&now_ms]).await?.iter().map(|row| (row.get(0), row.get(1), row.get::<_, i64>(2) as u64)).collect();
        Ok(merge_figures(answered, overdue))
    }

    pub(super) async fn claim_due(&self, owner: &str, now_ms: i64, lease_until_ms: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "UPDATE outbox SET lease_owner = $1, lease_until_ms = $2
                 WHERE report_id IN (SELECT report_id FROM outbox
                                     WHERE state = 'pending' AND next_attempt_ms <= $3 AND (lease_until_ms IS NULL OR lease_until_ms <= $3)
                                     ORDER BY next_attempt_ms LIMIT $4 FOR UPDATE SKIP LOCKED)
                 RETURNING report_id",
                &[&owner, &lease_until_ms, &now_ms, &(limit as i64)],
            )
            .await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    pub(super) async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.execute("UPDATE outbox SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = $1 AND state = 'pending'", &[&owner]).await?;
        client.execute("UPDATE messages SET lease_owner = NULL, lease_until_ms = NULL WHERE lease_owner = $1 AND state = 'pending'", &[&owner]).await?;
        Ok(())
    }

    pub(super) async fn outbox_reports(&self, ids: Vec<String>) -> Result<Vec<Outgoing>, StoreError> {
        let mut reports = Vec::with_capacity(ids.len());
        for id in &ids {
            reports.push(self.outbox_report(id).await?);
        }
        Ok(reports)
    }

    pub(super) async fn outbox_report(&self, id: &str) -> Result<Outgoing, StoreError> {
        let client = self.client().await?;
        let row = client.query_one("SELECT tracking_no, department, district, body, created_ms, escalate, related_count, due_ms FROM reports WHERE id = $1", &[&id]).await?;
        let related_count = row.get::<_, i32>(6) as u32;
        // Relations are written with the report and counted in it: most reports have none.
        let related = if related_count == 0 { Vec::new() } else { client.query(&related_ids_sql(), &[&id]).await?.iter().map(|row| row.get(0)).collect() };
        let contact = client.query_opt("SELECT name_sealed, phone_sealed FROM contacts WHERE report_id = $1", &[&id]).await?.map(|row| (row.get(0), row.get(1)));
        let photos = client
            .query("SELECT sha256, width, height FROM photos WHERE report_id = $1 ORDER BY position", &[&id])
            .await?
            .iter()
            .map(|row| PipelinePhoto { sha256: row.get(0), width: row.get::<_, i32>(1) as u32, height: row.get::<_, i32>(2) as u32, url: None })
            .collect();
        let created_ms: i64 = row.get(4);
        Ok(Outgoing {
            message: PipelineReport {
                id: id.to_owned(),
                tracking_no: row.get(0),
                created_at: ids::rfc3339(created_ms),
                department: row.get(1),
                district: row.get(2),
                report: outbox_body(row.get(3), contact, &self.cipher)?,
                photos,
                related,
                related_count,
                escalate: row.get(5),
                due_at: row.get::<_, Option<i64>>(7).map(ids::rfc3339),
            },
            created_ms,
        })
    }

    pub(super) async fn mark_delivered(&self, delivered: Vec<(String, Option<String>)>) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        // The reports' row locks first, in one order: a resident's answer or a pipeline
        // event changing one of them at the same moment (under the same lock, `advance`)
        // appends its timeline step before or after the `forwarded` step, never with the
        // same number. Without the lock a report no longer `received` was not locked by
        // `REPORT_FORWARDED`, and the loser of the race got a duplicate-key error.
        // `NO KEY UPDATE`, as the update itself takes: it waits for `advance` but not for the
        // key-share lock a new report's foreign keys take on the reports it relates to, in
        // their own order (newest first); `FOR UPDATE` waited for those too, and a round
        // marking several related reports could deadlock with such an insert.
        let mut reports: Vec<&str> = delivered.iter().map(|(id, _)| id.as_str()).collect();
        reports.sort_unstable();
        transaction.execute("SELECT 1 FROM reports WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE", &[&reports]).await?;
        let now = ids::now_ms();
        for (id, ticket_id) in &delivered {
            transaction.execute(MARK_DELIVERED, &[id, ticket_id, &now]).await?;
            transaction.execute(REPORT_FORWARDED, &[id]).await?;
            transaction.execute(FORWARDED_STEP, &[id, &now]).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    pub(super) async fn mark_failed(&self, id: &str, error: String, next_attempt_ms: i64, dead_letter: bool) -> Result<u32, StoreError> {
        let state = if dead_letter { "dead_letter" } else { "pending" };
        let row = self
            .client()
            .await?
            .query_one(
                "UPDATE outbox SET state = $2, attempts = attempts + 1, last_error = $3, next_attempt_ms = $4, lease_owner = NULL, lease_until_ms = NULL
                 WHERE report_id = $1 RETURNING attempts",
                &[&id, &state, &error, &next_attempt_ms],
            )
            .await?;
        Ok(row.get::<_, i32>(0) as u32)
    }

    pub(super) async fn attempts(&self, id: &str) -> Result<u32, StoreError> {
        Ok(self.client().await?.query_one("SELECT attempts FROM outbox WHERE report_id = $1", &[&id]).await?.get::<_, i32>(0) as u32)
    }

    pub(super) async fn outbox_entries(&self, state: &str, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = self
            .client()
            .await?
            .query(
                "SELECT o.report_id, r.tracking_no, o.state, o.attempts, o.next_attempt_ms, o.last_error, r.created_ms
                 FROM outbox o JOIN reports r ON r.id = o.report_id WHERE o.state = $1 ORDER BY r.created_ms LIMIT $2",
                &[&state, &(limit as i64)],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| OutboxEntry {
                report_id: row.get(0),
                tracking_no: row.get(1),
                state: row.get(2),
                attempts: row.get::<_, i32>(3) as u32,
                next_attempt_at: ids::rfc3339(row.get(4)),
                last_error: row.get(5),
                created_at: ids::rfc3339(row.get(6)),
            })
            .collect())
    }

    pub(super) async fn requeue(&self, which: Option<String>) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let now = ids::now_ms();
        let changed = match which {
            Some(which) => {
                client
                    .execute(
                        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = $2, lease_owner = NULL, lease_until_ms = NULL
                         WHERE state = 'dead_letter' AND report_id IN (SELECT id FROM reports WHERE id = $1 OR tracking_no = $1)",
                        &[&which, &now],
                    )
                    .await?
            }
            None => client.execute("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ms = $1, lease_owner = NULL, lease_until_ms = NULL WHERE state = 'dead_letter'", &[&now]).await?,
        };
        Ok(changed as usize)
    }

    pub(super) async fn outbox_stats(&self) -> Result<OutboxStats, StoreError> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT
                    (SELECT count(*) FROM outbox WHERE state = 'pending'),
                    (SELECT count(*) FROM outbox WHERE state = 'dead_letter'),
                    (SELECT min(r.created_ms) FROM outbox o JOIN reports r ON r.id = o.report_id WHERE o.state = 'pending')",
                &[],
            )
            .await?;
        Ok(OutboxStats { pending: row.get::<_, i64>(0) as u64, dead_letter: row.get::<_, i64>(1) as u64, oldest_pending_ms: row.get(2) })
    }

    pub(super) async fn purge_due(&self, final_before_ms: i64, created_before_ms: i64) -> Result<Purged, StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await?;
        let now = ids::now_ms();
        // FOR UPDATE: two servers purging at once take turns per report.
        let due = transaction.query(&format!("{PURGE_DUE} FOR UPDATE OF r SKIP LOCKED"), &[&final_before_ms, &created_before_ms]).await?;
        let mut ids = Vec::with_capacity(due.len());
        for row in &due {
            let (id, body): (String, String) = (row.get(0), row.get(1));
            transaction.execute(PURGE_REPORT, &[&id, &now, &scrubbed_body(&body)?]).await?;
            ids.push(id);
        }
        for id in &ids {
            for statement in PURGE_PERSONAL {
                transaction.execute(statement, &[id]).await?;
            }
        }
        let unused = transaction
            .query(
                "SELECT DISTINCT p.sha256 FROM (SELECT sha256, report_id FROM photos UNION ALL SELECT photo_sha256, report_id FROM supports WHERE photo_sha256 IS NOT NULL) p
                 WHERE p.report_id = ANY($1)
                 AND NOT EXISTS (SELECT 1 FROM photos q JOIN reports r ON r.id = q.report_id WHERE q.sha256 = p.sha256 AND r.purged_ms IS NULL)
                 AND NOT EXISTS (SELECT 1 FROM supports q JOIN reports r ON r.id = q.report_id WHERE q.photo_sha256 = p.sha256 AND r.purged_ms IS NULL)",
                &[&ids],
            )
            .await?;
        transaction.commit().await?;
        Ok(Purged { reports: ids.len() as u64, unused_photos: unused.iter().map(|row| row.get(0)).collect() })
    }

    pub(super) async fn photo_in_use(&self, sha256: &str) -> Result<bool, StoreError> {
        Ok(self.client().await?.query_one(PHOTO_IN_USE, &[&sha256]).await?.get(0))
    }

    pub(super) async fn report_by_ticket(&self, ticket_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.client().await?.query_opt("SELECT report_id FROM outbox WHERE ticket_id = $1", &[&ticket_id]).await?.map(|row| row.get(0)))
    }

    pub(super) async fn open_tickets(&self, after: &str, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self.client().await?.query(OPEN_TICKETS, &[&after, &(limit as i64)]).await?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    pub(super) async fn set_ticket(&self, report_id: &str, ticket_id: &str) -> Result<(), StoreError> {
        self.client().await?.execute("UPDATE outbox SET ticket_id = $2 WHERE report_id = $1", &[&report_id, &ticket_id]).await?;
        Ok(())
    }

    pub(super) async fn report_exists(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.client().await?.query_one("SELECT EXISTS (SELECT 1 FROM reports WHERE id = $1)", &[&id]).await?.get(0))
    }

    pub(super) async fn nearby_open(&self, category: &str, lat: f64, lon: f64) -> Result<usize, StoreError> {
        let client = self.client().await?;
        Ok(related_reports(&**client, Search::new(category, Some((lat, lon)), None, None, ids::now_ms())).await?.count)
    }

    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    pub(super) async fn check_writable(&self) -> Result<(), StoreError> {
        let read_only: String = self.client().await?.query_one("SHOW transaction_read_only", &[]).await?.get(0);
        if read_only == "on" { Err(StoreError::ReadOnly) } else { Ok(()) }
    }
}

/// Earlier open reports of the same problem, oldest first (see [`Search`]).
async fn related_reports(client: &impl GenericClient, search: Option<Search<'_>>) -> Result<Related, StoreError> {
    let Some(search) = search else { return Ok(Related::default()) };
    let [min_lat, max_lat, min_lon, max_lon] = search.bounds;
    let rows = client
        .query(
            &format!(
                "SELECT r.id, r.lat, r.lon, c.phone_hash, r.sender_hash FROM reports r LEFT JOIN contacts c ON c.report_id = r.id
                 WHERE r.category = $1 AND r.created_ms >= $2 AND r.status IN ('received', 'forwarded', 'accepted', 'in_progress', 'reopened')
                   AND (($3::text IS NOT NULL AND c.phone_hash = $3::text) OR (r.lat BETWEEN $4 AND $5 AND r.lon BETWEEN $6 AND $7))
                 ORDER BY r.created_ms DESC LIMIT {RELATED_SCAN}"
            ),
            &[&search.category, &search.since_ms, &search.phone_hash, &min_lat, &max_lat, &min_lon, &max_lon],
        )
        .await?;
    let candidates = rows.iter().map(|row| Candidate { id: row.get(0), lat: row.get(1), lon: row.get(2), phone_hash: row.get(3), sender_hash: row.get(4) }).collect();
    Ok(search.keep(candidates))
}

/// A listing row as [`LISTED_BY_NUMBER`] and [`LISTED_BETWEEN`] select it.
fn listed_row(row: &tokio_postgres::Row) -> ListedRow {
    (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5), row.get(6), row.get(7), row.get(8), row.get(9))
}

/// A timeline row as [`LAST_STEP`] and [`TIMELINE`] select it.
fn step_row(row: &tokio_postgres::Row) -> StepRow {
    StepRow { step: row.get(0), status: row.get(1), at_ms: row.get(2), message: row.get(3), detail: row.get(4) }
}

/// Writes what the lifecycle decided, inside the caller's transaction.
async fn write_change(transaction: &impl GenericClient, id: &str, change: &Change) -> Result<(), StoreError> {
    let row = ChangeRow::of(change);
    transaction.execute(UPDATE_LIFECYCLE, &[&id, &row.status, &row.department, &row.handlings, &row.due_ms, &row.resolved_ms, &row.supervised_ms, &row.supervised_reason, &row.duplicate_of]).await?;
    for step in &change.steps {
        transaction.execute(APPEND_STEP, &[&id, &wire(step.step), &wire(step.status), &step.at_ms, &step.message, &step.detail.to_json()]).await?;
    }
    if let Some(support) = &change.support {
        let comment = (!support.comment.is_empty()).then_some(&support.comment);
        transaction.execute(INSERT_SUPPORT, &[&id, &support.supporter, &comment, &ids::now_ms(), &support.photo_sha256]).await?;
    }
    if let Some(answer) = &change.answer {
        transaction
            .execute(
                INSERT_ANSWER,
                &[&id, &(answer.round as i32), &answer.answer_id, &answer.solved.map(i32::from), &answer.rating.map(|rating| rating.code()), &answer.reasons, &answer.comment, &answer.at_ms],
            )
            .await?;
    }
    let now = ids::now_ms();
    for (index, message) in change.messages.iter().enumerate() {
        // A millisecond apart, so the messages of one change go out in their order.
        transaction.execute(INSERT_MESSAGE, &[&message.id, &id, &message.message.code(), &message_json(message)?, &(now + index as i64)]).await?;
    }
    Ok(())
}

async fn find_by_key(client: &impl GenericClient, key: &str) -> Result<Option<(Receipt, String)>, StoreError> {
    let row = client.query_opt("SELECT id, tracking_no, created_ms, request_hash FROM reports WHERE idempotency_key = $1", &[&key]).await?;
    Ok(row.map(|row| (receipt(row.get(0), row.get(1), row.get(2)), row.get(3))))
}
