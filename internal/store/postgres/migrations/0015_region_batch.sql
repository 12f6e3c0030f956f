-- Issue 17, as SQLite's 0015: the user's phone region and time zone, and
-- the batch of a merge ("merge all"); '' stands for "none".
ALTER TABLE users ADD COLUMN region TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE merges ADD COLUMN batch TEXT NOT NULL DEFAULT '';
