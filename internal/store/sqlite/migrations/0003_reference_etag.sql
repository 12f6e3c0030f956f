-- The reference's ETag right after a merge (or the latest fold into it), so
-- that undo can refuse to drop a later edit. Merges recorded before this
-- migration have '' and so count as edited: undoing them needs force.
ALTER TABLE merges ADD COLUMN reference_etag TEXT NOT NULL DEFAULT '';
