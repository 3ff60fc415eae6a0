//! Idle backend connections, kept per thread: each server worker runs its own
//! single-threaded runtime, so a request, its backend connection and the connection's task
//! never change threads, and checking a connection out or in takes no lock. Two kinds are
//! kept apart: hyper's (for requests with a body) and the lean exchange's ([`super::raw`]).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::thread::LocalKey;
use std::time::{Duration, Instant};

use hyper::client::conn::http1::SendRequest;

use super::raw::RawConn;
use crate::proxy::body::Body;

/// Idle connections kept per backend, kind and thread; more are closed.
const MAX_IDLE: usize = 128;
/// An idle connection older than this is closed instead of reused.
const MAX_IDLE_AGE: Duration = Duration::from_secs(50);

struct Idle<T> {
    conn: T,
    since: Instant,
}

type Lists<T> = RefCell<Vec<VecDeque<Idle<T>>>>;

thread_local! {
    static IDLE: Lists<SendRequest<Body>> = const { RefCell::new(Vec::new()) };
    static RAW: Lists<RawConn> = const { RefCell::new(Vec::new()) };
    /// When this thread's lists of every backend were last swept of old connections.
    static SWEPT: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// How often a thread's idle lists of *every* backend are swept of connections past
/// [`MAX_IDLE_AGE`]: backends replaced by a reload, or used once (a JWKS fetch), are never
/// asked for a connection again, so their idle ones would otherwise stay open for good.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The most recently used idle connection to backend `id` that `usable` accepts.
fn take_from<T: 'static>(
    key: &'static LocalKey<Lists<T>>,
    id: usize,
    usable: impl Fn(&T) -> bool,
) -> Option<T> {
    key.with(|idle| {
        let mut idle = idle.borrow_mut();
        let list = idle.get_mut(id)?;
        let now = Instant::now();
        while let Some(entry) = list.pop_back() {
            if usable(&entry.conn) && now.duration_since(entry.since) < MAX_IDLE_AGE {
                return Some(entry.conn);
            }
        }
        None
    })
}

fn keep<T: 'static>(key: &'static LocalKey<Lists<T>>, id: usize, conn: T) {
    let now = Instant::now();
    if SWEPT
        .get()
        .is_none_or(|at| now.duration_since(at) >= SWEEP_EVERY)
    {
        SWEPT.set(Some(now));
        IDLE.with(|lists| sweep(&mut lists.borrow_mut(), now));
        RAW.with(|lists| sweep(&mut lists.borrow_mut(), now));
    }
    key.with(|idle| {
        let mut idle = idle.borrow_mut();
        if idle.len() <= id {
            idle.resize_with(id + 1, VecDeque::new);
        }
        let list = &mut idle[id];
        drop_old(list, now);
        if list.len() >= MAX_IDLE {
            list.pop_front();
        }
        list.push_back(Idle { conn, since: now });
    });
}

/// Drops the connections of `list` idle for [`MAX_IDLE_AGE`] or longer (the oldest first).
fn drop_old<T>(list: &mut VecDeque<Idle<T>>, now: Instant) {
    while list
        .front()
        .is_some_and(|oldest| now.duration_since(oldest.since) >= MAX_IDLE_AGE)
    {
        list.pop_front();
    }
}

fn sweep<T>(lists: &mut [VecDeque<Idle<T>>], now: Instant) {
    for list in lists {
        drop_old(list, now);
    }
}

/// The most recently used idle hyper connection to backend `id` ready for a request.
pub fn take(id: usize) -> Option<SendRequest<Body>> {
    take_from(&IDLE, id, SendRequest::is_ready)
}

/// Returns a connection whose last response has been read completely. It becomes idle as
/// soon as the connection is ready for the next request; a connection that closes instead
/// is dropped.
pub fn give_back(id: usize, mut sender: SendRequest<Body>) {
    if sender.is_ready() {
        keep(&IDLE, id, sender);
    } else if !sender.is_closed() {
        tokio::spawn(async move {
            if sender.ready().await.is_ok() {
                keep(&IDLE, id, sender);
            }
        });
    }
}

/// The most recently used idle lean connection to backend `id` on which nothing arrived
/// while it was idle. It may still close as it is used: the caller retries a failure before
/// any answer byte once.
pub fn take_raw(id: usize) -> Option<RawConn> {
    take_from(&RAW, id, RawConn::is_quiet)
}

/// Keeps a lean connection whose last answer was read to its end.
pub fn keep_raw(id: usize, conn: RawConn) {
    keep(&RAW, id, conn);
}

/// Idle connections of both kinds to backend `id` on this thread (for tests).
pub fn idle_count(id: usize) -> usize {
    IDLE.with(|lists| lists.borrow().get(id).map_or(0, VecDeque::len))
        + RAW.with(|lists| lists.borrow().get(id).map_or(0, VecDeque::len))
}
