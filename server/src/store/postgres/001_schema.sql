-- Lianxin's PostgreSQL schema, migration 1: the same tables as SQLite's migrations 1 and 2,
-- in PostgreSQL's types. Applied at start-up under an advisory lock (several instances may
-- start at once); later changes go into new migrations (see MIGRATIONS in
-- store/postgres.rs), never into this file.

CREATE TABLE reports (
    id              TEXT PRIMARY KEY,
    tracking_no     TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    request_hash    TEXT NOT NULL,
    category        TEXT NOT NULL,
    department      TEXT NOT NULL,
    district        TEXT,
    kind            TEXT NOT NULL,
    -- The normalised report without contact details (those live in `contacts`).
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    lat             DOUBLE PRECISION,
    lon             DOUBLE PRECISION,
    escalate        BOOLEAN NOT NULL DEFAULT FALSE,
    purged_ms       BIGINT
);
CREATE INDEX reports_recent_by_category ON reports(category, created_ms);

CREATE TABLE photos (
    report_id TEXT NOT NULL REFERENCES reports(id),
    position  INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    width     INTEGER NOT NULL,
    height    INTEGER NOT NULL,
    bytes     BIGINT NOT NULL,
    PRIMARY KEY (report_id, position)
);
CREATE INDEX photos_sha256 ON photos(sha256);

-- Personal data, sealed (ChaCha20-Poly1305); phone_hash is a keyed hash for linking repeats.
CREATE TABLE contacts (
    report_id    TEXT PRIMARY KEY REFERENCES reports(id),
    name_sealed  BYTEA,
    phone_sealed BYTEA,
    phone_hash   TEXT
);
CREATE INDEX contacts_phone_hash ON contacts(phone_hash);

CREATE TABLE outbox (
    report_id       TEXT PRIMARY KEY REFERENCES reports(id),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead_letter')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    last_error      TEXT,
    ticket_id       TEXT,
    delivered_ms    BIGINT,
    -- The forwarder instance holding the row, and until when (see SQLite's migration 2).
    lease_owner     TEXT,
    lease_until_ms  BIGINT
);
CREATE INDEX outbox_due ON outbox(next_attempt_ms) WHERE state = 'pending';
CREATE INDEX outbox_ticket ON outbox(ticket_id) WHERE ticket_id IS NOT NULL;

CREATE TABLE relations (
    report_id  TEXT NOT NULL REFERENCES reports(id),
    related_id TEXT NOT NULL REFERENCES reports(id),
    PRIMARY KEY (report_id, related_id)
);

CREATE TABLE status_events (
    report_id TEXT NOT NULL REFERENCES reports(id),
    status    TEXT NOT NULL,
    at_ms     BIGINT NOT NULL,
    message   TEXT,
    PRIMARY KEY (report_id, status)
);
