//! Git LFS (PROTOCOLS.md §2, ACCESS.md "Git LFS"), below `<repo>.git/info/lfs`:
//!
//! | method | path below `info/lfs`       | condition                                 | verdict |
//! |--------|-----------------------------|-------------------------------------------|---------|
//! | POST   | `objects/batch`             | body: `operation` = `download`            | read    |
//! | POST   | `objects/batch`             | body: `operation` = `upload`              | write   |
//! | GET    | `objects/<oid>`             |                                           | read    |
//! | PUT    | `objects/<oid>`             |                                           | write   |
//! | POST   | `objects/<oid>/verify`      |                                           | write   |
//! | GET    | `locks`                     | query keys `path`, `id`, `cursor`, `limit`, `refspec` | read |
//! | POST   | `locks`, `locks/verify`, `locks/<id>/unlock` |                          | write   |
//!
//! `<oid>` is exactly 64 lower-case hex digits (SHA-256). Everything else is refused: other
//! methods and paths, a query (except on `GET locks`), a trailing `/`, and for the batch a
//! `Content-Encoding`. The batch verdict comes from the body ([`LfsBatch`]), read after
//! authentication: a JSON object whose keys include exactly one that equals `operation`
//! ignoring ASCII case (Go's `encoding/json`, which most LFS servers use, matches keys
//! case-insensitively and takes the last duplicate), spelled exactly `operation`, with the
//! string value `download` or `upload`. Keys with non-ASCII characters are refused (Go
//! folds some of them onto ASCII letters).

use http::Method;
use http::header::CONTENT_ENCODING;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

use super::GitOp;
use crate::classify::{BodyRule, Classified, Operation, Progress, Refusal, Request, Verdict};

/// Query keys git-lfs sends when listing locks.
const LOCK_LIST_KEYS: &[&str] = &["path", "id", "cursor", "limit", "refspec"];
#[cfg(test)]
pub(super) const LOCK_LIST_KEYS_FOR_TESTS: &[&str] = LOCK_LIST_KEYS;

/// Classifies a request whose path has `info/lfs` at `at` (the repository is before it).
pub(super) fn classify(request: &Request<'_>, at: usize) -> Result<Classified, Refusal> {
    let segments = request.segments;
    let repo = segments.get(..at).unwrap_or_default();
    super::repository::check(repo)?;
    let below: Vec<&str> = segments
        .get(at + 2..)
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .collect();
    if request.trailing_slash {
        return Err(unknown(&below));
    }
    let method = request.method;
    let (get, put, post) = (
        *method == Method::GET,
        *method == Method::PUT,
        *method == Method::POST,
    );
    let op = match below.as_slice() {
        ["objects", "batch"] if post => {
            no_query(request)?;
            if request.headers.contains_key(CONTENT_ENCODING) {
                return Err(Refusal::NotSupported {
                    what: "a compressed (Content-Encoding) LFS batch request",
                });
            }
            return Ok(Classified::NeedsBody {
                repo: repo.to_vec(),
                rule: BodyRule::LfsBatch(LfsBatch),
            });
        }
        ["objects", oid] if is_oid(oid) && get => GitOp::LfsDownload,
        ["objects", oid] if is_oid(oid) && put => GitOp::LfsUpload,
        ["objects", oid, "verify"] if is_oid(oid) && post => GitOp::LfsVerify,
        ["locks"] if get => {
            if request.query.first_key_outside(LOCK_LIST_KEYS).is_some() {
                return Err(Refusal::UnexpectedParam {
                    allowed: LOCK_LIST_KEYS,
                });
            }
            return Ok(final_verdict(repo, GitOp::LfsLockList));
        }
        ["locks"] if post => GitOp::LfsLockCreate,
        ["locks", "verify"] if post => GitOp::LfsLockVerify,
        ["locks", id, "unlock"] if is_lock_id(id) && post => GitOp::LfsUnlock,
        ["objects", "batch"]
        | ["objects", _]
        | ["objects", _, "verify"]
        | ["locks"]
        | ["locks", "verify"]
        | ["locks", _, "unlock"]
            if is_lfs_path(&below) =>
        {
            return Err(Refusal::Method {
                method: crate::canon::truncated(method.as_str()),
            });
        }
        _ => return Err(unknown(&below)),
    };
    no_query(request)?;
    Ok(final_verdict(repo, op))
}

fn final_verdict(repo: &[String], op: GitOp) -> Classified {
    Classified::Final(Verdict::new(repo.to_vec(), Operation::Git(op)))
}

/// A path the table knows, with a well-formed oid or lock id (another method was used).
fn is_lfs_path(below: &[&str]) -> bool {
    match below {
        ["objects", "batch"] | ["locks"] | ["locks", "verify"] => true,
        ["objects", oid] | ["objects", oid, "verify"] => is_oid(oid),
        ["locks", id, "unlock"] => is_lock_id(id),
        _ => false,
    }
}

fn no_query(request: &Request<'_>) -> Result<(), Refusal> {
    match request.query.is_empty() {
        true => Ok(()),
        false => Err(Refusal::UnexpectedParam { allowed: &[] }),
    }
}

fn unknown(below: &[&str]) -> Refusal {
    let mut shown: String = below.join("/").chars().take(80).collect();
    if shown.is_empty() {
        shown.push_str("(nothing)");
    }
    Refusal::UnknownEndpoint {
        vcs: "git",
        what: format!(
            "info/lfs/{shown:?} (expected objects/batch, objects/<sha256>, \
             objects/<sha256>/verify, locks, locks/verify or locks/<id>/unlock)"
        ),
    }
}

/// A SHA-256 object id: 64 lower-case hex digits.
pub fn is_oid(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A lock id: 1–128 ASCII letters, digits, `-`, `_` or `.` (not only dots).
pub fn is_lock_id(text: &str) -> bool {
    (1..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && text.bytes().any(|b| b != b'.')
}

/// The batch body rule: the whole body is needed (a later duplicate key would change the
/// answer), bounded by the proxy's body cap.
#[derive(Debug)]
pub struct LfsBatch;

impl LfsBatch {
    pub fn feed(&mut self, prefix: &[u8], eof: bool) -> Result<Progress, Refusal> {
        if !eof {
            return Ok(Progress::NeedMore {
                total: prefix.len() + 1,
            });
        }
        let op = match batch_operation(prefix)? {
            BatchOperation::Download => GitOp::LfsBatchDownload,
            BatchOperation::Upload => GitOp::LfsBatchUpload,
        };
        Ok(Progress::Complete(Operation::Git(op)))
    }
}

/// What a batch request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOperation {
    Download,
    Upload,
}

/// The `operation` of a complete batch body, or why it is refused.
pub fn batch_operation(body: &[u8]) -> Result<BatchOperation, Refusal> {
    let bad = |reason| Refusal::BadBody { reason };
    // Strict JSON throughout, also in the values the decision skips: lone surrogate
    // escapes and numbers beyond f64 are refused (git-lfs never sends them).
    if std::str::from_utf8(body).is_err()
        || serde_json::from_slice::<serde_json::Value>(body).is_err()
    {
        return Err(bad("an LFS batch request must be UTF-8 JSON"));
    }
    let top: TopLevel = serde_json::from_slice(body)
        .map_err(|_| bad("an LFS batch request must be a JSON object"))?;
    if top.non_ascii_key {
        return Err(bad("LFS batch request has a key with non-ASCII characters"));
    }
    match top.operations.as_slice() {
        [(key, Some(value))] if key == "operation" => match value.as_str() {
            "download" => Ok(BatchOperation::Download),
            "upload" => Ok(BatchOperation::Upload),
            _ => Err(bad(
                "LFS batch operation must be \"download\" or \"upload\"",
            )),
        },
        [] => Err(bad("LFS batch request has no \"operation\"")),
        [_] => Err(bad(
            "LFS batch \"operation\" must be the string download or upload",
        )),
        _ => Err(bad("LFS batch request has more than one \"operation\" key")),
    }
}

/// The top-level keys of a batch body that matter: every key equal to `operation` ignoring
/// ASCII case, with its value when that is a string.
struct TopLevel {
    operations: Vec<(String, Option<String>)>,
    non_ascii_key: bool,
}

impl<'de> serde::Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut top = TopLevel {
            operations: Vec::new(),
            non_ascii_key: false,
        };
        while let Some(key) = map.next_key::<String>()? {
            top.non_ascii_key |= !key.is_ascii();
            if key.eq_ignore_ascii_case("operation") {
                let value: serde_json::Value = map.next_value()?;
                top.operations
                    .push((key, value.as_str().map(str::to_owned)));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(body: &str) -> Result<BatchOperation, Refusal> {
        batch_operation(body.as_bytes())
    }

    #[test]
    fn batch_bodies() {
        let real = r#"{"operation":"upload","objects":[{"oid":"4d7a","size":3}],"transfers":["basic"],"ref":{"name":"refs/heads/main"},"hash_algo":"sha256"}"#;
        assert_eq!(op(real), Ok(BatchOperation::Upload));
        assert_eq!(
            op(r#"{"operation":"download"}"#),
            Ok(BatchOperation::Download)
        );
        assert_eq!(
            op(r#" {"objects":[], "operation" : "downl\u006fad"} "#),
            Ok(BatchOperation::Download)
        );
        // A nested "operation" does not count; the top-level one does.
        assert_eq!(
            op(r#"{"x":{"operation":"upload"},"operation":"download"}"#),
            Ok(BatchOperation::Download)
        );
        for refused in [
            r#"{"operation":"download","operation":"upload"}"#,
            r#"{"operation":"download","Operation":"upload"}"#,
            r#"{"OPERATION":"download"}"#,
            r#"{"oper\u0061tion":"download","operation":"upload"}"#,
            r#"{"operation":"Download"}"#,
            r#"{"operation":"delete"}"#,
            r#"{"operation":["download"]}"#,
            r#"{"operation":null}"#,
            r#"{"objects":[]}"#,
            r#"{"operation":"download","ſ":1}"#,
            r#"["operation","download"]"#,
            r#"{"operation":"download"} {}"#,
            r#"{"operation":"download""#,
            "",
            "operation=download",
        ] {
            assert!(op(refused).is_err(), "{refused}");
        }
        assert!(batch_operation(b"{\"operation\":\"download\",\"x\":\"\xff\"}").is_err());
        // Found by the fuzzer: what serde skips leniently is refused too.
        assert!(op(r#"{"x":"\uda00ld","operation":"upload"}"#).is_err());
        assert!(op(r#"{"x":1.2e999999,"operation":"upload"}"#).is_err());
    }

    #[test]
    fn the_rule_needs_the_whole_body() {
        let body = br#"{"operation":"upload"}"#;
        let mut rule = LfsBatch;
        for cut in 0..body.len() {
            assert!(matches!(
                rule.feed(&body[..cut], false),
                Ok(Progress::NeedMore { total }) if total == cut + 1
            ));
        }
        assert_eq!(
            rule.feed(body, true),
            Ok(Progress::Complete(Operation::Git(GitOp::LfsBatchUpload)))
        );
    }
}
