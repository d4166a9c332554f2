-- Migration 7: "this is my problem too". One row per phone and report (the phone's random
-- id kept only as a keyed hash); the comment goes to the department and is purged with the
-- report's personal data.
CREATE TABLE supports (
    report_id TEXT NOT NULL REFERENCES reports(id),
    supporter TEXT NOT NULL,
    comment   TEXT,
    at_ms     INTEGER NOT NULL,
    PRIMARY KEY (report_id, supporter)
);
