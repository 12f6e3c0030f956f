-- Scheduled runs of maintenance (store.Maintenance.ClaimRun): when each
-- last started, so that of several server processes one runs it per
-- period. Portable SQL. started is unix microseconds.
CREATE TABLE runs (
    name    TEXT PRIMARY KEY,
    started BIGINT NOT NULL
);
