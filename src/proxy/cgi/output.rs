//! The response body: whatever `git http-backend` wrote after its head, then the rest of its
//! stdout, read in fixed-size chunks as the client takes them. The reaper is told when
//! stdout has ended; a body dropped early tells it nothing, and the child is killed.

use bytes::Bytes;
use futures_util::TryStreamExt;
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use tokio::process::ChildStdout;
use tokio::sync::oneshot;
use tokio_util::io::ReaderStream;

use crate::proxy::body::{Body, BodyError, Observed, Observer, Prefixed};

/// Size of one read from the child's stdout (and so the most one frame holds).
pub const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Fires at the complete end of stdout; an unfinished body drops the sender unfired.
struct TellReaper(Option<oneshot::Sender<()>>);

impl Observer for TellReaper {
    fn finish(&mut self, complete: bool) {
        if let Some(finished) = self.0.take().filter(|_| complete) {
            // The reaper may already be gone (the child exited first): nothing to tell.
            let _ = finished.send(());
        }
    }
}

/// The response body over `leftover` and the rest of `stdout`.
pub fn body(leftover: Bytes, stdout: ChildStdout, finished: oneshot::Sender<()>) -> Body {
    let chunks = ReaderStream::with_capacity(stdout, READ_CHUNK_BYTES)
        .map_ok(Frame::data)
        .map_err(|error| -> BodyError { Box::new(error) });
    let stream = Prefixed::new(leftover, StreamBody::new(chunks));
    Observed::new(stream, TellReaper(Some(finished))).boxed()
}
