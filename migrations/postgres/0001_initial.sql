-- vcsgate store, PostgreSQL dialect. Times are Unix seconds (UTC); only token hashes are kept.
-- Shipped inside the binary: never edit a released migration, add a new one.
-- Text columns compare byte-wise (COLLATE "C") so listings sort as they do on SQLite.

CREATE TABLE users (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT    COLLATE "C" NOT NULL UNIQUE,
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT  NOT NULL
);

CREATE TABLE grants (
    user_id BIGINT NOT NULL REFERENCES users (id),
    pattern TEXT   COLLATE "C" NOT NULL,
    access  TEXT   NOT NULL CHECK (access IN ('read', 'write')),
    PRIMARY KEY (user_id, pattern)
);

-- scopes: comma-separated scope names; repos: newline-separated repo patterns ('' = none).
-- A name is unique among a user's active tokens (not revoked, not expired); that depends on
-- the time, so the write transaction enforces it (under a lock on the user's row).
CREATE TABLE tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id),
    name          TEXT   COLLATE "C" NOT NULL,
    hash          TEXT   NOT NULL UNIQUE,
    public_prefix TEXT   NOT NULL,
    scopes        TEXT   NOT NULL,
    repos         TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);

CREATE INDEX tokens_by_user_name ON tokens (user_id, name);

-- The change feed servers poll. Writers append under an EXCLUSIVE table lock taken just
-- before the insert, so sequence order is commit order and a poller never skips a row.
CREATE TABLE changes (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_name TEXT   COLLATE "C" NOT NULL,
    at        BIGINT NOT NULL DEFAULT (extract(epoch FROM now())::BIGINT)
);
