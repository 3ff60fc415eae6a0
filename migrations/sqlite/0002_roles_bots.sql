-- Roles, bots and their managers, email addresses (API.md "Who may do what").
-- Existing users become non-bot users with role 'user' and no email.

ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin'));
ALTER TABLE users ADD COLUMN bot INTEGER NOT NULL DEFAULT 0 CHECK (bot IN (0, 1));
ALTER TABLE users ADD COLUMN email TEXT;

-- Who may manage a bot's tokens: non-bot users (the store checks that on every insert).
CREATE TABLE managers (
    bot_id     INTEGER NOT NULL REFERENCES users (id),
    manager_id INTEGER NOT NULL REFERENCES users (id),
    PRIMARY KEY (bot_id, manager_id)
) STRICT;

CREATE INDEX managers_by_manager ON managers (manager_id);
