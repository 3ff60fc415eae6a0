//! The response body: whatever `git http-backend` wrote after its head, then the rest of its
//! stdout, read in fixed-size chunks as the client takes them.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use http_body::Frame;
use tokio::process::ChildStdout;
use tokio::sync::oneshot;
use tokio_util::io::ReaderStream;

use crate::proxy::body::BodyError;

/// Size of one read from the child's stdout (and so the most one frame holds).
pub const READ_CHUNK_BYTES: usize = 64 * 1024;

pub struct CgiBody {
    leftover: Option<Bytes>,
    stdout: ReaderStream<ChildStdout>,
    /// Fired at the end of stdout; dropped unfired when the body is dropped early.
    finished: Option<oneshot::Sender<()>>,
}

impl CgiBody {
    pub fn new(leftover: Bytes, stdout: ChildStdout, finished: oneshot::Sender<()>) -> Self {
        CgiBody {
            leftover: (!leftover.is_empty()).then_some(leftover),
            stdout: ReaderStream::with_capacity(stdout, READ_CHUNK_BYTES),
            finished: Some(finished),
        }
    }
}

impl http_body::Body for CgiBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        if let Some(bytes) = self.leftover.take() {
            return Poll::Ready(Some(Ok(Frame::data(bytes))));
        }
        match ready!(Pin::new(&mut self.stdout).poll_next(cx)) {
            Some(Ok(bytes)) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
            Some(Err(error)) => Poll::Ready(Some(Err(Box::new(error)))),
            None => {
                if let Some(finished) = self.finished.take() {
                    // The reaper may already be gone (the child exited first): nothing to tell.
                    let _ = finished.send(());
                }
                Poll::Ready(None)
            }
        }
    }
}
