-- Migration 8: classes of cases. A class is keyed by its place cell or subject; a class
-- that went quiet for its window starts a new generation. Members per generation.
CREATE TABLE classes (
    key        TEXT PRIMARY KEY,
    category   TEXT NOT NULL,
    kind       TEXT NOT NULL,
    label      TEXT NOT NULL,
    generation INTEGER NOT NULL,
    members    INTEGER NOT NULL,
    first_ms   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL
);
CREATE TABLE class_members (
    class_key  TEXT NOT NULL REFERENCES classes(key),
    generation INTEGER NOT NULL,
    report_id  TEXT NOT NULL REFERENCES reports(id),
    joined_ms  INTEGER NOT NULL,
    PRIMARY KEY (class_key, generation, report_id)
);
CREATE INDEX class_members_by_report ON class_members(report_id);
