//! The body type every part of the proxy passes around: a boxed stream of byte chunks.

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;

/// Errors carried inside a body stream.
pub type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A streaming body (request or response).
pub type Body = BoxBody<Bytes, BodyError>;

/// A body holding `bytes` (short messages).
pub fn full(bytes: impl Into<Bytes>) -> Body {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// An empty body.
pub fn empty() -> Body {
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed()
}

/// A body that first yields an already read prefix, then the rest of `inner`. Used when a
/// verdict needed the first bytes: the backend receives exactly the bytes classified,
/// followed by the remainder.
pub struct Prefixed<B> {
    prefix: Option<Bytes>,
    prefix_len: u64,
    inner: B,
}

impl<B> Prefixed<B> {
    pub fn new(prefix: Bytes, inner: B) -> Self {
        let prefix_len = prefix.len() as u64;
        Prefixed {
            prefix: (!prefix.is_empty()).then_some(prefix),
            prefix_len,
            inner,
        }
    }
}

impl<B> http_body::Body for Prefixed<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Some(prefix) = self.prefix.take() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(prefix))));
        }
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let inner = self.inner.size_hint();
        let pending = if self.prefix.is_some() {
            self.prefix_len
        } else {
            0
        };
        let mut hint = http_body::SizeHint::new();
        hint.set_lower(inner.lower().saturating_add(pending));
        if let Some(upper) = inner.upper() {
            hint.set_upper(upper.saturating_add(pending));
        }
        hint
    }
}

/// Watches a body as it is sent: sees each data chunk and, exactly once, how it ended.
pub trait Observer: Send + Sync + 'static {
    fn data(&mut self, _len: usize) {}
    /// The body ended (`complete`), failed, or was dropped before its end.
    fn finish(&mut self, complete: bool);
}

/// A body that reports to an [`Observer`] while passing frames through unchanged.
pub struct Observed<B, O: Observer> {
    inner: B,
    observer: Option<O>,
}

impl<B: http_body::Body, O: Observer> Observed<B, O> {
    pub fn new(inner: B, observer: O) -> Self {
        let mut observed = Observed {
            inner,
            observer: Some(observer),
        };
        if observed.inner.is_end_stream() {
            observed.finish(true);
        }
        observed
    }

    fn finish(&mut self, complete: bool) {
        if let Some(mut observer) = self.observer.take() {
            observer.finish(complete);
        }
    }
}

impl<B, O> http_body::Body for Observed<B, O>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    O: Observer + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            std::task::Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(observer)) = (frame.data_ref(), self.observer.as_mut()) {
                    observer.data(data.len());
                }
                if self.inner.is_end_stream() {
                    self.finish(true);
                }
            }
            std::task::Poll::Ready(None) => self.finish(true),
            std::task::Poll::Ready(Some(Err(_))) => self.finish(false),
            std::task::Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl<B, O: Observer> Drop for Observed<B, O> {
    fn drop(&mut self) {
        if let Some(mut observer) = self.observer.take() {
            observer.finish(false);
        }
    }
}
