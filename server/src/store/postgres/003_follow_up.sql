-- Migration 3: the way back to the resident (see SQLite's migration 5).
ALTER TABLE reports ADD COLUMN due_ms BIGINT;
ALTER TABLE reports ADD COLUMN limit_ms BIGINT;
ALTER TABLE reports ADD COLUMN handlings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN resolved_ms BIGINT;
ALTER TABLE reports ADD COLUMN supervised_ms BIGINT;
ALTER TABLE reports ADD COLUMN supervised_reason TEXT;
ALTER TABLE reports ADD COLUMN duplicate_of TEXT;
CREATE INDEX reports_overdue ON reports(due_ms) WHERE supervised_ms IS NULL;
CREATE INDEX reports_awaiting_answer ON reports(resolved_ms) WHERE status = 'resolved';

CREATE TABLE timeline (
    report_id TEXT NOT NULL REFERENCES reports(id),
    seq       INTEGER NOT NULL,
    step      TEXT NOT NULL,
    status    TEXT NOT NULL,
    at_ms     BIGINT NOT NULL,
    message   TEXT,
    detail    TEXT,
    PRIMARY KEY (report_id, seq)
);
INSERT INTO timeline (report_id, seq, step, status, at_ms, message)
    SELECT report_id,
           row_number() OVER (PARTITION BY report_id ORDER BY at_ms, CASE status WHEN 'received' THEN 0 WHEN 'forwarded' THEN 1 WHEN 'accepted' THEN 2 WHEN 'in_progress' THEN 3 ELSE 4 END),
           status, status, at_ms, message
    FROM status_events;
DROP TABLE status_events;

CREATE TABLE answers (
    report_id TEXT NOT NULL REFERENCES reports(id),
    round     INTEGER NOT NULL,
    answer_id TEXT,
    solved    INTEGER,
    rating    TEXT,
    reasons   TEXT NOT NULL DEFAULT '',
    comment   TEXT,
    at_ms     BIGINT NOT NULL,
    PRIMARY KEY (report_id, round)
);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    report_id       TEXT NOT NULL REFERENCES reports(id),
    kind            TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead_letter')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT NOT NULL,
    last_error      TEXT,
    delivered_ms    BIGINT,
    lease_owner     TEXT,
    lease_until_ms  BIGINT,
    created_ms      BIGINT NOT NULL
);
CREATE INDEX messages_due ON messages(next_attempt_ms) WHERE state = 'pending';
CREATE INDEX messages_by_report ON messages(report_id);
