-- Migration 4: which Open311 app filed a report (see SQLite's migration 6).
ALTER TABLE reports ADD COLUMN source TEXT;
CREATE INDEX reports_by_created ON reports(created_ms);
