-- Migration 10: a class's newest members read from an index. Every report joining a grown
-- class lists the newest hundred members in its message; without this index that read
-- sorted the whole generation, so a class of thousands made every new report slower.
CREATE INDEX class_members_newest ON class_members(class_key, generation, joined_ms DESC, report_id);
