-- Migration 6: which Open311 app filed a report (NULL: the widget or the JSON API). The
-- app's name only, never its key.
ALTER TABLE reports ADD COLUMN source TEXT;
CREATE INDEX reports_by_created ON reports(created_ms);
