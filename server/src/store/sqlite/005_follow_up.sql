-- Migration 5: the way back to the resident. A report gets its due time (the category's
-- time limit after acceptance, `limit_ms` long, which a reopening starts again), the count
-- of resolutions the resident rejected, supervision (督办, once), and the resolution time
-- the resident's answer window runs from. The timeline may now hold a step twice
-- (resolved, reopened, …): its rows are numbered per report. The resident's answers and
-- the follow-up messages to the pipeline (reopened, rated, escalated) get their tables.
ALTER TABLE reports ADD COLUMN due_ms INTEGER;
ALTER TABLE reports ADD COLUMN limit_ms INTEGER;
ALTER TABLE reports ADD COLUMN handlings INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN resolved_ms INTEGER;
ALTER TABLE reports ADD COLUMN supervised_ms INTEGER;
ALTER TABLE reports ADD COLUMN supervised_reason TEXT;
ALTER TABLE reports ADD COLUMN duplicate_of TEXT;
CREATE INDEX reports_overdue ON reports(due_ms) WHERE supervised_ms IS NULL;
CREATE INDEX reports_awaiting_answer ON reports(resolved_ms) WHERE status = 'resolved';

CREATE TABLE timeline (
    report_id TEXT NOT NULL REFERENCES reports(id),
    seq       INTEGER NOT NULL,
    step      TEXT NOT NULL,
    status    TEXT NOT NULL,
    at_ms     INTEGER NOT NULL,
    message   TEXT,
    -- The step's particulars as JSON (planned_for, department, due_ms, duplicate_of, reason, answer).
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
    -- Which resolution it answers: 1 for the first, 2 after one reopening, …
    round     INTEGER NOT NULL,
    -- The phone's id for the answer (NULL: none came in time, counted as accepted).
    answer_id TEXT,
    solved    INTEGER,
    rating    TEXT,
    reasons   TEXT NOT NULL DEFAULT '',
    -- The resident's words: removed by the retention purge.
    comment   TEXT,
    at_ms     INTEGER NOT NULL,
    PRIMARY KEY (report_id, round)
);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    report_id       TEXT NOT NULL REFERENCES reports(id),
    kind            TEXT NOT NULL,
    -- The PipelineMessage as JSON, without the ticket id (added at delivery).
    body            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead_letter')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error      TEXT,
    delivered_ms    INTEGER,
    lease_owner     TEXT,
    lease_until_ms  INTEGER,
    created_ms      INTEGER NOT NULL
);
CREATE INDEX messages_due ON messages(next_attempt_ms) WHERE state = 'pending';
CREATE INDEX messages_by_report ON messages(report_id);
