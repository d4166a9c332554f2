-- Migration 9: the column SQLite's migration 12 added, so both engines find a report by its
-- number with the same statements. PostgreSQL draws every number at random and finds each
-- through the unique index on `tracking_no`; `tracking_seq` stays NULL here (a database
-- copied from SQLite keeps the numbers as text, and they are found the same way).
ALTER TABLE reports ADD COLUMN tracking_seq BIGINT;
