//! The mail channel: one plain-text message per notice to the token owner's address, through
//! `[notify.smtp]` with lettre (tokio, rustls with ring and the system roots).

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::Notice;
use crate::config::{SmtpConfig, SmtpTls};
use crate::names::Email;

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("notify.smtp.from {from:?} is not a valid mailbox")]
    From { from: String },
    #[error("TLS setup for SMTP host {host} failed: {source}")]
    Tls {
        host: String,
        #[source]
        source: lettre::transport::smtp::Error,
    },
}

/// Why one mail was not sent (logged; the notice is retried).
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the address {address} is not accepted by the mailer")]
    Address { address: String },
    #[error("cannot build the message: {0}")]
    Message(#[from] lettre::error::Error),
    #[error("SMTP delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// A configured mailer, ready to send.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for logs.
    server: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    pub fn new(config: &SmtpConfig) -> Result<Self, Error> {
        let from = config.from.parse().map_err(|_| Error::From {
            from: config.from.clone(),
        })?;
        let tls_error = |source| Error::Tls {
            host: config.host.clone(),
            source,
        };
        let tls = match config.tls {
            SmtpTls::StartTls => {
                Tls::Required(TlsParameters::new_rustls(config.host.clone()).map_err(tls_error)?)
            }
            SmtpTls::Tls => {
                Tls::Wrapper(TlsParameters::new_rustls(config.host.clone()).map_err(tls_error)?)
            }
            SmtpTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT));
        if let Some((user, password)) = &config.credentials {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
            server: format!("{}:{}", config.host, config.port),
        })
    }

    /// `host:port` of the SMTP server, for logs.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends one notice to `to`.
    pub async fn send(&self, notice: &Notice, to: &Email) -> Result<(), SendError> {
        let to: Mailbox = to.as_str().parse().map_err(|_| SendError::Address {
            address: to.to_string(),
        })?;
        let (subject, body) = text(notice);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        self.transport.send(message).await?;
        Ok(())
    }
}

/// The subject and body of a notice mail (the token's name, never its secret).
pub fn text(notice: &Notice) -> (String, String) {
    let when = crate::cli::expiry::format(notice.expires_at);
    let left = match notice.days_left {
        0 => "in less than a day".to_owned(),
        1 => "in 1 day".to_owned(),
        n => format!("in {n} days"),
    };
    let subject = format!("vcsgate: your token {} expires {left}", notice.token_name);
    let body = format!(
        "Hello {user},\n\n\
         the vcsgate access token \"{token}\" (id {id}) of {user} expires at {when} ({left}).\n\
         After that, clients using it are refused. Rotate it (vcsgate token rotate, or\n\
         POST /-/api/v1/tokens/{id}/rotate) or create a new one before then.\n",
        user = notice.user,
        token = notice.token_name,
        id = notice.token_id,
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::names::{TokenName, UserName};

    #[test]
    fn mail_names_the_token_and_the_days_left() {
        let mut notice = Notice {
            user: UserName::parse("alice").unwrap(),
            token_name: TokenName::parse("ci").unwrap(),
            token_id: 42,
            expires_at: 1_801_353_600,
            days_left: 6,
        };
        let (subject, body) = text(&notice);
        assert_eq!(subject, "vcsgate: your token ci expires in 6 days");
        assert!(body.contains("\"ci\" (id 42) of alice expires at 2027-01-31T00:00:00Z"));
        notice.days_left = 0;
        assert!(text(&notice).0.ends_with("in less than a day"));
    }
}
