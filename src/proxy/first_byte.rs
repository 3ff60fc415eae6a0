//! The first-byte timeout: how long the backend may take to start its answer, counted only
//! from the moment the request body has been sent completely (receive-pack and svn MERGE
//! answer after the whole push and its hooks, so time spent uploading never counts).

use std::future::Future;
use std::time::Duration;

use http_body::Body as _;
use http_body_util::BodyExt;
use tokio::sync::oneshot;

use super::body::{Body, Observed, Observer};

/// Resolves once the watched body has ended (or was dropped unfinished); at once for a
/// body that was empty from the start.
pub struct BodySent(Option<oneshot::Receiver<()>>);

impl BodySent {
    async fn wait(self) {
        // An error means the body was dropped before its end: nothing more will be sent.
        if let Some(receiver) = self.0 {
            let _ = receiver.await;
        }
    }
}

/// Wraps `body` so that [`BodySent`] resolves when it has been sent completely.
pub fn watch(body: Body) -> (Body, BodySent) {
    if body.is_end_stream() {
        return (body, BodySent(None));
    }
    let (tx, rx) = oneshot::channel();
    let watched = Observed::new(body, SignalOnFinish(Some(tx)));
    (watched.boxed(), BodySent(Some(rx)))
}

/// Runs `answer` (the backend call up to its response head); fails with `None` when the
/// backend has not answered `timeout` after the request body was sent.
pub async fn within<T>(
    answer: impl Future<Output = T>,
    sent: BodySent,
    timeout: Duration,
) -> Option<T> {
    let deadline = async {
        sent.wait().await;
        tokio::time::sleep(timeout).await;
    };
    tokio::select! {
        out = answer => Some(out),
        () = deadline => None,
    }
}

struct SignalOnFinish(Option<oneshot::Sender<()>>);

impl Observer for SignalOnFinish {
    fn finish(&mut self, _complete: bool) {
        if let Some(done) = self.0.take() {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body::Frame;

    use super::*;
    use crate::proxy::body;
    use crate::proxy::body::BodyError;

    // Paused time: the runtime's clock jumps to the next timer whenever every task waits, so
    // the order of events is fixed, however loaded the machine is.
    #[tokio::test(start_paused = true)]
    async fn timer_starts_only_after_the_body_is_sent() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, BodyError>>(1);
        let stream = tokio_stream_body(rx);
        let (watched, sent) = watch(stream);
        let slow_upload = async move {
            let mut watched = watched;
            tokio::time::sleep(Duration::from_millis(150)).await;
            let _ = tx.send(Ok(Frame::data(Bytes::from_static(b"x")))).await;
            drop(tx);
            while watched.frame().await.is_some() {}
            tokio::time::sleep(Duration::from_millis(20)).await;
            "answer"
        };
        // The upload takes longer than the timeout, but the answer follows quickly after it.
        let out = within(slow_upload, sent, Duration::from_millis(100)).await;
        assert_eq!(out, Some("answer"));

        let (_, sent) = watch(body::empty());
        let never = std::future::pending::<()>();
        assert_eq!(within(never, sent, Duration::from_millis(30)).await, None);
    }

    fn tokio_stream_body(rx: tokio::sync::mpsc::Receiver<Result<Frame<Bytes>, BodyError>>) -> Body {
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        http_body_util::StreamBody::new(stream).boxed()
    }
}
