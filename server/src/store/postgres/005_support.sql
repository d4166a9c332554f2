-- Migration 5: "this is my problem too" (see SQLite's migration 7).
CREATE TABLE supports (
    report_id TEXT NOT NULL REFERENCES reports(id),
    supporter TEXT NOT NULL,
    comment   TEXT,
    at_ms     BIGINT NOT NULL,
    PRIMARY KEY (report_id, supporter)
);
