//! Idle backend connections, kept per thread: each server worker runs its own
//! single-threaded runtime, so a request, its backend connection and the connection's task
//! never change threads, and checking a connection out or in takes no lock.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use hyper::client::conn::http1::SendRequest;

use crate::proxy::body::Body;

/// Idle connections kept per backend and thread; more are closed.
const MAX_IDLE: usize = 128;
/// An idle connection older than this is closed instead of reused.
const MAX_IDLE_AGE: Duration = Duration::from_secs(50);

struct Idle {
    sender: SendRequest<Body>,
    since: Instant,
}

thread_local! {
    static IDLE: RefCell<Vec<VecDeque<Idle>>> = const { RefCell::new(Vec::new()) };
}

/// The most recently used idle connection to backend `id` that is ready for a request.
pub fn take(id: usize) -> Option<SendRequest<Body>> {
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.get_mut(id)?;
        let now = Instant::now();
        while let Some(entry) = list.pop_back() {
            if entry.sender.is_ready() && now.duration_since(entry.since) < MAX_IDLE_AGE {
                return Some(entry.sender);
            }
        }
        None
    })
}

/// Returns a connection whose last response has been read completely. It becomes idle as
/// soon as the connection is ready for the next request; a connection that closes instead
/// is dropped.
pub fn give_back(id: usize, mut sender: SendRequest<Body>) {
    if sender.is_ready() {
        keep(id, sender);
    } else if !sender.is_closed() {
        tokio::spawn(async move {
            if sender.ready().await.is_ok() {
                keep(id, sender);
            }
        });
    }
}

fn keep(id: usize, sender: SendRequest<Body>) {
    IDLE.with(|idle| {
        let mut idle = idle.borrow_mut();
        if idle.len() <= id {
            idle.resize_with(id + 1, VecDeque::new);
        }
        let list = &mut idle[id];
        let now = Instant::now();
        while list
            .front()
            .is_some_and(|oldest| now.duration_since(oldest.since) >= MAX_IDLE_AGE)
        {
            list.pop_front();
        }
        if list.len() >= MAX_IDLE {
            list.pop_front();
        }
        list.push_back(Idle { sender, since: now });
    });
}

/// Idle connections to backend `id` on this thread (for tests).
pub fn idle_count(id: usize) -> usize {
    IDLE.with(|idle| idle.borrow().get(id).map_or(0, VecDeque::len))
}
