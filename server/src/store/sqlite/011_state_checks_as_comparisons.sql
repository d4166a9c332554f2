-- Migration 11: the outbox's and the messages' state checks as comparisons. SQLite checks
-- `state IN ('pending', 'delivered', 'dead_letter')` by building a temporary b-tree of the
-- three words on every insert and every change of a row's state: a page cache opened,
-- filled and freed for each report taken in and each one forwarded (the SQLite writer's
-- profile in a JSON run). Comparisons joined by OR allow the same values and build
-- nothing. A CHECK constraint cannot be altered, so both tables are made again with the
-- same columns in the same order, their rows copied and their indexes made again.
CREATE TABLE outbox_new (
    report_id       TEXT PRIMARY KEY REFERENCES reports(id),
    state           TEXT NOT NULL CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead_letter'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    ticket_id       TEXT,
    delivered_ms    INTEGER,
    lease_owner     TEXT,
    lease_until_ms  INTEGER
);
INSERT INTO outbox_new (report_id, state, attempts, next_attempt_ms, last_error, ticket_id, delivered_ms, lease_owner, lease_until_ms)
    SELECT report_id, state, attempts, next_attempt_ms, last_error, ticket_id, delivered_ms, lease_owner, lease_until_ms FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(next_attempt_ms) WHERE state = 'pending';
CREATE INDEX outbox_ticket ON outbox(ticket_id) WHERE ticket_id IS NOT NULL;

CREATE TABLE messages_new (
    id              TEXT PRIMARY KEY,
    report_id       TEXT NOT NULL REFERENCES reports(id),
    kind            TEXT NOT NULL,
    -- The PipelineMessage as JSON, without the ticket id (added at delivery).
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state = 'pending' OR state = 'delivered' OR state = 'dead_letter'),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    delivered_ms    INTEGER,
    lease_owner     TEXT,
    lease_until_ms  INTEGER,
    created_ms      INTEGER NOT NULL
);
INSERT INTO messages_new (id, report_id, kind, body, state, attempts, next_attempt_ms, last_error, delivered_ms, lease_owner, lease_until_ms, created_ms)
    SELECT id, report_id, kind, body, state, attempts, next_attempt_ms, last_error, delivered_ms, lease_owner, lease_until_ms, created_ms FROM messages;
DROP TABLE messages;
ALTER TABLE messages_new RENAME TO messages;
CREATE INDEX messages_due ON messages(next_attempt_ms) WHERE state = 'pending';
CREATE INDEX messages_by_report ON messages(report_id);
