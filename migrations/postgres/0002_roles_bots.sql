-- Roles, bots and their managers, email addresses (API.md "Who may do what").
-- Existing users become non-bot users with role 'user' and no email.

ALTER TABLE users
    ADD COLUMN role  TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    ADD COLUMN bot   BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN email TEXT;

-- Who may manage a bot's tokens: non-bot users (the store checks that on every insert).
CREATE TABLE managers (
    bot_id     BIGINT NOT NULL REFERENCES users (id),
    manager_id BIGINT NOT NULL REFERENCES users (id),
    PRIMARY KEY (bot_id, manager_id)
);

CREATE INDEX managers_by_manager ON managers (manager_id);
