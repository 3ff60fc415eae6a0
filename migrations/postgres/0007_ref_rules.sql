-- Ref rules (ACCESS.md "Ref rules"): ref patterns on grants and tokens, protected refs.
-- refs: newline-separated ref patterns ('' = no limit), like tokens.repos.
ALTER TABLE grants ADD COLUMN refs TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN refs TEXT NOT NULL DEFAULT '';

-- Protected refs: a push may not delete (and, on built-in routes, rewind) a ref matching
-- ref_pattern in a repository matching repo_pattern, unless the flags allow it.
CREATE TABLE protections (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repo_pattern TEXT    COLLATE "C" NOT NULL,
    ref_pattern  TEXT    COLLATE "C" NOT NULL,
    allow_delete BOOLEAN NOT NULL DEFAULT FALSE,
    allow_force  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT  NOT NULL,
    UNIQUE (repo_pattern, ref_pattern)
);
