//! The built-in Git backend: `git http-backend` run as a CGI process per request, streaming
//! the request body into its stdin and its stdout back as the response.
//!
//! - `env`: the child's environment, built from nothing (what git may read, and why);
//! - `head`: the pure parser of the CGI response head (`Status:` and headers);
//! - `process`: the tasks feeding stdin, draining stderr and reaping or killing the child;
//! - `output`: the response body over the child's stdout.
//!
//! Lifetime of one call: spawn (`kill_on_drop`) → start the stdin pump and the stderr drain →
//! read stdout until the head is complete (bounded; a child that ends first is an error, which
//! the proxy turns into 502) → hand the child to the reaper and return the response, whose body
//! streams the rest of stdout. Dropping the call or the response body kills the child.

mod env;
mod head;
pub mod hooks;
mod output;
mod process;
pub mod repository;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};

use bytes::{Bytes, BytesMut};
use http_body::Body as _;
use tokio::io::AsyncReadExt;
use tokio::process::{ChildStdout, Command};
use tokio::sync::oneshot;

pub use head::{HeadError, MAX_HEAD_BYTES};

use crate::proxy::body::Body;
use crate::refs::RewindCheck;
use crate::vocabulary::Access;

/// A directory of bare repositories served by `git http-backend`.
#[derive(Debug, Clone)]
pub struct GitCgi {
    /// The `git` binary (`"git"` finds it on `PATH`).
    pub git: PathBuf,
    /// `GIT_PROJECT_ROOT`: the directory holding the repositories.
    pub project_root: PathBuf,
    /// The hooks directory refusing rewinds of protected refs ([`hooks`]), created when a
    /// push first needs it.
    pub hooks: std::sync::Arc<std::sync::OnceLock<hooks::HooksDir>>,
    /// Git LFS on this route (`None`: off).
    pub lfs: Option<crate::config::LfsSettings>,
}

/// One request as the built-in backend needs it. The proxy has already classified and
/// authorized it, and cleaned its headers.
#[derive(Debug)]
pub struct CgiRequest<'a> {
    pub method: &'a http::Method,
    /// The raw path below the route prefix, e.g. `/team/app.git/info/refs`.
    pub path_info: &'a str,
    /// The raw query, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a http::HeaderMap,
    pub remote_addr: SocketAddr,
    /// The vcsgate user; passed as `REMOTE_USER` for writes only.
    pub remote_user: Option<&'a str>,
    /// The verdict: a read runs with receive-pack forced off, a write with it on.
    pub access: Access,
    /// Protected refs this push may not rewind (checked in a pre-receive hook).
    pub no_rewind: &'a [RewindCheck],
}

/// Why the built-in backend produced no response (the proxy answers 502).
#[derive(Debug, thiserror::Error)]
pub enum CgiError {
    #[error("cannot start {program:?} http-backend: {source}")]
    Spawn {
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the child process has no {pipe} pipe")]
    MissingPipe { pipe: &'static str },
    #[error("path below the route is not a plain path: {path_info:?}")]
    UnsafePathInfo { path_info: String },
    #[error("both {stem:?} and {stem:?}.git are repositories; serve one of them")]
    AmbiguousRepository { stem: PathBuf },
    #[error("reading the CGI head from git http-backend: {source}")]
    ReadHead {
        #[source]
        source: std::io::Error,
    },
    #[error("git http-backend sent a malformed CGI head: {0}")]
    Head(#[from] HeadError),
    #[error("cannot install the pre-receive hook for protected refs: {source}")]
    Hooks {
        #[source]
        source: std::io::Error,
    },
    #[error("git http-backend ended ({status:?}) before completing its CGI head")]
    NoHead { status: Option<ExitStatus> },
}

impl GitCgi {
    pub fn new(git: PathBuf, project_root: PathBuf) -> Self {
        GitCgi {
            git,
            project_root,
            hooks: Default::default(),
            lfs: None,
        }
    }

    /// The hooks directory, installed on first use.
    fn hooks_dir(&self) -> Result<&Path, CgiError> {
        if let Some(dir) = self.hooks.get() {
            return Ok(dir.path());
        }
        let dir =
            hooks::install(&std::env::temp_dir()).map_err(|source| CgiError::Hooks { source })?;
        // Another request may have installed one meanwhile: use whichever won (the other
        // is removed when dropped).
        Ok(self.hooks.get_or_init(|| dir).path())
    }

    /// Runs `git http-backend` for `req`, streaming `body` to it. Returns once the child has
    /// sent its head; the response body then streams the child's stdout.
    pub async fn call(
        &self,
        req: CgiRequest<'_>,
        body: Body,
    ) -> Result<http::Response<Body>, CgiError> {
        let content_length = body.size_hint().exact();
        let path = std::env::var_os("PATH").unwrap_or_else(|| OsString::from(env::DEFAULT_PATH));
        let decoded = env::decode_path_info(req.path_info)?;
        let path_info = match repository::resolve(&self.project_root, &decoded)? {
            repository::Resolved::Found(path_info) => path_info,
            repository::Resolved::Missing => return Ok(not_found()),
        };
        let mut vars = env::build(&self.project_root, &req, path_info, content_length, &path);
        if !req.no_rewind.is_empty() {
            env::guard_rewinds(&mut vars, self.hooks_dir()?, req.no_rewind);
        }
        let mut child = Command::new(&self.git)
            .arg("http-backend")
            .env_clear()
            .envs(vars)
            .current_dir(&self.project_root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| CgiError::Spawn {
                program: self.git.clone(),
                source,
            })?;
        let label = format!("{} {}", req.method, req.path_info);
        let stdin = child
            .stdin
            .take()
            .ok_or(CgiError::MissingPipe { pipe: "stdin" })?;
        let stdout = child
            .stdout
            .take()
            .ok_or(CgiError::MissingPipe { pipe: "stdout" })?;
        let stderr = child
            .stderr
            .take()
            .ok_or(CgiError::MissingPipe { pipe: "stderr" })?;
        process::drain_stderr(stderr, label.clone());
        let pump = process::pump_body(body, stdin, label.clone());
        let Some((head, leftover, stdout)) = read_head(stdout).await? else {
            // Stop the pump first, so a child waiting for the rest of stdin sees its end.
            drop(pump);
            let status = child.wait().await.ok();
            return Err(CgiError::NoHead { status });
        };
        let (finished, finished_rx) = oneshot::channel();
        process::reap(child, pump, finished_rx, label);
        let body = output::body(leftover, stdout, finished);
        let mut response = http::Response::new(body);
        *response.status_mut() = head.status;
        *response.headers_mut() = head.headers;
        Ok(response)
    }
}

/// The answer when no repository has the requested name (git http-backend's own answer is a
/// bare 404 too).
fn not_found() -> http::Response<Body> {
    let mut response = http::Response::new(crate::proxy::body::full("repository not found\n"));
    *response.status_mut() = http::StatusCode::NOT_FOUND;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Reads stdout until the CGI head is complete. Returns the head, the body bytes read past
/// it, and stdout for the rest; `None` if stdout ended first.
async fn read_head(
    mut stdout: ChildStdout,
) -> Result<Option<(head::CgiHead, Bytes, ChildStdout)>, CgiError> {
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        if let head::Parsed::Complete { head, consumed } = head::parse(&buf)? {
            let leftover = buf.split_off(consumed).freeze();
            return Ok(Some((head, leftover, stdout)));
        }
        buf.reserve(4096);
        let read = stdout
            .read_buf(&mut buf)
            .await
            .map_err(|source| CgiError::ReadHead { source })?;
        if read == 0 {
            return Ok(None);
        }
    }
}
