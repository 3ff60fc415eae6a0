-- vcsgate store, SQLite dialect. Times are Unix seconds (UTC); only token hashes are kept.
-- Shipped inside the binary: never edit a released migration, add a new one.

CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    active     INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE grants (
    user_id INTEGER NOT NULL REFERENCES users (id),
    pattern TEXT    NOT NULL,
    access  TEXT    NOT NULL CHECK (access IN ('read', 'write')),
    PRIMARY KEY (user_id, pattern)
) STRICT;

-- scopes: comma-separated scope names; repos: newline-separated repo patterns ('' = none).
-- A name is unique among a user's active tokens (not revoked, not expired); that depends on
-- the time, so the write transaction enforces it rather than an index.
CREATE TABLE tokens (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    name          TEXT    NOT NULL,
    hash          TEXT    NOT NULL UNIQUE,
    public_prefix TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,
    repos         TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER,
    revoked_at    INTEGER
) STRICT;

CREATE INDEX tokens_by_user_name ON tokens (user_id, name);

-- The change feed servers poll. AUTOINCREMENT: a sequence number is never reused.
CREATE TABLE changes (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_name TEXT    NOT NULL,
    at        INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;
