-- Migration 9: a supporter's photo ("this is my problem too", with a photo for the
-- department). The photo is stored like a report's, by its hash; it is never shown to other
-- residents, and its file goes with the report's personal data at the retention purge.
ALTER TABLE supports ADD COLUMN photo_sha256 TEXT;
CREATE INDEX supports_photo ON supports (photo_sha256);
