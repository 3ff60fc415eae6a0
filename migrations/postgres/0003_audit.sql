-- The audit log: one row per change, written in the change's own transaction. Never a
-- secret: actor and target are names, detail names what changed (token names, patterns).
CREATE TABLE audit (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    actor_user TEXT   COLLATE "C",
    client     TEXT,
    action     TEXT   NOT NULL,
    target     TEXT   COLLATE "C" NOT NULL,
    detail     TEXT   NOT NULL
);

CREATE INDEX audit_by_target ON audit (target, id);
CREATE INDEX audit_by_actor_user ON audit (actor_user, id);
