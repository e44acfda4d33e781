-- The run ledger, schema version 1 (SQLite): one row per received file (`runs`) and its audit
-- trail (`run_events`). Times are microseconds since 1970-01-01 UTC (`*_at_us`), so that both
-- backends compare them as integers. The same tables as ../postgres/0001_runs.sql.

CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: ids are shown to people
    contributor TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_hash TEXT NOT NULL,           -- SHA-256, 64 lowercase hex digits
    size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
    source TEXT NOT NULL CHECK (source IN ('api', 'folder', 'bucket', 'cli', 'replay')),
    archive_key TEXT NOT NULL,
    reporting_month TEXT,                 -- YYYY-MM
    state TEXT NOT NULL CHECK (state IN ('received', 'running', 'published', 'refused', 'failed', 'duplicate', 'superseded')),
    attempts INTEGER NOT NULL DEFAULT 0,
    received_at_us INTEGER NOT NULL,
    updated_at_us INTEGER NOT NULL,
    lease_owner TEXT,
    lease_expires_at_us INTEGER,
    retry_at_us INTEGER,                  -- a failed run waiting for another attempt
    finished_at_us INTEGER,
    detail TEXT,                          -- the refusal's reason or the last error
    duplicate_of INTEGER REFERENCES runs (id),
    superseded_by INTEGER REFERENCES runs (id),
    lines INTEGER,
    accepted INTEGER,
    rejected INTEGER,
    warnings INTEGER,
    lake_snapshot INTEGER,
    -- A run has a lease exactly while it is running, and a retry time only while it has failed.
    CHECK ((state = 'running') = (lease_owner IS NOT NULL AND lease_expires_at_us IS NOT NULL)),
    CHECK (retry_at_us IS NULL OR state = 'failed')
);

-- At most one published run per contributor and month, whatever the code does.
CREATE UNIQUE INDEX runs_one_published_per_month ON runs (contributor, reporting_month) WHERE state = 'published';
-- The queue: what a claim looks at.
CREATE INDEX runs_open ON runs (id) WHERE state IN ('received', 'running', 'failed');
CREATE INDEX runs_by_contributor ON runs (contributor, reporting_month, id);
CREATE INDEX runs_by_content ON runs (contributor, content_hash) WHERE state = 'published';

CREATE TABLE run_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    from_state TEXT,                      -- NULL for the file's arrival
    to_state TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    worker TEXT,
    detail TEXT
);

CREATE INDEX run_events_by_run ON run_events (run_id, id);
