-- The reserved user `anonymous` (ACCESS.md "Anonymous read"): requests without credentials
-- are decided with its grants. It holds no tokens, no write grants, no admin role and no
-- managers; a user of that name that already exists becomes it and loses those (its tokens
-- are revoked, its write grants become read grants), and running servers are told.
INSERT INTO changes (user_name)
    SELECT 'anonymous' WHERE EXISTS (SELECT 1 FROM users WHERE name = 'anonymous');
INSERT INTO users (name, active, created_at) VALUES ('anonymous', 1, unixepoch())
    ON CONFLICT (name) DO NOTHING;
UPDATE users SET role = 'user', bot = 0 WHERE name = 'anonymous';
UPDATE tokens SET revoked_at = unixepoch()
    WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE name = 'anonymous');
UPDATE grants SET access = 'read'
    WHERE user_id = (SELECT id FROM users WHERE name = 'anonymous');
DELETE FROM managers
    WHERE bot_id = (SELECT id FROM users WHERE name = 'anonymous')
       OR manager_id = (SELECT id FROM users WHERE name = 'anonymous');
