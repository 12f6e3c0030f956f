-- Second factor (issue 13). Portable SQL. Times are unix microseconds.

-- A user's TOTP secret (base32). pending: set up, not confirmed yet.
-- last_step: the newest 30-second step a code was accepted for, so that a
-- code is accepted once. users.two_factor is true exactly while a row with
-- pending = FALSE exists.
CREATE TABLE totp_secrets (
    login     TEXT PRIMARY KEY REFERENCES users(login) ON DELETE CASCADE,
    secret    TEXT NOT NULL,
    pending   BOOLEAN NOT NULL,
    last_step BIGINT NOT NULL DEFAULT 0,
    since     BIGINT NOT NULL
);

-- Single-use emergency codes, by digest (see package auth).
CREATE TABLE emergency_codes (
    login  TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (login, digest)
);

-- A session whose password was verified while the second factor is owed.
ALTER TABLE sessions ADD COLUMN partial BOOLEAN NOT NULL DEFAULT FALSE;
