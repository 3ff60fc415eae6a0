//! Feeds a body to a [`BodyRule`] as the proxy does (a growing prefix, `eof` at the end),
//! once in small chunks and once whole, and insists both give the same operation: a verdict
//! that depends on how TCP split the body would be a smuggling vector.

use crate::classify::{BodyRule, Classified, Operation, Progress};

/// The operation decided, or `None` when the body was refused.
pub fn settle(
    rule: &mut BodyRule,
    body: &[u8],
    chunk_sizes: impl Iterator<Item = usize>,
) -> Option<Operation> {
    let mut end = 0;
    for size in chunk_sizes {
        end = (end + size.max(1)).min(body.len());
        let eof = end == body.len();
        match rule.feed(&body[..end], eof) {
            Ok(Progress::Complete(op)) => return Some(op),
            Ok(Progress::NeedMore { .. }) if !eof => {}
            Ok(Progress::NeedMore { .. }) | Err(_) => return None,
        }
    }
    None
}

/// Classifies with the body in chunks of 1, 2, 3 … bytes and whole; panics if they differ.
/// `classify` must build a fresh verdict each call.
pub fn check_chunking(classify: impl Fn() -> Option<Classified>, body: &[u8]) -> Option<Operation> {
    let Some(Classified::NeedsBody {
        rule: mut small, ..
    }) = classify()
    else {
        return None;
    };
    let Some(Classified::NeedsBody {
        rule: mut whole, ..
    }) = classify()
    else {
        panic!("the same request classified differently twice");
    };
    let chunked = settle(&mut small, body, (1..).take(body.len() + 1));
    let at_once = settle(&mut whole, body, std::iter::once(body.len()));
    if let (Some(a), Some(b)) = (chunked, at_once) {
        assert_eq!(a, b, "body verdict depends on chunking");
    }
    at_once
}
