-- Migration 6: classes of cases (see SQLite's migration 8).
CREATE TABLE classes (
    key        TEXT PRIMARY KEY,
    category   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    label      TEXT NOT NULL,
    generation INTEGER NOT NULL,
    members    INTEGER NOT NULL,
    first_ms   BIGINT NOT NULL,
    last_ms    BIGINT NOT NULL
);
CREATE TABLE class_members (
    class_key  TEXT NOT NULL REFERENCES classes(key),
    generation INTEGER NOT NULL,
    report_id  TEXT NOT NULL REFERENCES reports(id),
    joined_ms  BIGINT NOT NULL,
    PRIMARY KEY (class_key, generation, report_id)
);
CREATE INDEX class_members_by_report ON class_members(report_id);
