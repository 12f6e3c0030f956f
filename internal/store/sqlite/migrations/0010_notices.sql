-- Security mails of issue 13: a durable outbox (see store.NoticeQueue).
-- Portable SQL apart from AUTOINCREMENT. Times are unix microseconds; 0
-- stands for "none" in not_before, lease_until, sent and gave_up: a notice
-- is pending while sent = 0 AND gave_up = 0.
CREATE TABLE notices (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    login       TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    language    TEXT NOT NULL DEFAULT '',
    time        BIGINT NOT NULL,
    addr        TEXT NOT NULL DEFAULT '',
    client      TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0,
    sent        BIGINT NOT NULL DEFAULT 0,
    gave_up     BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT ''
);
-- The rate limit: "a notice of this kind for this login since ...".
CREATE INDEX notices_login_kind_time ON notices (login, kind, time);
-- What to send next.
CREATE INDEX notices_due ON notices (not_before) WHERE sent = 0 AND gave_up = 0;
-- What to delete.
CREATE INDEX notices_time ON notices (time) WHERE sent > 0 OR gave_up > 0;
