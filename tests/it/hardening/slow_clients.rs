//! Slow clients (slowloris): many connections sending their request head one byte every
//! 100 ms must neither starve normal clients nor stay open past `[limits]
//! header_timeout_secs`. The slow clients come from 127.0.0.5, the normal one (real `git`)
//! from 127.0.0.1.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use super::{CONTROL, Site, basic};
use crate::support::git::{Cred, GitClient, Remote};
use crate::support::http;
use crate::support::poll;
use crate::support::vcsgate::GateConfig;

const SLOW: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 5);
const CONNECTIONS: usize = 200;
const BYTE_EVERY: Duration = Duration::from_millis(100);

/// A request head long enough to take a minute at one byte per 100 ms.
fn slow_head() -> Vec<u8> {
    format!(
        "GET {CONTROL} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(600)
    )
    .into_bytes()
}

/// Opens one slow connection and dribbles the head until the server closes it (returns
/// how long it stayed open) or `stop` turns true (returns `None`).
async fn dribble(
    port: u16,
    connected: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) -> Result<Option<Duration>, String> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| e.to_string())?;
    socket
        .bind(SocketAddr::from((SLOW, 0)))
        .map_err(|e| e.to_string())?;
    let stream = socket
        .connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let opened = Instant::now();
    connected.fetch_add(1, Ordering::Relaxed);
    let (mut read, mut write) = stream.into_split();
    let server_closed = async move {
        let mut buf = [0u8; 1024];
        while let Ok(n) = read.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let writing = async move {
        for byte in slow_head() {
            if write.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(BYTE_EVERY).await;
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        () = server_closed => {}
        () = writing => {}
        _ = stop.wait_for(|s| *s) => return Ok(None),
    }
    closed.fetch_add(1, Ordering::Relaxed);
    Ok(Some(opened.elapsed()))
}

struct Attack {
    runtime: tokio::runtime::Runtime,
    tasks: Vec<tokio::task::JoinHandle<Result<Option<Duration>, String>>>,
    closed: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
}

impl Attack {
    /// Starts the slow connections and waits until all are open.
    fn start(port: u16) -> Attack {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let connected = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicUsize::new(0));
        let (stop, stopped) = watch::channel(false);
        let tasks = (0..CONNECTIONS)
            .map(|_| {
                let task = dribble(
                    port,
                    Arc::clone(&connected),
                    Arc::clone(&closed),
                    stopped.clone(),
                );
                runtime.spawn(task)
            })
            .collect();
        let open = poll::until(Duration::from_secs(20), Duration::from_millis(20), || {
            connected.load(Ordering::Relaxed) == CONNECTIONS
        });
        assert!(
            open.is_some(),
            "only {} of {CONNECTIONS} slow connections opened",
            connected.load(Ordering::Relaxed)
        );
        Attack {
            runtime,
            tasks,
            closed,
            stop,
        }
    }

    fn closed(&self) -> usize {
        self.closed.load(Ordering::Relaxed)
    }

    /// Stops the connections still open; how long each closed one stayed open.
    fn finish(self) -> Vec<Option<Duration>> {
        let _ = self.stop.send(true);
        let tasks = self.tasks;
        self.runtime.block_on(async move {
            let mut out = Vec::new();
            for task in tasks {
                out.push(
                    task.await
                        .unwrap()
                        .unwrap_or_else(|e| panic!("slow client: {e}")),
                );
            }
            out
        })
    }
}

/// A request head sent at one byte per [`BYTE_EVERY`] takes this long to complete.
fn slow_head_takes() -> Duration {
    BYTE_EVERY * slow_head().len() as u32
}

#[test]
fn a_clone_succeeds_while_200_slow_clients_hold_connections() {
    // The slow connections must outlast the clone, however long a loaded machine takes.
    let mut limits = toml::Table::new();
    limits.insert("header_timeout_secs".into(), toml::Value::Integer(300));
    let mut site = Site::new(GateConfig::new().section("limits", limits));
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let attack = Attack::start(site.gate.port());

    let started = Instant::now();
    let remote = Remote::new(&site.gate.url(), "/git/team/app.git", &Cred::basic(&token));
    let out = GitClient::new().clone(&remote, "c");
    let took = started.elapsed();
    let closed_during = attack.closed();
    let results = attack.finish();
    assert!(
        out.ok(),
        "clone during the slow-client attack:\n{out}\n{}",
        site.gate.log()
    );
    eprintln!("slow clients: the clone took {took:?}");
    assert!(
        closed_during < CONNECTIONS / 4,
        "{closed_during} of {CONNECTIONS} slow connections were already gone: the attack \
         was not running during the clone"
    );
    assert_eq!(results.len(), CONNECTIONS);
}

#[test]
fn slow_request_heads_are_cut_off_after_the_header_timeout() {
    let mut limits = toml::Table::new();
    limits.insert("header_timeout_secs".into(), toml::Value::Integer(2));
    let mut site = Site::new(GateConfig::new().section("limits", limits));
    let token = site.token("reader", "read_repository");
    site.gate.serve();
    let attack = Attack::start(site.gate.port());
    // Cut off by the timeout means: all closed, none before about 2 s, and all long before
    // their heads would have been complete (a minute).
    let cut_off_by = slow_head_takes() / 3;
    let all_closed = poll::until(cut_off_by, Duration::from_millis(50), || {
        attack.closed() == CONNECTIONS
    });
    let closed = attack.closed();
    let results = attack.finish();
    assert!(
        all_closed.is_some(),
        "{closed} of {CONNECTIONS} slow connections were closed by the server within \
         {cut_off_by:?} (header_timeout_secs = 2)"
    );
    let open_for: Vec<Duration> = results.into_iter().flatten().collect();
    let (shortest, longest) = (
        open_for.iter().min().unwrap(),
        open_for.iter().max().unwrap(),
    );
    eprintln!("slow clients: closed after {shortest:?} to {longest:?} (header_timeout_secs = 2)");
    assert!(
        *shortest >= Duration::from_millis(1500),
        "slow connections were closed after {shortest:?}, before header_timeout_secs = 2"
    );
    let after = http::get(site.gate.port(), CONTROL, &[basic(&token)]);
    assert_eq!(after.status, 200, "vcsgate still serves: {after:?}");
}
