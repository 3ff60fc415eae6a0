//! Forwarding to `http://` and `https://` backends. Each backend keeps its own idle
//! HTTP/1.1 connections per worker thread ([`pool`]); a request takes the most recently used
//! ready one or opens a new one ([`stream`]), and the connection goes back when the response
//! body has been read to its end. Bodies stream both ways; `https://` backends are verified
//! against the system roots (plus an optional CA file) with SNI.

pub(crate) mod chunked;
mod pool;
pub(crate) mod raw;
pub(crate) mod stream;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Uri;
use http::{HeaderMap, HeaderValue, Method, Request, Response, Version};
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls_pki_types::ServerName;

use super::body::{Body, BodyError};
use super::rejection::Rejection;
use stream::Dialer;

pub use pool::idle_count;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read CA file {path}: {reason}")]
    CaFile {
        path: std::path::PathBuf,
        reason: String,
    },
    #[error("CA file {path} holds no usable certificate")]
    CaEmpty { path: std::path::PathBuf },
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
    #[error("backend URL {url} has no host")]
    NoHost { url: String },
    #[error("backend URL {url}: {host} is not a valid TLS server name")]
    ServerName { url: String, host: String },
}

/// Numbers the backends, indexing the per-thread idle lists.
static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// One backend base URL and how to reach it.
#[derive(Debug)]
pub struct Upstream {
    id: usize,
    dialer: Dialer,
    /// `scheme://authority`
    origin: String,
    /// The `Host` header the backend gets (its own authority).
    host: HeaderValue,
    /// The base path without trailing `/` (`""` for the root).
    base_path: String,
}

impl Upstream {
    pub fn new(
        url: &Uri,
        ca_file: Option<&std::path::Path>,
        connect_timeout: Duration,
    ) -> Result<Self, Error> {
        let no_host = || Error::NoHost {
            url: url.to_string(),
        };
        let authority = url.authority().ok_or_else(no_host)?;
        let https = url.scheme_str() == Some("https");
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = if https {
            let name = ServerName::try_from(host.to_owned()).map_err(|_| Error::ServerName {
                url: url.to_string(),
                host: host.to_owned(),
            })?;
            Some((Arc::new(tls_config(ca_file)?), name))
        } else {
            None
        };
        let scheme = if https { "https" } else { "http" };
        Ok(Upstream {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            dialer: Dialer::new(host.to_owned(), port, tls, connect_timeout),
            origin: format!("{scheme}://{authority}"),
            host: HeaderValue::from_str(authority.as_str()).map_err(|_| no_host())?,
            base_path: url.path().trim_end_matches('/').to_owned(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Idle connections to this backend on the calling thread (for tests).
    pub fn idle_connections(&self) -> usize {
        pool::idle_count(self.id)
    }

    /// Sends a request whose path below the route prefix is `below` (starting with `/` or
    /// empty) and whose raw query is `query`. A `GET` or `HEAD` without a body takes the
    /// lean exchange ([`raw`]); everything else hyper's client.
    pub async fn send(
        &self,
        method: Method,
        below: &str,
        query: Option<&str>,
        mut headers: HeaderMap,
        body: Body,
    ) -> Result<Response<Body>, Rejection> {
        let base = if self.base_path.is_empty() && below.is_empty() {
            "/"
        } else {
            self.base_path.as_str()
        };
        let (mark, query) = query.map_or(("", ""), |q| ("?", q));
        let target = [base, below, mark, query];
        headers.insert(http::header::HOST, self.host.clone());
        if (method == Method::GET || method == Method::HEAD)
            && body.is_end_stream()
            && !headers.contains_key(http::header::TRANSFER_ENCODING)
        {
            return self.send_lean(&method, &target, &headers).await;
        }
        let uri = Uri::try_from(target.concat()).map_err(|_| Rejection::BackendFailed)?;
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.version_mut() = Version::HTTP_11;
        *request.headers_mut() = headers;

        if let Some(mut sender) = pool::take(self.id) {
            match sender.try_send_request(request).await {
                Ok(response) => return Ok(self.answer(response, sender)),
                Err(mut error) => match error.take_message() {
                    // Never written: the idle connection had closed. Try a new one.
                    Some(unsent) => request = unsent,
                    None => return Err(self.failed(&error.into_error())),
                },
            }
        }
        let mut sender = self.connect().await?;
        match sender.try_send_request(request).await {
            Ok(response) => Ok(self.answer(response, sender)),
            Err(error) => Err(self.failed(error.error())),
        }
    }

    /// The lean exchange: on an idle connection, retried once on a new one when the idle
    /// one turns out closed before any answer byte (`GET` and `HEAD` are safe to repeat).
    async fn send_lean(
        &self,
        method: &Method,
        target: &[&str],
        headers: &HeaderMap,
    ) -> Result<Response<Body>, Rejection> {
        let mut head = Vec::with_capacity(512);
        raw::write_head(&mut head, method, target, headers);
        let failed = |error: raw::ExchangeError| {
            tracing::warn!(backend = %self.origin, %error, "backend request failed");
            Rejection::BackendFailed
        };
        if let Some(conn) = pool::take_raw(self.id) {
            match raw::exchange(conn, &head, method, self.id).await {
                Ok(response) => return Ok(response.map(BodyExt::boxed)),
                Err(raw::ExchangeError::Closed(_)) => {}
                Err(error) => return Err(failed(error)),
            }
        }
        let stream = self.dialer.dial().await.map_err(|error| {
            tracing::warn!(backend = %self.origin, %error, "backend unreachable");
            Rejection::BackendUnreachable
        })?;
        raw::exchange(raw::RawConn::new(stream), &head, method, self.id)
            .await
            .map(|response| response.map(BodyExt::boxed))
            .map_err(failed)
    }

    async fn connect(&self) -> Result<SendRequest<Body>, Rejection> {
        let stream = self.dialer.dial().await.map_err(|error| {
            tracing::warn!(backend = %self.origin, %error, "backend unreachable");
            Rejection::BackendUnreachable
        })?;
        let (sender, connection) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|error| {
                tracing::warn!(backend = %self.origin, %error, "backend handshake failed");
                Rejection::BackendUnreachable
            })?;
        let origin = self.origin.clone();
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(backend = %origin, %error, "backend connection ended");
            }
        });
        Ok(sender)
    }

    fn failed(&self, error: &hyper::Error) -> Rejection {
        tracing::warn!(backend = %self.origin, %error, "backend request failed");
        Rejection::BackendFailed
    }

    fn answer(&self, response: Response<Incoming>, sender: SendRequest<Body>) -> Response<Body> {
        let id = self.id;
        response.map(|incoming| {
            let mut body = GiveBack {
                incoming,
                sender: Some(sender),
                id,
            };
            body.at_end();
            body.boxed()
        })
    }
}

/// A response body that hands its connection back to the pool once read to the end.
struct GiveBack {
    incoming: Incoming,
    sender: Option<SendRequest<Body>>,
    id: usize,
}

impl GiveBack {
    fn at_end(&mut self) {
        if self.incoming.is_end_stream()
            && let Some(sender) = self.sender.take()
        {
            pool::give_back(self.id, sender);
        }
    }
}

impl http_body::Body for GiveBack {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let polled = Pin::new(&mut self.incoming).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(_))) => self.at_end(),
            Poll::Ready(None) => {
                if let Some(sender) = self.sender.take() {
                    pool::give_back(self.id, sender);
                }
            }
            Poll::Ready(Some(Err(_))) => self.sender = None,
            Poll::Pending => {}
        }
        polled.map(|frame| frame.map(|result| result.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

pub(crate) fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, Error> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A malformed system certificate is skipped, as every TLS client does.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        use rustls_pki_types::pem::PemObject;
        let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(path)
            .map_err(|e| Error::CaFile {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?
            .filter_map(Result::ok)
            .collect();
        if certs.is_empty() {
            return Err(Error::CaEmpty {
                path: path.to_path_buf(),
            });
        }
        for cert in certs {
            roots.add(cert)?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests;
