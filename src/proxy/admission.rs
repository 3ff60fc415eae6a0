//! Connection admission: a cap on open connections overall (further ones wait in the
//! kernel's backlog) and per client address (further ones are closed at once), so slow or
//! greedy clients cannot take every slot. Clients are counted like throttling counts them
//! (an IPv4 address, an IPv6 /64).

use std::net::IpAddr;

use crate::throttle::ClientKey;
use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug, Clone)]
pub struct Admission {
    slots: Arc<Semaphore>,
    per_client: Arc<DashMap<ClientKey, usize>>,
    max_per_client: usize,
}

/// Held for the lifetime of one connection.
#[derive(Debug)]
pub struct Ticket {
    _slot: OwnedSemaphorePermit,
    client: ClientKey,
    per_client: Arc<DashMap<ClientKey, usize>>,
}

impl Admission {
    pub fn new(max_connections: usize, max_per_client: usize) -> Self {
        Admission {
            slots: Arc::new(Semaphore::new(max_connections)),
            per_client: Arc::new(DashMap::new()),
            max_per_client,
        }
    }

    /// Waits for a free slot overall (call before `accept`).
    pub async fn slot(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.slots).acquire_owned().await.ok()
    }

    /// Admits a connection from `client`, or `None` when it already has too many open.
    pub fn admit(&self, slot: OwnedSemaphorePermit, client: IpAddr) -> Option<Ticket> {
        let client = ClientKey::of(client);
        let mut count = self.per_client.entry(client).or_insert(0);
        if *count >= self.max_per_client {
            return None;
        }
        *count += 1;
        drop(count);
        Some(Ticket {
            _slot: slot,
            client,
            per_client: Arc::clone(&self.per_client),
        })
    }

    pub fn open_for(&self, client: IpAddr) -> usize {
        self.per_client
            .get(&ClientKey::of(client))
            .map(|c| *c)
            .unwrap_or(0)
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.per_client.remove_if_mut(&self.client, |_, count| {
            *count = count.saturating_sub(1);
            *count == 0
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn per_client_cap_and_release() {
        let admission = Admission::new(10, 2);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let t1 = admission.admit(admission.slot().await.unwrap(), a).unwrap();
        let _t2 = admission.admit(admission.slot().await.unwrap(), a).unwrap();
        assert!(
            admission
                .admit(admission.slot().await.unwrap(), a)
                .is_none()
        );
        assert!(
            admission
                .admit(admission.slot().await.unwrap(), b)
                .is_some()
        );
        drop(t1);
        assert_eq!(admission.open_for(a), 1);
        assert!(
            admission
                .admit(admission.slot().await.unwrap(), a)
                .is_some()
        );
    }

    #[tokio::test]
    async fn global_cap_makes_accept_wait() {
        let admission = Admission::new(1, 5);
        let slot = admission.slot().await.unwrap();
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), admission.slot());
        assert!(waiting.await.is_err());
        drop(slot);
        assert!(admission.slot().await.is_some());
    }
}
