-- Storage used per user (see store.Usage), kept by every write in the same
-- transaction, so that a quota check reads one row instead of summing the
-- user's objects. The sums below are store.ObjectUsage (overhead 256) and
-- store.CollectionUsage (overhead 512) over the existing data; lengths are
-- in bytes (a TEXT cast to BLOB is its UTF-8 bytes).
ALTER TABLE users ADD COLUMN used_bytes BIGINT NOT NULL DEFAULT 0;

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
        WHERE c.owner = users.login), 0);
