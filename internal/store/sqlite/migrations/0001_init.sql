-- Initial schema. Times are unix microseconds (BIGINT). Kept to portable SQL
-- (apart from AUTOINCREMENT) so store/postgres can mirror it.

CREATE TABLE users (
    login         TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created       BIGINT NOT NULL
);

-- AUTOINCREMENT: ids are never reused, so a sync token "<id>:<seq>" of a
-- deleted collection can never match a new collection.
CREATE TABLE collections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('card', 'cal')),
    name        TEXT NOT NULL,
    displayname TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    color       TEXT NOT NULL DEFAULT '',
    ord         INTEGER NOT NULL DEFAULT 0,
    components  TEXT NOT NULL DEFAULT '', -- comma-separated
    timezone    TEXT NOT NULL DEFAULT '',
    created     BIGINT NOT NULL,
    modified    BIGINT NOT NULL,
    sync_seq    BIGINT NOT NULL DEFAULT 0, -- seq of the latest change
    sync_floor  BIGINT NOT NULL DEFAULT 0, -- tokens below this miss pruned deletions
    -- Maintained by every write: aggregating on each read costs O(objects).
    obj_count   BIGINT NOT NULL DEFAULT 0,
    obj_bytes   BIGINT NOT NULL DEFAULT 0,
    UNIQUE (owner, kind, name)
);

CREATE TABLE collection_props (
    collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (collection, name)
);

-- data is the last column so metadata-only reads never touch its overflow
-- pages. first_start/last_end hold -2^63 / 2^63-1 for unbounded so a range
-- query is a plain comparison. uid is NULL when the object has none.
CREATE TABLE objects (
    collection  INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    uid         TEXT,
    etag        TEXT NOT NULL,
    size        BIGINT NOT NULL,
    modified    BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    component   TEXT NOT NULL DEFAULT '',
    first_start BIGINT NOT NULL,
    last_end    BIGINT NOT NULL,
    data        BLOB NOT NULL,
    PRIMARY KEY (collection, name),
    UNIQUE (collection, uid)
);
CREATE INDEX objects_seq ON objects (collection, seq);
CREATE INDEX objects_span ON objects (collection, component, first_start, last_end);

-- The latest change per name: all sync-collection needs, and bounded by
-- the number of names ever used (tombstones are pruned by PruneTombstones).
CREATE TABLE changes (
    collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    deleted    BOOLEAN NOT NULL,
    changed    BIGINT NOT NULL,
    PRIMARY KEY (collection, name)
);
CREATE INDEX changes_seq ON changes (collection, seq);
CREATE INDEX changes_tombstones ON changes (deleted, changed);
