-- The client address of a token's last use (beside last_used_at), as the throttle sees it.
ALTER TABLE tokens ADD COLUMN last_used_ip TEXT;
