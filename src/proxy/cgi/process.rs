//! The tasks around one `git http-backend` child: feeding it the request body, draining its
//! stderr into the log, and reaping it (or killing it when the client went away).
//!
//! Memory stays bounded by design: the request body moves one frame at a time into the pipe
//! (the write waits while the pipe is full), stderr keeps at most `STDERR_KEEP_BYTES`, and the
//! response body (see `output`) reads stdout in fixed-size chunks only as the client takes them.

use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStderr, ChildStdin};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::proxy::body::Body;

/// How much of the child's stderr is kept for the log; the rest is read and counted.
pub const STDERR_KEEP_BYTES: usize = 8 * 1024;

/// Stops a task when dropped.
pub struct AbortOnDrop(AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Streams `body` into the child's stdin, then closes it (the child sees the end of the body).
/// A failing body or a child that stops reading ends the task; so does dropping the handle.
pub fn pump_body(mut body: Body, mut stdin: ChildStdin, label: String) -> AbortOnDrop {
    let task = tokio::spawn(async move {
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(frame) => {
                    let Ok(data) = frame.into_data() else {
                        continue; // trailers mean nothing to CGI
                    };
                    if let Err(error) = stdin.write_all(&data).await {
                        tracing::debug!(path_info = %label, %error, "git http-backend stopped reading the request body");
                        return;
                    }
                }
                Err(error) => {
                    tracing::info!(path_info = %label, %error, "request body failed; closing git http-backend's stdin");
                    return;
                }
            }
        }
    });
    AbortOnDrop(task.abort_handle())
}

/// Reads the child's stderr to the end and logs it at warn (bounded). It never reaches clients.
pub fn drain_stderr(mut stderr: ChildStderr, label: String) {
    tokio::spawn(async move {
        let mut kept = Vec::new();
        let mut total = 0usize;
        let mut chunk = [0u8; 4096];
        loop {
            match stderr.read(&mut chunk).await {
                Ok(0) => break,
                Ok(n) => {
                    total += n;
                    let room = STDERR_KEEP_BYTES.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..n.min(room)]);
                }
                Err(error) => {
                    tracing::debug!(path_info = %label, %error, "reading git http-backend's stderr");
                    break;
                }
            }
        }
        if total > 0 {
            let text = String::from_utf8_lossy(&kept);
            tracing::warn!(
                path_info = %label,
                bytes = total,
                stderr = %text.trim_end(),
                "git http-backend wrote to stderr"
            );
        }
    });
}

/// Owns the child once its head is read. `finished` fires when the response body reached the
/// end of stdout (the child is exiting: wait for it); if it is dropped unfired, the response
/// was dropped early (the client went away) and the child is killed. When the child is gone,
/// the stdin pump is stopped.
pub fn reap(mut child: Child, pump: AbortOnDrop, finished: oneshot::Receiver<()>, label: String) {
    tokio::spawn(async move {
        let _pump = pump;
        let status = tokio::select! {
            status = child.wait() => status,
            delivered = finished => {
                if delivered.is_err() {
                    tracing::debug!(path_info = %label, "response dropped before its end; killing git http-backend");
                    if let Err(error) = child.kill().await {
                        tracing::warn!(path_info = %label, %error, "killing git http-backend");
                    }
                    return;
                }
                child.wait().await
            }
        };
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => {
                tracing::warn!(path_info = %label, %status, "git http-backend exited unsuccessfully after its head");
            }
            Err(error) => {
                tracing::warn!(path_info = %label, %error, "waiting for git http-backend")
            }
        }
    });
}
