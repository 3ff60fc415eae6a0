//! Authentication: from a presented token to the [`Principal`] it belongs to.
//!
//! Known tokens are decided from memory. A well-formed token not in memory costs one store
//! lookup. Memory is kept fresh by [`feed::ChangeFeed`], which polls the store's change feed
//! and evicts every remembered token of a user something changed about; the same poll is
//! the store's health check. While the store is unreachable, remembered decisions stay
//! usable for the configured grace; after that every request gets 503.

mod feed;
mod health;
pub mod oidc;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;

use crate::authorize::{self, Denial};
use crate::credentials::{CredentialError, CredentialForm};
use crate::names::UserName;
use crate::secret::Secret;
use crate::store::{LastUse, Principal, Store, TokenId, UserAccess};
use crate::token::{self, TokenHash};

pub use feed::ChangeFeed;
pub use health::Health;

/// How often running servers look for changes (a CLI change is enforced within one second).
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How often last-use times are written back.
pub const LAST_USED_FLUSH_INTERVAL: Duration = Duration::from_secs(10);
/// Granularity of recorded last-use times.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

/// Most verified JWTs remembered at once (expired ones are dropped first).
const MAX_VERIFIED_JWTS: usize = 10_000;

/// What verified JWTs are remembered by: the SHA-256 of the JWT.
fn jwt_key(jwt: &Secret) -> [u8; 32] {
    <sha2::Sha256 as sha2::Digest>::digest(jwt.expose().as_bytes()).into()
}

/// OIDC issuers and the JWTs verified so far.
#[derive(Debug)]
struct OidcState {
    issuers: Vec<oidc::IssuerKeys>,
    verified: DashMap<[u8; 32], Arc<oidc::Verified>>,
}

impl OidcState {
    /// A JWT verified before whose `exp` has not passed at `now`.
    fn remembered(&self, key: &[u8; 32], now: i64) -> Option<Arc<oidc::Verified>> {
        let found = self.verified.get(key)?;
        (now < found.exp.saturating_add(oidc::verify::LEEWAY_SECS))
            .then(|| Arc::clone(found.value()))
    }
}

/// Why a request is not authenticated.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no credentials")]
    Missing,
    #[error("{0}")]
    Credentials(#[from] CredentialError),
    #[error("{0}")]
    Format(#[from] token::FormatError),
    #[error("unknown token")]
    Unknown,
    #[error("{0}")]
    Standing(Denial),
    #[error("the token store is unavailable")]
    StoreUnavailable,
    #[error("JWT refused: {0}")]
    Oidc(#[from] oidc::OidcError),
}

/// The outcome of [`Authenticator::begin`].
#[derive(Debug)]
pub enum Attempt {
    /// Remembered and valid now.
    Known(Arc<KnownToken>),
    /// Well-formed, not remembered: needs one store lookup.
    Unknown(TokenHash),
}

/// Who a request acts as: a token's user, or the reserved user `anonymous` for a request
/// without credentials.
#[derive(Debug, Clone)]
pub enum Subject {
    Token {
        known: Arc<KnownToken>,
        form: CredentialForm,
    },
    Anonymous(Arc<UserAccess>),
    /// A CI job's JWT: the configured user, with what the JWT's claims allow.
    Oidc {
        verified: Arc<oidc::Verified>,
        user: Arc<UserAccess>,
        form: CredentialForm,
    },
}

impl Subject {
    pub fn user(&self) -> &UserName {
        match self {
            Subject::Token { known, .. } => &known.principal.user.name,
            Subject::Anonymous(user) => &user.name,
            Subject::Oidc { user, .. } => &user.name,
        }
    }

    pub fn form(&self) -> CredentialForm {
        match self {
            Subject::Token { form, .. } | Subject::Oidc { form, .. } => *form,
            Subject::Anonymous(_) => CredentialForm::Anonymous,
        }
    }
}

/// A remembered token decision.
#[derive(Debug)]
pub struct KnownToken {
    pub principal: Principal,
    last_used: AtomicI64,
}

/// The authenticator shared by all connections.
#[derive(Debug)]
pub struct Authenticator {
    store: Arc<dyn Store>,
    tokens: DashMap<TokenHash, Arc<KnownToken>>,
    /// Standings (active, grants) of users looked up by name: the reserved `anonymous`
    /// (requests without credentials) and the users OIDC identities act as; evicted like a
    /// token's user.
    standings: DashMap<UserName, Arc<UserAccess>>,
    /// `[[oidc]]` issuers with their keys, and JWTs verified before (by the SHA-256 of the
    /// JWT, until their `exp`).
    oidc: Option<OidcState>,
    /// Bumped whenever the feed evicts, before it evicts; a lookup that raced with an
    /// eviction is not remembered (see [`Authenticator::remember`]).
    generation: AtomicU64,
    /// Uses not yet written: time and client address per token.
    dirty_last_used: DashMap<TokenId, (i64, IpAddr)>,
    health: Health,
    /// Runs once where a lookup is about to remember its answer (tests force interleavings
    /// there).
    #[cfg(test)]
    pub(crate) before_remember: tests::Hook,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, grace: Duration) -> Self {
        Authenticator {
            store,
            tokens: DashMap::new(),
            standings: DashMap::new(),
            oidc: None,
            generation: AtomicU64::new(0),
            dirty_last_used: DashMap::new(),
            health: Health::new(grace),
            #[cfg(test)]
            before_remember: tests::Hook::default(),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Checks the presented token: format, memory or one store lookup, standing at `now`.
    pub async fn authenticate(
        &self,
        presented: &Secret,
        now: i64,
    ) -> Result<Arc<KnownToken>, AuthError> {
        match self.begin(presented, now)? {
            Attempt::Known(known) => Ok(known),
            Attempt::Unknown(hash) => self.finish(hash, now).await,
        }
    }

    /// The part without IO: format and checksum, store health, memory, standing. A token
    /// remembered and valid at `now` is authenticated here; a well-formed one not in memory
    /// needs [`Authenticator::finish`] (one store lookup).
    pub fn begin(&self, presented: &Secret, now: i64) -> Result<Attempt, AuthError> {
        let hash = token::parse(presented.expose())?;
        if !self.health.is_available() {
            return Err(AuthError::StoreUnavailable);
        }
        match self.remembered(&hash) {
            Some(known) => self.admit(known, now).map(Attempt::Known),
            None => Ok(Attempt::Unknown(hash)),
        }
    }

    /// One store lookup for a well-formed token that is not remembered.
    pub async fn finish(&self, hash: TokenHash, now: i64) -> Result<Arc<KnownToken>, AuthError> {
        let known = self.look_up(hash).await?;
        self.admit(known, now)
    }

    fn admit(&self, known: Arc<KnownToken>, now: i64) -> Result<Arc<KnownToken>, AuthError> {
        // `anonymous` holds no tokens (the store refuses them and migration 0005 revoked any
        // older ones); should one exist anyway, it is not a credential.
        if known.principal.user.name.is_anonymous() {
            return Err(AuthError::Unknown);
        }
        authorize::check_standing(&known.principal, now).map_err(AuthError::Standing)?;
        Ok(known)
    }

    fn remembered(&self, hash: &TokenHash) -> Option<Arc<KnownToken>> {
        self.tokens.get(hash).map(|entry| Arc::clone(entry.value()))
    }

    async fn look_up(&self, hash: TokenHash) -> Result<Arc<KnownToken>, AuthError> {
        let generation = self.generation.load(Ordering::Acquire);
        let found = self.store.lookup_token(&hash).await.map_err(|error| {
            tracing::error!(%error, "token lookup failed");
            AuthError::StoreUnavailable
        })?;
        let principal = found.ok_or(AuthError::Unknown)?;
        let known = Arc::new(KnownToken {
            last_used: AtomicI64::new(principal.token.last_used_at.unwrap_or(0)),
            principal,
        });
        self.remember(hash, &known, generation);
        Ok(known)
    }

    /// Remembers a looked-up token unless the feed evicted anything since the lookup began
    /// (`generation` is the value read before the store was asked). The generation is read
    /// while holding the map's lock for the token's shard, and the feed bumps it before its
    /// `retain` takes every shard's lock: either the eviction has not reached this shard
    /// yet (and will remove the entry) or the bump is visible here (and nothing is
    /// inserted). Checking before taking the lock would leave a window in which an eviction
    /// completes between the check and the insert.
    fn remember(&self, hash: TokenHash, known: &Arc<KnownToken>, generation: u64) {
        #[cfg(test)]
        self.before_remember.run();
        if let dashmap::Entry::Vacant(slot) = self.tokens.entry(hash)
            && self.generation.load(Ordering::Acquire) == generation
        {
            slot.insert(Arc::clone(known));
        }
    }

    /// The remembered standing of `anonymous`, if any (checks store health like
    /// [`Authenticator::begin`]).
    pub fn anonymous_remembered(&self) -> Result<Option<Arc<UserAccess>>, AuthError> {
        self.standing_remembered(&UserName::anonymous())
    }

    /// Looks up the standing of `anonymous` (see [`Authenticator::look_up_standing`]).
    pub async fn look_up_anonymous(&self) -> Result<Arc<UserAccess>, AuthError> {
        self.look_up_standing(&UserName::anonymous()).await
    }

    /// The remembered standing of a user, if any (checks store health).
    pub fn standing_remembered(
        &self,
        name: &UserName,
    ) -> Result<Option<Arc<UserAccess>>, AuthError> {
        if !self.health.is_available() {
            return Err(AuthError::StoreUnavailable);
        }
        Ok(self
            .standings
            .get(name)
            .map(|entry| Arc::clone(entry.value())))
    }

    /// Looks up a user's standing in the store and remembers it (unless the feed evicted
    /// anything meanwhile, as in [`Authenticator::remember`]). An unknown user (`anonymous`
    /// cannot be one after migration 0005) is inactive without grants: no access.
    pub async fn look_up_standing(&self, name: &UserName) -> Result<Arc<UserAccess>, AuthError> {
        let generation = self.generation.load(Ordering::Acquire);
        let found = self.store.user_access(name).await.map_err(|error| {
            tracing::error!(%error, user = %name, "lookup of a user's standing failed");
            AuthError::StoreUnavailable
        })?;
        let access = Arc::new(found.unwrap_or(UserAccess {
            name: name.clone(),
            active: false,
            grants: Vec::new(),
        }));
        #[cfg(test)]
        self.before_remember.run();
        if let dashmap::Entry::Vacant(slot) = self.standings.entry(name.clone())
            && self.generation.load(Ordering::Acquire) == generation
        {
            slot.insert(Arc::clone(&access));
        }
        Ok(access)
    }

    /// Turns on OIDC identities for these issuers and their keys.
    pub fn enable_oidc(&mut self, issuers: Vec<oidc::IssuerKeys>) {
        if !issuers.is_empty() {
            self.oidc = Some(OidcState {
                issuers,
                verified: DashMap::new(),
            });
        }
    }

    /// A JWT verified before and not expired at `now`, if any. Without `[[oidc]]` issuers a
    /// JWT is an unknown credential.
    pub fn remembered_jwt(
        &self,
        jwt: &Secret,
        now: i64,
    ) -> Result<Option<Arc<oidc::Verified>>, AuthError> {
        let state = self.oidc.as_ref().ok_or(AuthError::Unknown)?;
        Ok(state.remembered(&jwt_key(jwt), now))
    }

    /// Verifies a JWT against the issuers' keys and remembers it until its `exp`.
    pub async fn verify_jwt(
        &self,
        jwt: &Secret,
        now: i64,
    ) -> Result<Arc<oidc::Verified>, AuthError> {
        let state = self.oidc.as_ref().ok_or(AuthError::Unknown)?;
        let key = jwt_key(jwt);
        let verified = Arc::new(oidc::verify_current(&state.issuers, jwt.expose(), now).await?);
        if state.verified.len() >= MAX_VERIFIED_JWTS {
            state
                .verified
                .retain(|_, v| now < v.exp.saturating_add(oidc::verify::LEEWAY_SECS));
            if state.verified.len() >= MAX_VERIFIED_JWTS {
                state.verified.clear();
            }
        }
        state.verified.insert(key, Arc::clone(&verified));
        Ok(verified)
    }

    /// Records that an authenticated request used `known` at `now` from `client`; kept in
    /// memory at a minute's resolution and written by [`Authenticator::flush_last_used`].
    pub fn record_use(&self, known: &KnownToken, now: i64, client: IpAddr) {
        let previous = known.last_used.load(Ordering::Relaxed);
        if now / LAST_USED_GRANULARITY_SECS != previous / LAST_USED_GRANULARITY_SECS
            && known
                .last_used
                .compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.dirty_last_used
                .insert(known.principal.token.id, (now, client));
        }
    }

    /// Forgets every remembered token of these users.
    pub(crate) fn evict_users(&self, users: &[crate::names::UserName]) {
        if users.is_empty() {
            return;
        }
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.standings.retain(|name, _| !users.contains(name));
        self.tokens
            .retain(|_, known| !users.contains(&known.principal.user.name));
    }

    /// Writes pending last-use times to the store in one batch.
    pub async fn flush_last_used(&self) {
        let pending: Vec<LastUse> = self
            .dirty_last_used
            .iter()
            .map(|entry| {
                let (at, ip) = *entry.value();
                LastUse {
                    token: *entry.key(),
                    at,
                    ip: Some(ip.to_string()),
                }
            })
            .collect();
        if pending.is_empty() {
            return;
        }
        match self.store.record_last_used(&pending).await {
            Ok(()) => {
                for used in pending {
                    self.dirty_last_used
                        .remove_if(&used.token, |_, (at, _)| *at == used.at);
                }
            }
            Err(error) => tracing::warn!(%error, "could not record last-use times; will retry"),
        }
    }

    /// How many tokens are remembered (for tests and diagnostics).
    pub fn remembered_count(&self) -> usize {
        self.tokens.len()
    }
}

#[cfg(test)]
mod tests;
