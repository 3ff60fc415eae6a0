//! A loopback webhook receiver: a small hyper server on its own thread (plain HTTP, or HTTPS
//! with a test certificate) that keeps every request (headers and body) and answers 500 to
//! the first `failures` requests, 200 after.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

use tokio_rustls::TlsAcceptor;

use super::ports;
use super::tls::TestPki;

/// One request as received, and what it was answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "webhook body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

#[derive(Default)]
struct State {
    received: Vec<Received>,
    failures_left: usize,
}

/// The running receiver; stops with the test process (its thread is detached).
pub struct Receiver {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    https: bool,
}

impl Receiver {
    /// Starts a receiver that answers 500 to the first `failures` requests.
    pub fn start(failures: usize) -> Receiver {
        Receiver::start_with(failures, None)
    }

    /// Like [`Receiver::start`], over HTTPS with `pki`'s server certificate for 127.0.0.1.
    pub fn start_tls(failures: usize, pki: &TestPki) -> Receiver {
        let files = vcsgate::config::TlsFiles {
            cert: pki.server_cert(),
            key: pki.server_key(),
        };
        let acceptor = vcsgate::proxy::server::tls_acceptor(&files).expect("TLS acceptor");
        Receiver::start_with(failures, Some(acceptor))
    }

    fn start_with(failures: usize, tls: Option<TlsAcceptor>) -> Receiver {
        let listener = loop {
            let port = ports::free_port();
            if let Ok(listener) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                break listener;
            }
        };
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State {
            received: Vec::new(),
            failures_left: failures,
        }));
        let shared = Arc::clone(&state);
        let https = tls.is_some();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(listener, shared, tls));
        });
        Receiver { addr, state, https }
    }

    /// `http://127.0.0.1:PORT/PATH` (`https://` over TLS)
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.addr)
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// The requests answered 200.
    pub fn accepted(&self) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.answered == 200)
            .collect()
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<Mutex<State>>,
    tls: Option<TlsAcceptor>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let state = Arc::clone(&state);
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let state = Arc::clone(&state);
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let mut state = state.lock().unwrap();
                    let status = if state.failures_left > 0 {
                        state.failures_left -= 1;
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    };
                    state.received.push(Received {
                        method: parts.method.to_string(),
                        path: parts.uri.to_string(),
                        headers: parts
                            .headers
                            .iter()
                            .map(|(n, v)| {
                                (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into())
                            })
                            .collect(),
                        body: body.to_vec(),
                        answered: status.as_u16(),
                    });
                    let mut response = Response::new(Full::new(Bytes::from_static(b"ok\n")));
                    *response.status_mut() = status;
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match tls {
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
                Some(acceptor) => {
                    // A client that does not trust the certificate ends here.
                    if let Ok(stream) = acceptor.accept(stream).await {
                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                    }
                }
            }
        });
    }
}
