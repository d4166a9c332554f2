-- Migration 2: forwarder leases. A forwarder claims due outbox rows for a while; another
-- forwarder (another server instance, or this one after a crash) takes them once the
-- lease has run out.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
ALTER TABLE outbox ADD COLUMN lease_until_ms INTEGER;
