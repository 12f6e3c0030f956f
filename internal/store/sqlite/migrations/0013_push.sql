-- WebDAV-Push (issue 15): secrets, VAPID keys, registrations and the queue
-- of messages (see store.Push). Portable SQL apart from AUTOINCREMENT.
-- Times are unix microseconds; 0 stands for "none".

-- Values generated once (store.Secrets), such as the key push topics are
-- derived from.
CREATE TABLE secrets (
    name    TEXT PRIMARY KEY,
    value   TEXT NOT NULL,
    created BIGINT NOT NULL
);

-- VAPID key pairs; the one with retired = 0 is current.
CREATE TABLE push_keys (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    private TEXT NOT NULL,
    public  TEXT NOT NULL,
    created BIGINT NOT NULL,
    retired BIGINT NOT NULL DEFAULT 0
);

-- A push subscription registered on a collection, or (collection NULL) on
-- the home of kind home of login; or, once its collection was deleted
-- (collection NULL, home '', gone its id), on nothing until its last
-- message is delivered.
CREATE TABLE push_registrations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token       TEXT NOT NULL UNIQUE,
    login       TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    collection  INTEGER REFERENCES collections(id) ON DELETE CASCADE,
    home        TEXT NOT NULL DEFAULT '',
    gone        BIGINT NOT NULL DEFAULT 0,
    resource    TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    auth_secret TEXT NOT NULL,
    content     BOOLEAN NOT NULL,
    property    BOOLEAN NOT NULL,
    key_id      INTEGER NOT NULL REFERENCES push_keys(id),
    client      TEXT NOT NULL DEFAULT '',
    created     BIGINT NOT NULL,
    expires     BIGINT NOT NULL,
    last_sent   BIGINT NOT NULL DEFAULT 0
);
-- One registration per push resource and target; what a write notifies.
CREATE UNIQUE INDEX push_registrations_collection ON push_registrations (collection, resource)
    WHERE collection IS NOT NULL;
CREATE UNIQUE INDEX push_registrations_home ON push_registrations (login, home, resource)
    WHERE collection IS NULL AND gone = 0;
CREATE INDEX push_registrations_login ON push_registrations (login);
CREATE INDEX push_registrations_expires ON push_registrations (expires);
CREATE INDEX push_registrations_key ON push_registrations (key_id);

-- The message owed to a registration: at most one, which later changes
-- join (version counts them).
CREATE TABLE push_queue (
    registration INTEGER PRIMARY KEY REFERENCES push_registrations(id) ON DELETE CASCADE,
    content      BOOLEAN NOT NULL DEFAULT FALSE,
    property     BOOLEAN NOT NULL DEFAULT FALSE,
    rotation     BOOLEAN NOT NULL DEFAULT FALSE,
    queued       BIGINT NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1,
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   BIGINT NOT NULL DEFAULT 0,
    lease_until  BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT ''
);
