-- Migration 4: the indexes PostgreSQL had from its start — photos by content hash (the
-- retention purge asks whether a photo is still used) and outbox rows by ticket (status
-- events name the pipeline's ticket). `server/tests/api/schema.rs` keeps the two in step.
CREATE INDEX photos_sha256 ON photos(sha256);
CREATE INDEX outbox_ticket ON outbox(ticket_id) WHERE ticket_id IS NOT NULL;
