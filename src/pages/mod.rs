//! The token pages under `/-/` (API.md "Pages"): server-rendered HTML that works without
//! JavaScript, calling the same `manage` rules as the CLI and the API. Sign-in by one-time
//! link, pasted `api` token or trusted SSO header; sessions and CSRF tokens stored as the
//! store keeps them (session ids hashed). [`handle`] runs on the control runtime with a
//! request the worker has already read (`proxy::reserved`).

pub mod form;
mod render;
mod routes;

use http::{Method, StatusCode};

use crate::canon::Query;
use crate::manage::{self, TokenPolicy};
use crate::names::UserName;
use crate::secret::Secret;
use crate::store::{Store, TokenInfo};

pub use form::Form;
pub use routes::handle;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_link_secrets_never_reach_a_log() {
        assert_eq!(loggable_path("/-/sign-in/abcDEF123"), "/-/sign-in/…");
        assert_eq!(loggable_path("/-/sign-in"), "/-/sign-in");
        assert_eq!(loggable_path("/-/sign-in/"), "/-/sign-in/");
        assert_eq!(loggable_path("/git/team/app.git"), "/git/team/app.git");
    }
}

/// The session cookie (HttpOnly, SameSite=Strict, Path=/-/, Secure over TLS).
pub const SESSION_COOKIE: &str = "vcsgate_session";
/// The double-submit cookie of the sign-in forms (no session yet to hold their CSRF token).
pub const SIGN_IN_COOKIE: &str = "vcsgate_csrf";
/// A session idle this long is over.
pub const IDLE_SECS: i64 = 8 * 3600;

/// What every page needs from the server.
#[derive(Debug, Clone)]
pub struct Context {
    pub store: std::sync::Arc<dyn Store>,
    pub policy: TokenPolicy,
    pub now: i64,
}

/// A page request as the worker read it.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    /// Path segments below `/-`.
    pub path: Vec<String>,
    pub query: Query,
    /// The form of a POST (empty for GET).
    pub form: Form,
    /// The session cookie's value.
    pub session: Option<Secret>,
    /// The sign-in forms' double-submit cookie.
    pub sign_in_csrf: Option<String>,
    /// The client address (as the throttle sees it).
    pub client: String,
    /// Whether the client reached us over TLS (cookies get `Secure`).
    pub secure: bool,
    /// The user a trusted SSO proxy in front vouches for.
    pub header_user: Option<UserName>,
    /// For `POST /-/sign-in`: the pasted token, authenticated by the gate, or why not.
    pub pasted_token: Option<Result<TokenInfo, String>>,
}

/// What a page answers.
#[derive(Debug)]
pub enum Content {
    Html(String),
    /// 303 See Other to this path.
    Redirect(String),
    /// A static file: its content type and bytes.
    Asset(&'static str, &'static str),
}

/// A page's answer: status, content, cookies to set, and what the worker must do after.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub content: Content,
    pub cookies: Vec<String>,
    /// A sign-in failed: charged to the client like a failed token.
    pub failed_sign_in: bool,
    /// The user whose tokens or standing changed (the server forgets what it remembers).
    pub changed: Option<UserName>,
}

impl Page {
    fn html(status: StatusCode, html: String) -> Page {
        Page {
            status,
            content: Content::Html(html),
            cookies: Vec::new(),
            failed_sign_in: false,
            changed: None,
        }
    }

    fn redirect(to: &str) -> Page {
        Page {
            status: StatusCode::SEE_OTHER,
            content: Content::Redirect(to.to_owned()),
            cookies: Vec::new(),
            failed_sign_in: false,
            changed: None,
        }
    }

    fn with_cookie(mut self, cookie: String) -> Page {
        self.cookies.push(cookie);
        self
    }

    fn changing(mut self, user: UserName) -> Page {
        self.changed = Some(user);
        self
    }
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/-/, Secure over TLS; `None` value:
/// delete it.
pub fn cookie(name: &str, value: Option<&str>, secure: bool) -> String {
    let mut text = format!(
        "{name}={}; Path=/-/; HttpOnly; SameSite=Strict",
        value.unwrap_or("")
    );
    if value.is_none() {
        text.push_str("; Max-Age=0");
    }
    if secure {
        text.push_str("; Secure");
    }
    text
}

/// The headers every page carries: no inline script, no framing, no referrer, no caching.
pub const SECURITY_HEADERS: [(&str, &str); 5] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
];

/// A request path as logs may show it: a sign-in link's secret is cut off
/// (`/-/sign-in/…`).
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix(manage::sessions::LINK_PATH) {
        Some(rest) if !rest.is_empty() => {
            std::borrow::Cow::Owned(format!("{}…", manage::sessions::LINK_PATH))
        }
        _ => std::borrow::Cow::Borrowed(path),
    }
}

/// The static files the pages use.
pub fn asset(name: &str) -> Option<(&'static str, &'static str)> {
    match name {
        "app.css" => Some((
            "text/css; charset=utf-8",
            include_str!("../../assets/app.css"),
        )),
        "app.js" => Some((
            "text/javascript; charset=utf-8",
            include_str!("../../assets/app.js"),
        )),
        _ => None,
    }
}
