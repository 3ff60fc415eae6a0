//! Settling a body-dependent verdict (R7): after authentication, read a bounded prefix of
//! the body, let the classifier's pure rule decide, and hand back a body that replays
//! exactly those bytes followed by the rest.
//!
//! The bound is `[limits] body_prefix_bytes`, the only one: a rule that needs more is
//! refused before anything more is read, and the prefix never grows past it — a frame that
//! crosses it is split, its remainder replayed after the prefix without being fed.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use super::body::{Body, Prefixed};
use super::rejection::Rejection;
use crate::classify::{Classified, Progress, Refusal, Verdict};

/// Turns a classification into a final verdict, reading body bytes only if needed.
pub async fn settle(
    classified: Classified,
    body: Body,
    limit: usize,
) -> Result<(Verdict, Body), Rejection> {
    let (repo, mut rule) = match classified {
        Classified::Final(verdict) => return Ok((verdict, body)),
        Classified::NeedsBody { repo, rule } => (repo, rule),
    };
    let decide = |prefix: &[u8], eof: bool| match rule.feed(prefix, eof)? {
        Progress::Complete(operation) => Ok(Step::Done(operation)),
        Progress::NeedMore { total } => Ok(Step::NeedMore(total)),
    };
    let (operation, body) = read_prefix(body, limit, decide).await?;
    Ok((Verdict::new(repo, operation), body))
}

/// What a pure body rule says about the prefix read so far.
pub enum Step<T> {
    Done(T),
    /// Nothing can be decided before the prefix holds this many bytes.
    NeedMore(usize),
}

/// Reads a bounded prefix of `body` until `decide` (offered the whole prefix so far, and
/// whether the body ended) is done; returns its answer and a body replaying exactly the
/// bytes read followed by the rest. A need beyond `limit` is refused before reading it.
pub async fn read_prefix<T>(
    mut body: Body,
    limit: usize,
    mut decide: impl FnMut(&[u8], bool) -> Result<Step<T>, Rejection>,
) -> Result<(T, Body), Rejection> {
    let mut prefix = BytesMut::new();
    // Bytes of the last frame beyond the cap: replayed, never fed.
    let mut beyond = Bytes::new();
    let mut eof = false;
    loop {
        let needed = match decide(&prefix, eof)? {
            Step::Done(answer) => {
                return Ok((answer, replay(prefix.freeze(), beyond, body, eof)));
            }
            Step::NeedMore(_) if eof => {
                return Err(Rejection::Classify(Refusal::BadBody {
                    reason: "body ended before it could be classified",
                }));
            }
            Step::NeedMore(total) => total,
        };
        if needed > limit {
            return Err(Rejection::BodyTooLarge { limit });
        }
        // Nothing can be decided before `needed` bytes: read up to there first.
        while prefix.len() < needed && !eof {
            match body.frame().await {
                None => eof = true,
                Some(Err(_)) => return Err(Rejection::BodyRead),
                Some(Ok(frame)) => {
                    // Trailers before a verdict: nothing real sends them here; dropped.
                    if let Ok(mut data) = frame.into_data() {
                        let room = limit.saturating_sub(prefix.len());
                        if data.len() > room {
                            beyond = data.split_off(room);
                        }
                        prefix.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// The body the backend receives: the prefix, the rest of the frame that crossed the cap,
/// then whatever the client still sends.
fn replay(prefix: Bytes, beyond: Bytes, rest: Body, eof: bool) -> Body {
    if eof {
        return super::body::full(prefix);
    }
    if beyond.is_empty() {
        return Prefixed::new(prefix, rest).boxed();
    }
    Prefixed::new(prefix, Prefixed::new(beyond, rest)).boxed()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use std::collections::VecDeque;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use http_body::Frame;

    use super::*;
    use crate::classify::hg::HgRoute;
    use crate::classify::svn::SvnRoute;
    use crate::classify::test_rows::Parts;
    use crate::classify::{Operation, hg, svn};
    use crate::config::SvnLayout;

    /// A request body arriving in exactly these frames.
    struct Frames(VecDeque<Bytes>);

    impl http_body::Body for Frames {
        type Data = Bytes;
        type Error = super::super::body::BodyError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(self.0.pop_front().map(|data| Ok(Frame::data(data))))
        }
    }

    fn frames(bytes: &[u8], sizes: &[usize]) -> Body {
        let mut rest = bytes;
        let mut out = VecDeque::new();
        for size in sizes {
            let (frame, after) = rest.split_at(*size);
            out.push_back(Bytes::copy_from_slice(frame));
            rest = after;
        }
        if !rest.is_empty() {
            out.push_back(Bytes::copy_from_slice(rest));
        }
        Frames(out).boxed()
    }

    /// An hg batch POST whose first `args.len()` body bytes are `args`.
    fn hg_batch(args: &str) -> Classified {
        let length = args.len().to_string();
        let parts = Parts::new(
            "POST",
            "team/app",
            vec![("cmd".to_owned(), "batch".to_owned())],
            &[("x-hgargs-post", &length)],
        );
        hg::classify(&parts.request(), &HgRoute { repo_depth: None }).unwrap()
    }

    fn svn_merge() -> Classified {
        let parts = Parts::new("MERGE", "repo", Vec::new(), &[]);
        let route = SvnRoute {
            prefix: vec!["svn".to_owned()],
            layout: SvnLayout::ParentPath,
        };
        svn::classify(&parts.request(), &route).unwrap()
    }

    /// `cmds=heads+%3Bheads+…`: a read batch of `n` commands.
    fn batch_args(n: usize) -> String {
        format!("cmds={}", vec!["heads+"; n].join("%3B"))
    }

    async fn replayed(body: Body) -> Vec<u8> {
        body.collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn frames_straddling_the_cap_are_replayed_in_order() {
        let args = batch_args(20);
        let cap = args.len();
        let mut body = args.clone().into_bytes();
        body.extend_from_slice(b"-the bundle that follows the arguments-");
        for sizes in [
            &[][..],
            &[1],
            &[cap - 1, 2],
            &[cap - 10, 20, 3],
            &[cap],
            &[cap + 1],
        ] {
            let (verdict, rest) = settle(hg_batch(&args), frames(&body, sizes), cap)
                .await
                .unwrap();
            assert_eq!(
                verdict.operation,
                Operation::Hg(hg::HgOp::Batch(crate::vocabulary::Access::Read))
            );
            assert_eq!(replayed(rest).await, body, "frames {sizes:?}");
        }
    }

    /// A decision that needs more bytes than the cap is refused, even when one frame brings
    /// them all at once.
    #[tokio::test]
    async fn a_rule_needing_more_than_the_cap_is_refused() {
        let args = batch_args(20);
        let cap = args.len() - 1;
        for sizes in [&[][..], &[cap - 1, 2], &[cap + 1]] {
            let refused = settle(hg_batch(&args), frames(args.as_bytes(), sizes), cap).await;
            assert!(
                matches!(refused, Err(Rejection::BodyTooLarge { limit }) if limit == cap),
                "frames {sizes:?}: {refused:?}"
            );
        }
    }

    /// A MERGE source href that ends beyond the cap is not read.
    #[tokio::test]
    async fn a_merge_href_beyond_the_cap_is_refused() {
        let body = "<D:merge xmlns:D=\"DAV:\"><D:source><D:href>/svn/repo/!svn/txn/0-1\
                    </D:href></D:source></D:merge>";
        let cap = body.find("</D:source>").unwrap();
        let whole = settle(svn_merge(), frames(body.as_bytes(), &[]), cap + 11).await;
        assert!(whole.is_ok(), "{whole:?}");
        for sizes in [&[][..], &[cap - 3, 5]] {
            let refused = settle(svn_merge(), frames(body.as_bytes(), sizes), cap).await;
            assert!(
                matches!(refused, Err(Rejection::BodyTooLarge { .. })),
                "frames {sizes:?}: {refused:?}"
            );
        }
    }
}
