//! Forwarding to `http://` and `https://` backends over pooled connections. Bodies stream
//! both ways; `https://` backends are verified against the system roots (plus an optional
//! CA file) with SNI.

use std::time::Duration;

use http::uri::{PathAndQuery, Uri};
use http::{HeaderMap, Method, Request, Response, Version};
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::body::Body;
use super::rejection::Rejection;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read CA file {path}: {source}")]
    CaFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("CA file {path} holds no usable certificate")]
    CaEmpty { path: std::path::PathBuf },
    #[error("TLS setup failed: {0}")]
    Tls(#[from] rustls::Error),
}

/// One backend base URL and its connection pool.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: Client<HttpsConnector<HttpConnector>, Body>,
    /// `scheme://authority`
    origin: String,
    /// The base path without trailing `/` (`""` for the root).
    base_path: String,
}

impl Upstream {
    pub fn new(
        url: &Uri,
        ca_file: Option<&std::path::Path>,
        connect_timeout: Duration,
    ) -> Result<Self, Error> {
        let tls = tls_config(ca_file)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        let scheme = url.scheme_str().unwrap_or("http");
        let authority = url.authority().map(|a| a.as_str()).unwrap_or_default();
        Ok(Upstream {
            client,
            origin: format!("{scheme}://{authority}"),
            base_path: url.path().trim_end_matches('/').to_owned(),
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// Sends a request whose path below the route prefix is `below` (starting with `/` or
    /// empty) and whose raw query is `query`.
    pub async fn send(
        &self,
        method: Method,
        below: &str,
        query: Option<&str>,
        headers: HeaderMap,
        body: Body,
    ) -> Result<Response<Body>, Rejection> {
        let mut target = format!("{}{}{}", self.origin, self.base_path, below);
        if self.base_path.is_empty() && below.is_empty() {
            target.push('/');
        }
        if let Some(q) = query {
            target.push('?');
            target.push_str(q);
        }
        let uri: Uri = target.parse().map_err(|_| Rejection::BackendFailed)?;
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.version_mut() = Version::HTTP_11;
        *request.headers_mut() = headers;
        let response = self.client.request(request).await.map_err(|error| {
            if error.is_connect() {
                tracing::warn!(backend = %self.origin, %error, "backend unreachable");
                Rejection::BackendUnreachable
            } else {
                tracing::warn!(backend = %self.origin, %error, "backend request failed");
                Rejection::BackendFailed
            }
        })?;
        Ok(response.map(|b| b.map_err(Into::into).boxed()))
    }

    /// The path-and-query form, for logs.
    pub fn describe(&self) -> String {
        let base = PathAndQuery::try_from(self.base_path.as_str())
            .map(|p| p.to_string())
            .unwrap_or_default();
        format!("{}{}", self.origin, base)
    }
}

fn tls_config(ca_file: Option<&std::path::Path>) -> Result<rustls::ClientConfig, Error> {
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
                source: std::io::Error::other(e.to_string()),
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
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
