-- When each refresh-token family (a session) began, so that a session ends
-- at its absolute maximum lifetime however often it is renewed. Rows from
-- before this migration have none: their own created_at stands in.
ALTER TABLE refresh_tokens ADD COLUMN family_started_at INTEGER NULL;
