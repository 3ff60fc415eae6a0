-- Ref rules (ACCESS.md "Ref rules"): ref patterns on grants and tokens, protected refs.
-- refs: newline-separated ref patterns ('' = no limit), like tokens.repos.
ALTER TABLE grants ADD COLUMN refs TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN refs TEXT NOT NULL DEFAULT '';

-- Protected refs: a push may not delete (and, on built-in routes, rewind) a ref matching
-- ref_pattern in a repository matching repo_pattern, unless the flags allow it.
CREATE TABLE protections (
    id           INTEGER PRIMARY KEY,
    repo_pattern TEXT    NOT NULL,
    ref_pattern  TEXT    NOT NULL,
    allow_delete INTEGER NOT NULL DEFAULT 0 CHECK (allow_delete IN (0, 1)),
    allow_force  INTEGER NOT NULL DEFAULT 0 CHECK (allow_force IN (0, 1)),
    created_at   INTEGER NOT NULL,
    UNIQUE (repo_pattern, ref_pattern)
) STRICT;
