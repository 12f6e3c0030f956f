-- Accounts: app passwords, web sessions and sign-in activity. Portable SQL
-- apart from AUTOINCREMENT, like 0001. Times are unix microseconds (BIGINT).

-- 1: DAV accepts only app passwords for this user.
ALTER TABLE users ADD COLUMN require_app_passwords INTEGER NOT NULL DEFAULT 0;

-- One row per device password; digest is the hex SHA-256 of the password.
-- last_used is 0 while the password was never used.
CREATE TABLE app_passwords (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    owner       TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    digest      TEXT NOT NULL UNIQUE,
    created     BIGINT NOT NULL,
    last_used   BIGINT NOT NULL DEFAULT 0,
    last_addr   TEXT NOT NULL DEFAULT '',
    last_client TEXT NOT NULL DEFAULT ''
);
CREATE INDEX app_passwords_owner ON app_passwords (owner);

-- Signed-in browsers; id is a digest of the cookie value.
CREATE TABLE sessions (
    id        TEXT PRIMARY KEY,
    owner     TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    csrf      TEXT NOT NULL,
    created   BIGINT NOT NULL,
    expires   BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    addr      TEXT NOT NULL DEFAULT '',
    client    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_owner ON sessions (owner);
CREATE INDEX sessions_expires ON sessions (expires);

-- Sign-ins and failed attempts, pruned per login by RecordSignIn.
CREATE TABLE signins (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    login       TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    time        BIGINT NOT NULL,
    ok          BOOLEAN NOT NULL,
    via         TEXT NOT NULL,
    credential  TEXT NOT NULL DEFAULT '',
    addr        TEXT NOT NULL DEFAULT '',
    client      TEXT NOT NULL DEFAULT '',
    new_address BOOLEAN NOT NULL DEFAULT FALSE,
    new_device  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX signins_login_time ON signins (login, time);
-- "Has this login signed in from this address / with this client before?"
CREATE INDEX signins_seen_addr ON signins (login, ok, addr);
CREATE INDEX signins_seen_client ON signins (login, ok, client);
