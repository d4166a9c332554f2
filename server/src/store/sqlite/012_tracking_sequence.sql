-- Migration 12: tracking numbers from a sequence. A number drawn at random put one
-- scattered page of `tracking_no`'s unique index into the write-ahead log for every report
-- (a quarter of what the writer wrote per report). A new report takes the sequence number
-- after the last (`tracking_seq`) and shows the resident a keyed permutation of it
-- (`tracking.rs`, keyed by `tracking_key`); the unique index on the sequence grows at its
-- end. The numbers drawn before stay unique and are found through a partial index that no
-- new report enters.
--
-- A column's UNIQUE cannot be dropped, so the table is made again with the same columns in
-- the same order and `tracking_seq` last, its rows copied and its indexes made again. Other
-- tables refer to `reports`: the migrations run with foreign keys off and checked before
-- the commit (`migrate_to`).
CREATE TABLE reports_new (
    id              TEXT PRIMARY KEY,
    tracking_no     TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash    TEXT NOT NULL,
    category        TEXT NOT NULL,
    department      TEXT NOT NULL,
    district        TEXT,
    kind            TEXT NOT NULL,
    -- The normalised report without contact details (those live in `contacts`).
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    -- The reported position, for relating reports near each other.
    lat             REAL,
    lon             REAL,
    -- Third (or later) report of the same problem: the hotline authority supervises it.
    escalate        INTEGER NOT NULL DEFAULT 0,
    -- When the retention purge removed its contact and photos.
    purged_ms       INTEGER,
    related_count   INTEGER NOT NULL DEFAULT 0,
    sender_hash     TEXT,
    due_ms          INTEGER,
    limit_ms        INTEGER,
    handlings       INTEGER NOT NULL DEFAULT 0,
    resolved_ms     INTEGER,
    supervised_ms   INTEGER,
    supervised_reason TEXT,
    duplicate_of    TEXT,
    source          TEXT,
    -- The sequence number behind `tracking_no`; NULL for a number drawn at random.
    tracking_seq    INTEGER
);
INSERT INTO reports_new (id, tracking_no, idempotency_key, request_hash, category, department, district, kind, body, status, created_ms, lat, lon, escalate, purged_ms,
                         related_count, sender_hash, due_ms, limit_ms, handlings, resolved_ms, supervised_ms, supervised_reason, duplicate_of, source)
    SELECT id, tracking_no, idempotency_key, request_hash, category, department, district, kind, body, status, created_ms, lat, lon, escalate, purged_ms,
           related_count, sender_hash, due_ms, limit_ms, handlings, resolved_ms, supervised_ms, supervised_reason, duplicate_of, source FROM reports;
DROP TABLE reports;
ALTER TABLE reports_new RENAME TO reports;
CREATE UNIQUE INDEX reports_by_tracking_seq ON reports(tracking_seq);
CREATE UNIQUE INDEX reports_drawn_tracking_no ON reports(tracking_no) WHERE tracking_seq IS NULL;
CREATE INDEX reports_recent_by_category ON reports(category, created_ms);
CREATE INDEX reports_overdue ON reports(due_ms) WHERE supervised_ms IS NULL;
CREATE INDEX reports_awaiting_answer ON reports(resolved_ms) WHERE status = 'resolved';
CREATE INDEX reports_by_created ON reports(created_ms);

-- The key of the permutation: 32 random bytes, written at start-up by the store when this
-- table is empty. One row.
CREATE TABLE tracking_key (
    key BLOB NOT NULL CHECK (length(key) = 32)
);
