-- Lianxin's SQLite schema, migration 1. Applied at start-up when `user_version` is 0; later
-- changes go into new migrations (see MIGRATIONS in store/sqlite.rs), never into this file.

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
    created_ms      INTEGER NOT NULL,
    -- The reported position, for relating reports near each other.
    lat             REAL,
    lon             REAL,
    -- Third (or later) report of the same problem: the hotline authority supervises it.
    escalate        INTEGER NOT NULL DEFAULT 0,
    -- When the retention purge removed its contact and photos.
    purged_ms       INTEGER
);

CREATE TABLE photos (
    report_id TEXT NOT NULL REFERENCES reports(id),
    position  INTEGER NOT NULL,
    sha256    TEXT NOT NULL,
    width     INTEGER NOT NULL,
    height    INTEGER NOT NULL,
    bytes     INTEGER NOT NULL,
    PRIMARY KEY (report_id, position)
);

-- Personal data, kept apart so it can be purged without touching the report. Name and
-- phone are sealed (ChaCha20-Poly1305); phone_hash is a keyed hash for linking repeats.
CREATE TABLE contacts (
    report_id    TEXT PRIMARY KEY REFERENCES reports(id),
    name_sealed  BLOB,
    phone_sealed BLOB,
    phone_hash   TEXT
);
CREATE INDEX contacts_phone_hash ON contacts(phone_hash);

CREATE TABLE outbox (
    report_id       TEXT PRIMARY KEY REFERENCES reports(id),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead_letter')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    ticket_id       TEXT,
    delivered_ms    INTEGER
);
CREATE INDEX outbox_due ON outbox(next_attempt_ms) WHERE state = 'pending';

CREATE INDEX reports_recent_by_category ON reports(category, created_ms);

-- Earlier open reports of the same problem (same contact, or within about 150 m).
CREATE TABLE relations (
    report_id  TEXT NOT NULL REFERENCES reports(id),
    related_id TEXT NOT NULL REFERENCES reports(id),
    PRIMARY KEY (report_id, related_id)
);

CREATE TABLE status_events (
    report_id TEXT NOT NULL REFERENCES reports(id),
    status    TEXT NOT NULL,
    at_ms     INTEGER NOT NULL,
    message   TEXT,
    PRIMARY KEY (report_id, status)
);
