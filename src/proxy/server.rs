//! Accepting connections: TCP, optionally TLS (rustls, ring) with HTTP/1.1 and HTTP/2 by
//! ALPN; one hyper connection task each; graceful shutdown that stops accepting and lets
//! in-flight requests finish within a bounded grace.
//!
//! `[server] workers` threads each run a single-threaded runtime with a listener of their
//! own on the same address (`SO_REUSEPORT`: the kernel spreads connections over them), so a
//! request, its backend connection and every task it wakes stay on one thread: no locks or
//! cross-thread wake-ups on the request path. Store work runs on the control runtime.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::admission::Admission;
use super::gate::Gate;
use super::http1;
use crate::config::{Limits, TlsFiles};

/// How long a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {what} file {path}: {reason}")]
    TlsFile {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    #[error("TLS configuration rejected: {0}")]
    Tls(#[from] rustls::Error),
}

/// Builds the TLS acceptor for `[server.tls]`.
pub fn tls_acceptor(files: &TlsFiles) -> Result<TlsAcceptor, Error> {
    let file_error = |what: &'static str, path: &Path, reason: String| Error::TlsFile {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| file_error("certificate", &files.cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_error("certificate", &files.cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(file_error(
            "certificate",
            &files.cert,
            "no PEM certificate found".to_owned(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| file_error("key", &files.key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The hyper connection builder with the configured limits.
fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes)
        .max_headers(limits.max_headers);
    let header_list = u32::try_from(limits.max_header_bytes).unwrap_or(u32::MAX);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(header_list)
        .max_concurrent_streams(Some(256))
        .keep_alive_interval(Some(Duration::from_secs(60)));
    builder
}

/// Binds `count` listening sockets to `addr` with `SO_REUSEPORT` (all on one port, the one
/// the system picks when `addr` asks for port 0). A port something else already listens on
/// is refused, even another vcsgate (whose sockets would otherwise join the group): a plain
/// socket is bound first as a probe.
pub fn bind(addr: SocketAddr, count: usize) -> std::io::Result<Vec<std::net::TcpListener>> {
    let probe = std::net::TcpListener::bind(addr)?;
    let mut addr = addr;
    addr.set_port(probe.local_addr()?.port());
    drop(probe);
    let mut listeners = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(addr),
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(LISTEN_BACKLOG)?;
        listeners.push(socket.into());
    }
    Ok(listeners)
}

/// The kernel's queue of not yet accepted connections, per listener.
const LISTEN_BACKLOG: i32 = 1024;

/// The gate requests are served with: replaced as a whole on reload (SIGHUP). Each request
/// takes the gate current when it starts and keeps it to its end.
pub type CurrentGate = Arc<arc_swap::ArcSwap<Gate>>;

/// What every worker shares.
#[derive(Clone)]
pub struct Shared {
    pub gate: CurrentGate,
    pub tls: Option<TlsAcceptor>,
    /// The limits that need a restart to change (the shutdown grace).
    pub limits: Limits,
    pub admission: Admission,
}

/// Starts one worker thread per listener; each serves until `shutdown` turns true, then
/// drains its connections within the grace. Join the handles to wait for all of them.
pub fn start_workers(
    shared: &Shared,
    listeners: Vec<std::net::TcpListener>,
    shutdown: &tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<Vec<std::thread::JoinHandle<()>>> {
    let mut workers = Vec::with_capacity(listeners.len());
    for (index, listener) in listeners.into_iter().enumerate() {
        let shared = shared.clone();
        let mut shutdown = shutdown.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .on_thread_park(crate::logging::flush_this_thread)
            .build()?;
        let worker = std::thread::Builder::new()
            .name(format!("vcsgate-worker-{index}"))
            .spawn(move || {
                crate::logging::buffer_this_thread();
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(error) => {
                            tracing::error!(%error, "worker cannot use its listener");
                            return;
                        }
                    };
                    let stop = async move {
                        let _ = shutdown.wait_for(|stop| *stop).await;
                    };
                    serve(shared, listener, stop).await;
                });
                crate::logging::flush_this_thread();
            })?;
        workers.push(worker);
    }
    Ok(workers)
}

/// Serves until `shutdown` resolves, then drains in-flight connections for up to the
/// configured grace.
pub async fn serve(shared: Shared, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let Shared {
        gate,
        tls,
        limits,
        admission,
    } = shared;
    let graceful = GracefulShutdown::new();
    // Turns true when the server stops: idle lane connections close.
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    // Rebuilt when a reload changes the limits.
    let mut built_for = gate.load().limits().clone();
    let mut builder = connection_builder(&built_for);
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = async {
                let slot = admission.slot().await;
                (slot, listener.accept().await)
            } => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer, slot) = match accepted {
            (Some(slot), Ok((stream, peer))) => (stream, peer, slot),
            (_, Err(error)) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            (None, Ok(_)) => break,
        };
        let Some(ticket) = admission.admit(slot, peer.ip()) else {
            tracing::info!(client = %peer.ip(), "too many connections from this client; closed");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let current = gate.load_full();
        if current.limits() != &built_for {
            built_for = current.limits().clone();
            builder = connection_builder(&built_for);
        }
        let open = current.metrics().connection_opened();
        drop(current);
        let connection = Connection {
            gate: Arc::clone(&gate),
            peer,
            builder: builder.clone(),
            watcher: graceful.watcher(),
            stop: stop.clone(),
        };
        let tls = tls.clone();
        tokio::spawn(async move {
            let _ticket = ticket;
            let _open = open;
            match tls {
                None => connection.serve(stream, true).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                    let Ok(Ok(stream)) = handshake else {
                        tracing::debug!(%peer, "TLS handshake failed or timed out");
                        return;
                    };
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                    connection.serve(stream, !h2).await;
                }
            }
        });
    }
    drop(listener);
    let _ = stop_sender.send(true);
    tokio::select! {
        () = graceful.shutdown() => tracing::debug!("worker: all connections closed"),
        () = tokio::time::sleep(limits.shutdown_grace) => tracing::warn!("shutdown grace expired; closing remaining connections"),
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    gate: CurrentGate,
    peer: SocketAddr,
    builder: auto::Builder<TokioExecutor>,
    watcher: Watcher,
    stop: tokio::sync::watch::Receiver<bool>,
}

impl Connection {
    /// Serves `io`: on the HTTP/1.1 lane first when `lane` (not for HTTP/2 by ALPN), then —
    /// for a request the lane does not take — with hyper for the rest of the connection.
    async fn serve<I>(self, io: I, lane: bool)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Connection {
            gate,
            peer,
            builder,
            watcher,
            stop,
        } = self;
        let (io, builder) = if lane {
            match http1::serve(io, &gate, peer, stop).await {
                http1::Ended::Closed => return,
                http1::Ended::HandOff { io, http1_only } if http1_only => {
                    (io, builder.http1_only())
                }
                http1::Ended::HandOff { io, .. } => (io, builder),
            }
        } else {
            (http1::Rewind::new(bytes::Bytes::new(), io), builder)
        };
        let service = service_fn(move |request: hyper::Request<Incoming>| {
            let gate = gate.load_full();
            async move {
                let request = request.map(|b| b.map_err(Into::into).boxed());
                Ok::<_, Infallible>(gate.handle(request, peer).await)
            }
        });
        let connection = builder.serve_connection(TokioIo::new(io), service);
        if let Err(error) = watcher.watch(connection.into_owned()).await {
            tracing::debug!(%peer, %error, "connection ended with an error");
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The address a listener is bound to (for logs).
pub fn describe(listener: &TcpListener) -> Option<SocketAddr> {
    listener.local_addr().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn workers_share_one_port_that_nobody_else_may_join() {
        let listeners = bind("127.0.0.1:0".parse().unwrap(), 3).unwrap();
        let ports: Vec<u16> = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        assert_eq!(ports.len(), 3);
        assert!(ports.iter().all(|p| *p == ports[0]), "{ports:?}");
        let taken = SocketAddr::from(([127, 0, 0, 1], ports[0]));
        let second = bind(taken, 2).map(|_| ()).unwrap_err();
        assert_eq!(second.kind(), std::io::ErrorKind::AddrInUse);
    }
}
