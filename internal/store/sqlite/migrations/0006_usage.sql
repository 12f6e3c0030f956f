-- Storage used per user (see store.Usage), kept by every write in the same
-- transaction, so that a quota check reads one row instead of summing the
-- user's objects. The sums below are store.ObjectUsage (overhead 256),
-- store.CollectionUsage (overhead 512) and store.MergeUsage (overhead 256)
-- over the existing data; lengths are in bytes (a TEXT cast to BLOB is its
-- UTF-8 bytes).
ALTER TABLE users ADD COLUMN used_bytes BIGINT NOT NULL DEFAULT 0;

-- An undone merge keeps no undo data (see store.Store.UndoMerge): it cannot
-- be undone again.
UPDATE merges SET undo = X'' WHERE undone IS NOT NULL;

UPDATE users SET used_bytes =
    COALESCE((SELECT SUM(o.size + LENGTH(CAST(o.name AS BLOB)) + 256)
        FROM objects o JOIN collections c ON c.id = o.collection
        WHERE c.owner = users.login), 0)
  + COALESCE((SELECT SUM(LENGTH(CAST(c.name AS BLOB)) + LENGTH(CAST(c.displayname AS BLOB))
            + LENGTH(CAST(c.description AS BLOB)) + LENGTH(CAST(c.color AS BLOB))
            + LENGTH(CAST(c.timezone AS BLOB)) + LENGTH(CAST(c.components AS BLOB)) + 512)
        FROM collections c WHERE c.owner = users.login), 0)
  + COALESCE((SELECT SUM(LENGTH(CAST(p.name AS BLOB)) + LENGTH(CAST(p.value AS BLOB)))
        FROM collection_props p JOIN collections c ON c.id = p.collection
        WHERE c.owner = users.login), 0)
  + COALESCE((SELECT SUM(LENGTH(CAST(m.undo AS BLOB)) + LENGTH(CAST(m.reference AS BLOB)) + 256
            + COALESCE((SELECT SUM(LENGTH(CAST(r.value AS BLOB))) FROM json_each(m.removed) r), 0)
            + COALESCE((SELECT SUM(LENGTH(CAST(g.value AS BLOB))) FROM json_each(m.grps) g), 0))
        FROM merges m JOIN collections c ON c.id = m.collection
        WHERE c.owner = users.login), 0);
