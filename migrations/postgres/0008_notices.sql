-- Expiry notices (API.md "Lifecycle policy"): one row per token, threshold and channel,
-- created once (the unique key makes a second insert a no-op) and claimed by one server at a
-- time with a lease that expires, so a crash between claim and delivery only delays it.
-- threshold: 'week' (less than 7 days left) or 'day' (less than 1 day left).
-- channel: 'webhook' or 'mail'. outcome: NULL while pending, then 'delivered' or 'skipped'
-- (the token was revoked or had expired before delivery).
CREATE TABLE notices (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_id        BIGINT NOT NULL REFERENCES tokens (id),
    threshold       TEXT   NOT NULL CHECK (threshold IN ('week', 'day')),
    channel         TEXT   NOT NULL CHECK (channel IN ('webhook', 'mail')),
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    done_at         BIGINT,
    outcome         TEXT   CHECK (outcome IN ('delivered', 'skipped')),
    UNIQUE (token_id, threshold, channel)
);

CREATE INDEX notices_pending ON notices (next_attempt_at) WHERE outcome IS NULL;
