//! SQL both dialects run unchanged: `$n` placeholders (SQLite reads `$n` as the n-th
//! argument), `RETURNING`, `ON CONFLICT … DO …`. What differs lives in [`super::dialect`].
//!
//! A token is active at `now` when it is not revoked and `expires_at` is unset or after `now`.

/// `$1` name, `$2` created_at, `$3` role, `$4` bot, `$5` email → `id`, or no row when the
/// name is taken.
pub const INSERT_USER: &str = "INSERT INTO users (name, active, created_at, role, bot, email) \
     VALUES ($1, TRUE, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING RETURNING id";

/// `$1` name → `id`, `bot`.
pub const USER_KIND: &str = "SELECT id, bot FROM users WHERE name = $1";

/// `$1` user_id, `$2` role.
pub const SET_ROLE: &str = "UPDATE users SET role = $2 WHERE id = $1";

/// `$1` user_id, `$2` email or NULL.
pub const SET_EMAIL: &str = "UPDATE users SET email = $2 WHERE id = $1";

/// `$1` bot_id, `$2` manager_id; an existing pair stays as it is.
pub const INSERT_MANAGER: &str = "INSERT INTO managers (bot_id, manager_id) VALUES ($1, $2) \
     ON CONFLICT (bot_id, manager_id) DO NOTHING";

/// `$1` bot_id, `$2` manager_id → `bot_id`, or no row when it was no manager.
pub const DELETE_MANAGER: &str =
    "DELETE FROM managers WHERE bot_id = $1 AND manager_id = $2 RETURNING bot_id";

/// `$1` bot_id → how many managers it has.
pub const COUNT_MANAGERS: &str = "SELECT COUNT(*) FROM managers WHERE bot_id = $1";

/// `$1` name, `$2` active → `id`, or no row for an unknown user.
pub const SET_USER_ACTIVE: &str = "UPDATE users SET active = $2 WHERE name = $1 RETURNING id";

/// `$1` name or NULL for everyone → one row per user and manager (NULL `manager_name` for a
/// user without managers), by user then manager name. One statement: one snapshot.
pub const LIST_USERS: &str = "SELECT u.name, u.active, u.created_at, u.role, u.bot, u.email, \
     m.name AS manager_name FROM users u \
     LEFT JOIN managers x ON x.bot_id = u.id LEFT JOIN users m ON m.id = x.manager_id \
     WHERE ($1 IS NULL OR u.name = $1) ORDER BY u.name, m.name";

/// `$1` name → `id`.
pub const USER_ID: &str = "SELECT id FROM users WHERE name = $1";

/// `$1` user_id, `$2` pattern, `$3` access.
pub const UPSERT_GRANT: &str = "INSERT INTO grants (user_id, pattern, access) VALUES ($1, $2, $3) \
     ON CONFLICT (user_id, pattern) DO UPDATE SET access = excluded.access";

/// `$1` user_id, `$2` pattern → `user_id`, or no row when there was no such grant.
pub const DELETE_GRANT: &str =
    "DELETE FROM grants WHERE user_id = $1 AND pattern = $2 RETURNING user_id";

/// `$1` user_id or NULL for everyone's.
pub const LIST_GRANTS: &str = "SELECT u.name AS user_name, g.pattern, g.access \
     FROM grants g JOIN users u ON u.id = g.user_id \
     WHERE ($1 IS NULL OR g.user_id = $1) ORDER BY u.name, g.pattern";

/// `$1` name → the user and its grants, one row per grant (a single row with NULL pattern and
/// access when it has none), no row for an unknown user. One statement: one snapshot.
pub const USER_STANDING: &str = "SELECT u.name AS user_name, u.active, g.pattern, g.access \
     FROM users u LEFT JOIN grants g ON g.user_id = u.id WHERE u.name = $1 ORDER BY g.pattern";

/// `$1` user_id, `$2` name, `$3` now → the id of an active token with that name.
pub const ACTIVE_TOKEN_NAMED: &str = "SELECT id FROM tokens \
     WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL \
     AND (expires_at IS NULL OR expires_at > $3)";

/// `$1` user_id, `$2` name, `$3` hash, `$4` public_prefix, `$5` scopes, `$6` repos,
/// `$7` created_at, `$8` expires_at → `id`.
pub const INSERT_TOKEN: &str = "INSERT INTO tokens \
     (user_id, name, hash, public_prefix, scopes, repos, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";

/// `$1` user_id, `$2` name, `$3` now → `id`, `scopes`, `repos` of the active token of that
/// name.
pub const ACTIVE_TOKEN_DETAILS: &str = "SELECT id, scopes, repos FROM tokens \
     WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL \
     AND (expires_at IS NULL OR expires_at > $3)";

/// `$1` id, `$2` now.
pub const REVOKE_TOKEN_ID: &str = "UPDATE tokens SET revoked_at = $2 WHERE id = $1";

/// `$1` user_id, `$2` name, `$3` now → the ids revoked (none: no active token of that name).
pub const REVOKE_TOKEN: &str = "UPDATE tokens SET revoked_at = $3 \
     WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL \
     AND (expires_at IS NULL OR expires_at > $3) RETURNING id";

/// The columns of [`super::rows::TokenRow`], from `tokens t JOIN users u`.
macro_rules! token_columns {
    () => {
        "SELECT t.id, u.name AS user_name, t.name, t.public_prefix, t.scopes, t.repos, \
         t.created_at, t.expires_at, t.last_used_at, t.last_used_ip, t.revoked_at"
    };
}

/// `$1` user_id or NULL for everyone's, `$2` include inactive, `$3` now.
pub const LIST_TOKENS: &str = concat!(
    token_columns!(),
    " FROM tokens t JOIN users u ON u.id = t.user_id \
     WHERE ($1 IS NULL OR t.user_id = $1) \
     AND ($2 OR (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $3))) \
     ORDER BY u.name, t.name, t.id"
);

/// `$1` id → the token.
pub const TOKEN_BY_ID: &str = concat!(
    token_columns!(),
    " FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1"
);

/// `$1` hash → the token, its user's standing and grants, one row per grant (NULL pattern and
/// access when the user has none). One statement: one snapshot.
pub const LOOKUP_TOKEN: &str = concat!(
    token_columns!(),
    ", u.active, g.pattern, g.access \
     FROM tokens t JOIN users u ON u.id = t.user_id \
     LEFT JOIN grants g ON g.user_id = u.id WHERE t.hash = $1 ORDER BY g.pattern"
);

/// `$1` user_name. The time defaults in the schema.
pub const APPEND_CHANGE: &str = "INSERT INTO changes (user_name) VALUES ($1)";

/// `$1` after, `$2` limit.
pub const CHANGES_SINCE: &str =
    "SELECT seq, user_name FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2";

pub const LATEST_CHANGE: &str = "SELECT COALESCE(MAX(seq), 0) FROM changes";

/// `$1` token id, `$2` time; never moves the time backwards.
pub const RECORD_LAST_USED: &str = "UPDATE tokens SET last_used_at = $2, last_used_ip = $3 \
     WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";

/// `$1` at, `$2` actor, `$3` actor_user, `$4` client, `$5` action, `$6` target, `$7` detail.
pub const INSERT_AUDIT: &str = "INSERT INTO audit \
     (at, actor, actor_user, client, action, target, detail) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// `$1` user name or NULL for all, `$2` limit, `$3` only ids below this → newest first.
pub const LIST_AUDIT: &str = "SELECT id, at, actor, actor_user, client, action, target, detail \
     FROM audit WHERE ($1 IS NULL OR target = $1 OR actor_user = $1) AND id < $3 \
     ORDER BY id DESC LIMIT $2";

/// `$1` id hash, `$2` user name, `$3` csrf, `$4` now → `id_hash`, or no row for an unknown user.
pub const INSERT_SESSION: &str = "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at) \
     SELECT $1, id, $3, $4, $4 FROM users WHERE name = $2 RETURNING id_hash";

/// `$1` id hash → the session's user name, csrf and last_seen_at.
pub const SESSION: &str = "SELECT u.name, s.csrf, s.last_seen_at FROM sessions s \
     JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1";

/// `$1` id hash, `$2` now.
pub const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1";

/// `$1` id hash.
pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id_hash = $1";

/// `$1` hash, `$2` user name, `$3` now, `$4` expires_at → `hash`, or no row for an unknown user.
pub const INSERT_LOGIN_LINK: &str = "INSERT INTO login_links (hash, user_id, created_at, expires_at) \
     SELECT $1, id, $3, $4 FROM users WHERE name = $2 RETURNING hash";

/// `$1` hash, `$2` now → the user id, once: the link is used up in the same statement.
pub const USE_LOGIN_LINK: &str = "UPDATE login_links SET used_at = $2 \
     WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id";

/// `$1` user id → name.
pub const USER_NAME: &str = "SELECT name FROM users WHERE id = $1";

/// `$1` now, `$2` until → active tokens (not revoked) expiring after `$1` and at or before
/// `$2`, with their user's email and standing, soonest first.
pub const EXPIRING_TOKENS: &str = "SELECT t.id, u.name AS user_name, t.name, t.expires_at, \
     u.email, u.active FROM tokens t JOIN users u ON u.id = t.user_id \
     WHERE t.revoked_at IS NULL AND t.expires_at > $1 AND t.expires_at <= $2 \
     ORDER BY t.expires_at, u.name, t.name, t.id";

/// `$1` token_id, `$2` threshold, `$3` channel, `$4` now → `id`, or no row when that notice
/// exists already.
pub const ADD_NOTICE: &str = "INSERT INTO notices \
     (token_id, threshold, channel, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4) \
     ON CONFLICT (token_id, threshold, channel) DO NOTHING RETURNING id";

/// `$1` now, `$2` lease until, `$3` webhook notices wanted, `$4` mail notices wanted → the one
/// pending notice of a wanted channel due soonest whose lease (if any) has run out, now leased
/// until `$2`, its attempt count raised. The outer conditions are checked again on the row as
/// updated: two servers racing for one row cannot both get it.
pub const CLAIM_NOTICE: &str = "UPDATE notices SET lease_until = $2, attempts = attempts + 1 \
     WHERE id = (SELECT id FROM notices WHERE outcome IS NULL AND next_attempt_at <= $1 \
     AND (lease_until IS NULL OR lease_until <= $1) \
     AND ((channel = 'webhook' AND $3) OR (channel = 'mail' AND $4)) \
     ORDER BY next_attempt_at, id LIMIT 1) \
     AND outcome IS NULL AND (lease_until IS NULL OR lease_until <= $1) \
     RETURNING id, token_id, threshold, channel, attempts";

/// `$1` token id → its user, name, expiry, revocation and the user's email.
pub const NOTICE_TOKEN: &str = "SELECT u.name AS user_name, t.name, t.expires_at, t.revoked_at, \
     u.email FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1";

/// `$1` id, `$2` attempt, `$3` now, `$4` outcome, `$5` reason or NULL → `id`, or no row when
/// the claim of attempt `$2` is no longer the current one.
pub const FINISH_NOTICE: &str = "UPDATE notices \
     SET outcome = $4, done_at = $3, lease_until = NULL, last_error = $5 \
     WHERE id = $1 AND attempts = $2 AND outcome IS NULL RETURNING id";

/// `$1` id, `$2` attempt, `$3` retry at, `$4` reason → `id`, or no row when the claim of
/// attempt `$2` is no longer the current one.
pub const RETRY_NOTICE: &str = "UPDATE notices \
     SET lease_until = NULL, next_attempt_at = $3, last_error = $4 \
     WHERE id = $1 AND attempts = $2 AND outcome IS NULL RETURNING id";
