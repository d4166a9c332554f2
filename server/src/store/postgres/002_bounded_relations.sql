-- Migration 2: relations are bounded per report (the newest few ids plus a count), and a
-- report keeps a keyed hash of the network it came from, so that "neighbours keep reporting
-- this" needs several senders (one client cannot force it). Both purged with the contact.
ALTER TABLE reports ADD COLUMN related_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE reports ADD COLUMN sender_hash TEXT;
UPDATE reports SET related_count = (SELECT count(*) FROM relations WHERE relations.report_id = reports.id);
