-- Merges of duplicate cards (see docs/dedup.md, "Sync safety"). Portable SQL
-- apart from AUTOINCREMENT, like 0001.

-- One row per merge. removed and grps are JSON arrays of resource names:
-- the cards merged away and the group cards rewritten. undo is opaque to
-- the store. undone is NULL while the merge is in effect.
CREATE TABLE merges (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    reference  TEXT NOT NULL,
    removed    TEXT NOT NULL,
    grps       TEXT NOT NULL,
    undo       BLOB NOT NULL,
    created    BIGINT NOT NULL,
    undone     BIGINT
);
CREATE INDEX merges_collection ON merges (collection, id);

-- Names and UIDs merged away by merges in effect, and the name of the card
-- that absorbed them. Not unique: a name may be merged away, re-created and
-- merged away again; the newest merge wins. uid is NULL when the card had none.
CREATE TABLE merged_away (
    collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    uid        TEXT,
    survivor   TEXT NOT NULL,
    merge_id   INTEGER NOT NULL REFERENCES merges(id) ON DELETE CASCADE
);
CREATE INDEX merged_away_name ON merged_away (collection, name);
CREATE INDEX merged_away_uid ON merged_away (collection, uid);
CREATE INDEX merged_away_merge ON merged_away (merge_id);

-- Groups of cards the user said are not duplicates: their UIDs, sorted, as
-- a JSON array.
CREATE TABLE hidden_groups (
    collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    uids       TEXT NOT NULL,
    PRIMARY KEY (collection, uids)
);
