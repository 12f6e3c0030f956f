-- Moving from another provider (issue 16): what is remembered of each
-- source collection, and a record of each run (see store.Migrations).
-- Portable SQL apart from AUTOINCREMENT. Times are unix microseconds; 0
-- stands for "none".

-- A source collection at another server (url) and the owner's collection
-- its objects go into, with the source's sync token after the last
-- complete pass. It goes with that collection, and with its owner.
CREATE TABLE migration_sources (
    owner      TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    collection INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    sync_token TEXT NOT NULL DEFAULT '',
    updated    BIGINT NOT NULL,
    PRIMARY KEY (owner, url)
);
-- What DeleteCollection's cascade looks up.
CREATE INDEX migration_sources_collection ON migration_sources (collection);

-- One run of a migration. report is package migrate's JSON.
CREATE TABLE migrations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    source_user TEXT NOT NULL DEFAULT '',
    started     BIGINT NOT NULL,
    heartbeat   BIGINT NOT NULL,
    finished    BIGINT NOT NULL DEFAULT 0,
    state       TEXT NOT NULL,
    report      BLOB NOT NULL,
    error       TEXT NOT NULL DEFAULT ''
);
-- A user's migrations, newest first; and the running one.
CREATE INDEX migrations_owner ON migrations (owner, started, id);
