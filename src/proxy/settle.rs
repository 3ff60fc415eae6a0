//! Settling a body-dependent verdict (R7): after authentication, read a bounded prefix of
//! the body, let the classifier's pure rule decide, and hand back a body that replays
//! exactly those bytes followed by the rest.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use super::body::{Body, Prefixed};
use super::rejection::Rejection;
use crate::classify::{Classified, Progress, Verdict};

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
    let mut body = body;
    let mut prefix = BytesMut::new();
    loop {
        let frame = body.frame().await;
        let eof = frame.is_none();
        match frame {
            None => {}
            Some(Err(_)) => return Err(Rejection::BodyRead),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    prefix.extend_from_slice(&data);
                }
                // Trailers before a verdict: nothing real sends them here; they are dropped.
            }
        }
        match rule.feed(&prefix, eof)? {
            Progress::Complete(operation) => {
                let verdict = Verdict { repo, operation };
                let replay: Bytes = prefix.freeze();
                let body = if eof {
                    super::body::full(replay)
                } else {
                    Prefixed::new(replay, body).boxed()
                };
                return Ok((verdict, body));
            }
            Progress::NeedMore if eof => {
                return Err(Rejection::Classify(crate::classify::Refusal::BadBody {
                    reason: "body ended before it could be classified",
                }));
            }
            Progress::NeedMore if prefix.len() > limit => {
                return Err(Rejection::BodyTooLarge { limit });
            }
            Progress::NeedMore => {}
        }
    }
}
