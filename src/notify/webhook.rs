//! The webhook channel: `POST` of one JSON object per notice to `[notify] webhook_url`,
//! over the backend connection code (plain TCP or rustls with the system roots), signed with
//! HMAC-SHA256 in `X-Vcsgate-Signature: sha256=HEX` when a secret is configured.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use ring::hmac;
use rustls_pki_types::ServerName;

use super::Notice;
use crate::config::WebhookConfig;
use crate::proxy::upstream::stream::Dialer;
use crate::secret::Secret;

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Vcsgate-Signature";
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of a response body read (and thrown away).
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("TLS setup for the webhook failed: {0}")]
    Tls(#[from] crate::proxy::upstream::Error),
    #[error("webhook host {host:?} is not a valid TLS server name")]
    ServerName { host: String },
}

/// Why one delivery failed (logged; the notice is retried).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot connect: {0}")]
    Connect(#[from] crate::proxy::upstream::stream::DialError),
    #[error("HTTP exchange failed: {0}")]
    Http(#[from] hyper::Error),
    #[error("cannot build the request: {0}")]
    Request(#[from] http::Error),
    #[error("the webhook answered {status}")]
    Status { status: http::StatusCode },
}

/// A configured webhook, ready to send.
#[derive(Debug)]
pub struct Webhook {
    url: Secret,
    origin: String,
    secret: Option<Secret>,
    dialer: Dialer,
}

impl Webhook {
    pub fn new(config: &WebhookConfig) -> Result<Self, Error> {
        let tls = if config.tls {
            let client = crate::proxy::upstream::tls_config(None)?;
            let name =
                ServerName::try_from(config.host.clone()).map_err(|_| Error::ServerName {
                    host: config.host.clone(),
                })?;
            Some((Arc::new(client), name))
        } else {
            None
        };
        Ok(Webhook {
            url: config.url.clone(),
            origin: config.origin.clone(),
            secret: config.secret.clone(),
            dialer: Dialer::new(config.host.clone(), config.port, tls, CONNECT_TIMEOUT),
        })
    }

    /// `scheme://host:port` of the webhook, for logs (the path may be a capability).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Sends one notice; `Ok` once the webhook answered 2xx.
    pub async fn send(&self, notice: &Notice) -> Result<(), SendError> {
        let body = payload(notice);
        let uri: Uri = self
            .url
            .expose()
            .parse()
            .map_err(|e: http::uri::InvalidUri| SendError::Request(e.into()))?;
        let host = uri.authority().map(|a| a.as_str().to_owned());
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::HOST, host.unwrap_or_default())
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("vcsgate/", env!("CARGO_PKG_VERSION")),
            )
            .header(header::CONTENT_LENGTH, body.len());
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, sign(secret, &body));
        }
        let request = request.body(Full::new(Bytes::from(body)))?;
        let stream = self.dialer.dial().await?;
        let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        let response = sender.send_request(request).await;
        let outcome = match response {
            Ok(response) => {
                let status = response.status();
                // Read a bounded part of the answer so the exchange ends cleanly.
                let _ = http_body_util::Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
                    .collect()
                    .await;
                if status.is_success() {
                    Ok(())
                } else {
                    Err(SendError::Status { status })
                }
            }
            Err(error) => Err(SendError::Http(error)),
        };
        driver.abort();
        outcome
    }
}

/// The JSON body: `{"event":"token_expiring","user","token","token_id","expires_at",
/// "days_left"}` (the token's name, never its secret).
pub fn payload(notice: &Notice) -> Vec<u8> {
    let value = serde_json::json!({
        "event": "token_expiring",
        "user": notice.user.as_str(),
        "token": notice.token_name.as_str(),
        "token_id": notice.token_id.to_string(),
        "expires_at": crate::cli::expiry::format(notice.expires_at),
        "days_left": notice.days_left,
    });
    serde_json::to_vec(&value).unwrap_or_default()
}

/// `sha256=HEX`: the HMAC-SHA256 of `body` keyed with `secret`.
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    let tag = hmac::sign(&key, body);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::names::{TokenName, UserName};

    #[test]
    fn signature_is_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        let secret = Secret::new("Jefe");
        assert_eq!(
            sign(&secret, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn payload_names_the_token_never_its_secret() {
        let notice = Notice {
            user: UserName::parse("alice").unwrap(),
            token_name: TokenName::parse("ci").unwrap(),
            token_id: 42,
            expires_at: 1_801_353_600,
            days_left: 6,
        };
        let value: serde_json::Value = serde_json::from_slice(&payload(&notice)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "event": "token_expiring",
                "user": "alice",
                "token": "ci",
                "token_id": "42",
                "expires_at": "2027-01-31T00:00:00Z",
                "days_left": 6,
            })
        );
    }
}
