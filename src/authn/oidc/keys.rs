//! An issuer's keys as a running server keeps them: fixed (`jwks_file`), or fetched from
//! `jwks_url` at start and again when a JWT names an unknown `kid` — at most once per
//! [`REFETCH_INTERVAL`] — and kept (served stale, with their age in the log) while the
//! issuer is unreachable.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use http::Uri;

use super::fetch::fetch;
use super::verify::{Issuer, KeySet, OidcError, Verified, inspect, verify_with};

/// Least time between two fetches caused by unknown `kid`s.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub struct IssuerKeys {
    pub issuer: Issuer,
    keys: RwLock<Arc<KeySet>>,
    remote: Option<Remote>,
}

#[derive(Debug)]
struct Remote {
    url: Uri,
    ca_file: Option<PathBuf>,
    /// When an unknown `kid` last caused a fetch.
    last_refetch: Mutex<Option<Instant>>,
    /// When the keys in use were fetched.
    fetched_at: Mutex<Option<Instant>>,
}

impl IssuerKeys {
    /// Keys from a file, never refetched.
    pub fn fixed(issuer: Issuer, keys: KeySet) -> Self {
        IssuerKeys {
            issuer,
            keys: RwLock::new(Arc::new(keys)),
            remote: None,
        }
    }

    /// Keys from `url`, fetched now; when that fails the issuer starts without keys (its
    /// JWTs are refused) and the first unknown `kid` tries again.
    pub async fn remote(issuer: Issuer, url: Uri, ca_file: Option<PathBuf>) -> Self {
        let (keys, fetched_at) = match fetch(&url, ca_file.as_deref()).await {
            Ok(keys) => {
                tracing::info!(issuer = %issuer.issuer, keys = keys.len(), "JWKS fetched");
                (keys, Some(Instant::now()))
            }
            Err(error) => {
                tracing::error!(issuer = %issuer.issuer, %error, "JWKS fetch failed; the issuer's JWTs are refused until a fetch succeeds");
                (KeySet::default(), None)
            }
        };
        IssuerKeys {
            issuer,
            keys: RwLock::new(Arc::new(keys)),
            remote: Some(Remote {
                url,
                ca_file,
                last_refetch: Mutex::new(None),
                fetched_at: Mutex::new(fetched_at),
            }),
        }
    }

    pub fn keys(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Fetches the keys again unless they come from a file or a refetch happened within
    /// [`REFETCH_INTERVAL`]; returns whether new keys are in use.
    pub async fn refetch(&self) -> bool {
        let Some(remote) = &self.remote else {
            return false;
        };
        {
            let mut last = remote
                .last_refetch
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < REFETCH_INTERVAL) {
                return false;
            }
            *last = Some(Instant::now());
        }
        // Fetched in a task of its own: it owns what it needs, and the request waiting here
        // only holds the join handle.
        let (url, ca_file) = (remote.url.clone(), remote.ca_file.clone());
        let fetched = tokio::spawn(async move { fetch(&url, ca_file.as_deref()).await })
            .await
            .unwrap_or(Err(super::fetch::FetchError::Request));
        match fetched {
            Ok(keys) => {
                tracing::info!(issuer = %self.issuer.issuer, keys = keys.len(), "JWKS refetched for an unknown kid");
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
                *remote.fetched_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                true
            }
            Err(error) => {
                let fetched = *remote.fetched_at.lock().unwrap_or_else(|e| e.into_inner());
                let age_secs = fetched.map(|at| at.elapsed().as_secs());
                tracing::warn!(issuer = %self.issuer.issuer, %error, ?age_secs, "JWKS unreachable; keeping the keys fetched before");
                false
            }
        }
    }
}

/// Verifies `jwt` against the issuer its `iss` names; a `kid` the issuer's keys lack causes
/// one refetch (within the interval) and a second try.
pub async fn verify_current(
    issuers: &[IssuerKeys],
    jwt: &str,
    now: i64,
) -> Result<Verified, OidcError> {
    let seen = inspect(jwt)?;
    let issuer = issuers
        .iter()
        .find(|i| i.issuer.issuer == seen.issuer)
        .ok_or(OidcError::UnknownIssuer)?;
    let keys = issuer.keys();
    let first = verify_with(jwt, &seen, &issuer.issuer, &keys, now);
    drop(keys);
    if first == Err(OidcError::UnknownKid) && issuer.refetch().await {
        let keys = issuer.keys();
        return verify_with(jwt, &seen, &issuer.issuer, &keys, now);
    }
    first
}
