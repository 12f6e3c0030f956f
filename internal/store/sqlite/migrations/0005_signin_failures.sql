-- Sign-in failure counters, shared by all server processes (see
-- store.Store.AddSignInFailure). Portable SQL. Times are unix microseconds.
-- expires is locked_until when locked (locked_until > 0), else the end of
-- the window that began at start: reads skip expired rows, and writes delete
-- a few of them by the index.
CREATE TABLE signin_failures (
    subject      TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    start        BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    expires      BIGINT NOT NULL
);
CREATE INDEX signin_failures_expires ON signin_failures (expires);
