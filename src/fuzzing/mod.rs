//! The fuzz targets' checks, in the library so that the cargo-fuzz targets (`fuzz/`, one
//! line each) and the main test suite (which replays every committed seed and crash input,
//! `tests.rs`) run the very same invariants. Not part of vcsgate's API.
//!
//! Each target takes the fuzzer's bytes, never panics on any input, and panics (with what
//! went wrong) when an invariant breaks. Request inputs are text ([`head`]): `METHOD TARGET
//! [HTTP/2]`, header lines `Name: value`, a blank line, then the body.

#![allow(clippy::panic)]

pub mod chunked;
pub mod head;
pub mod hg_model;
pub mod jwt;
pub mod lane;
pub mod routes;

#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::path::Path;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};

use crate::classify::svn::SvnLayout;
use crate::classify::{Classified, Operation, git, hg, svn};
use crate::throttle::{Cidr, ClientKey, TrustedProxies, client_key};
use crate::vocabulary::Access;
use crate::{access, canon, config, credentials, token};
use head::Head;
use hg_model::WRITE_COMMANDS;

/// A target's checks: fed the fuzzer's bytes, panics when an invariant breaks.
pub type Check = fn(&[u8]);

/// Every target by its cargo-fuzz name (`fuzz/fuzz_targets/NAME.rs`, `fuzz/seeds/NAME/`).
pub const TARGETS: &[(&str, Check)] = &[
    ("canonicalise", canonicalise),
    ("classify_git", classify_git),
    ("classify_hg", classify_hg),
    ("classify_svn", classify_svn),
    ("client_key", client_key_target),
    ("config", config_target),
    ("credentials", credentials_target),
    ("lfs_batch", lfs_batch),
    ("receive_pack", receive_pack),
    ("jwt", jwt::jwt_target),
    ("http1_head", lane::http1_head),
    ("backend_answer", lane::backend_answer),
];

/// Canonicalisation (R1–R5) never panics, and what it lets through has the promised shape.
pub fn canonicalise(data: &[u8]) {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    for name in head.headers.keys() {
        assert!(
            !canon::is_untrusted_header(name.as_str()),
            "{name} survived stripping"
        );
    }
    assert_eq!(canonical.raw_path, head.uri.path());
    assert_eq!(canonical.raw_query.as_deref(), head.uri.query());
    for segment in &canonical.segments {
        assert!(
            !segment.is_empty() && segment != "." && segment != "..",
            "{segment:?}"
        );
        assert!(!segment.contains(['/', '\\']), "{segment:?}");
        assert!(!segment.chars().any(char::is_control), "{segment:?}");
    }
    let keys: Vec<&str> = canonical.query.keys().collect();
    for (i, key) in keys.iter().enumerate() {
        assert!(!keys[..i].contains(key), "duplicate key {key:?}");
    }
    auth_token_placement(&canonical);
}

/// `auth_token` taken out of a canonical request: the token is what the query held (never
/// empty), it is gone from the decoded query and from the raw query that is forwarded (which
/// still parses to exactly the other pairs, in order), and nothing else changes.
fn auth_token_placement(original: &canon::CanonicalRequest) {
    let param = canon::AUTH_TOKEN_PARAM;
    let mut taken = original.clone();
    let result = taken.take_auth_token();
    let given = original.query.get(param);
    let variant = original
        .query
        .keys()
        .any(|k| k != param && k.eq_ignore_ascii_case(param));
    match result {
        Err(canon::CanonError::AuthTokenSpelling) => assert!(variant, "spelling refusal"),
        Err(canon::CanonError::EmptyAuthToken) => assert_eq!(given, Some(""), "empty refusal"),
        Err(other) => panic!("take_auth_token refused with {other:?}"),
        Ok(None) => {
            assert!(given.is_none() && !variant, "auth_token left in the query");
            assert_eq!(taken.raw_query, original.raw_query);
        }
        Ok(Some(token)) => {
            assert!(!variant);
            assert_eq!(
                Some(token.expose()),
                given,
                "the token is the decoded value"
            );
            assert!(!token.expose().is_empty());
            let others: Vec<&(String, String)> = original
                .query
                .pairs()
                .iter()
                .filter(|(k, _)| k != param)
                .collect();
            let left: Vec<&(String, String)> = taken.query.pairs().iter().collect();
            assert_eq!(left, others, "the other pairs stay, in order");
            let target = match &taken.raw_query {
                Some(raw) => format!("{}?{raw}", original.raw_path),
                None => original.raw_path.clone(),
            };
            let uri: http::Uri = match target.parse() {
                Ok(uri) => uri,
                Err(e) => panic!("forwarded target {target:?} is not a URI: {e}"),
            };
            let again = canon::canonicalise(&original.method, &uri, &HeaderMap::new());
            let again = match again {
                Ok(again) => again,
                Err(e) => panic!("forwarded target {target:?} no longer canonical: {e}"),
            };
            assert_eq!(again.query.pairs(), taken.query.pairs(), "{target:?}");
            assert!(again.query.get(param).is_none(), "{target:?} still has it");
            assert_ne!(
                taken.raw_query.as_deref(),
                Some(""),
                "an emptied query is none"
            );
        }
    }
    assert_eq!(taken.segments, original.segments);
    assert_eq!(taken.raw_path, original.raw_path);
}

/// The Git classifier never panics; a read verdict is never a push.
pub fn classify_git(data: &[u8]) {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    let request = head::request(&canonical, 0, &head.headers);
    let Ok(classified) = git::classify(&request) else {
        return;
    };
    let segments = &canonical.segments;
    let lfs = segments.windows(2).any(|w| w[0] == "info" && w[1] == "lfs");
    let verdict = match classified {
        Classified::Final(verdict) => verdict,
        Classified::NeedsBody { repo, mut rule } => {
            assert!(
                lfs && segments.ends_with(&["objects".to_owned(), "batch".to_owned()])
                    && head.method == http::Method::POST,
                "only the LFS batch needs the body: {segments:?}"
            );
            match rule.feed(head.body, true) {
                Ok(crate::classify::Progress::Complete(op)) => {
                    crate::classify::Verdict::new(repo, op)
                }
                Ok(crate::classify::Progress::NeedMore { .. }) => {
                    panic!("a complete batch body must decide")
                }
                Err(_) => return,
            }
        }
    };
    let Operation::Git(op) = verdict.operation else {
        panic!("a git verdict with a foreign operation");
    };
    assert!(!verdict.repo.is_empty(), "no repository");
    assert!(
        segments.starts_with(&verdict.repo),
        "repository is not a path prefix"
    );
    assert_eq!(op.is_lfs(), lfs, "LFS operations exactly below info/lfs");
    let names_push = segments.last().is_some_and(|s| s == "git-receive-pack")
        || canonical.query.get("service") == Some("git-receive-pack");
    let lfs_write = lfs
        && match head.method.as_str() {
            "GET" => false,
            "PUT" => true,
            "POST" => {
                git::lfs::batch_operation(head.body).ok()
                    != Some(git::lfs::BatchOperation::Download)
                    || !segments.ends_with(&["objects".to_owned(), "batch".to_owned()])
            }
            other => panic!("LFS verdict for method {other}"),
        };
    match verdict.access() {
        Access::Read => assert!(
            !names_push && !lfs_write,
            "read verdict for a write: {segments:?}"
        ),
        Access::Write => assert!(
            names_push || lfs_write,
            "write verdict for a read: {segments:?}"
        ),
    }
}

/// The LFS batch body rule never panics; a verdict means a JSON object whose only key
/// equal to `operation` in any ASCII case is `operation` itself, holding that verdict's
/// string; the answer does not depend on how the body arrives.
pub fn lfs_batch(data: &[u8]) {
    use crate::classify::Progress;
    let decided = git::lfs::batch_operation(data);
    let mut rule = git::lfs::LfsBatch;
    for cut in [0, data.len() / 2] {
        let early = rule.feed(&data[..cut.min(data.len())], false);
        assert!(
            matches!(early, Ok(Progress::NeedMore { .. })),
            "decided before the end"
        );
    }
    let fed = rule.feed(data, true);
    match (&decided, &fed) {
        (Ok(op), Ok(Progress::Complete(Operation::Git(got)))) => {
            let expected = match op {
                git::lfs::BatchOperation::Download => git::GitOp::LfsBatchDownload,
                git::lfs::BatchOperation::Upload => git::GitOp::LfsBatchUpload,
            };
            assert_eq!(*got, expected);
        }
        (Err(_), Err(_)) => {}
        other => panic!("rule and parser disagree: {other:?}"),
    }
    let Ok(op) = decided else {
        return;
    };
    let value: serde_json::Value =
        serde_json::from_slice(data).unwrap_or_else(|e| panic!("accepted non-JSON: {e}"));
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("accepted a non-object"));
    let keys: Vec<&String> = object
        .keys()
        .filter(|k| k.eq_ignore_ascii_case("operation"))
        .collect();
    assert_eq!(keys, ["operation"], "one operation key, spelled exactly");
    let expected = match op {
        git::lfs::BatchOperation::Download => "download",
        git::lfs::BatchOperation::Upload => "upload",
    };
    assert_eq!(
        object.get("operation").and_then(|v| v.as_str()),
        Some(expected)
    );
}

/// The receive-pack command parser never panics; a complete list is decided the same from
/// every split of the body (every shorter prefix needs more), and its ref names are
/// well-formed names under `refs/` that match themselves as ref patterns.
pub fn receive_pack(data: &[u8]) {
    use crate::refs::commands::{Parsed, parse};
    let Ok(Parsed::Complete { list, consumed }) = parse(data, false) else {
        let _ = parse(data, true);
        return;
    };
    assert!(consumed <= data.len() && consumed >= 4);
    assert_eq!(&data[consumed - 4..consumed], b"0000", "ends at a flush");
    assert_eq!(
        parse(&data[..consumed], true),
        Ok(Parsed::Complete {
            list: list.clone(),
            consumed
        })
    );
    for cut in [0, consumed / 3, consumed / 2, consumed - 1] {
        match parse(&data[..cut], false) {
            Ok(Parsed::NeedMore { total }) => assert!(total > cut && total <= consumed),
            other => panic!("prefix of {cut} bytes: {other:?}"),
        }
    }
    assert!(!list.commands.is_empty());
    for command in &list.commands {
        assert!(command.name.starts_with("refs/"), "{:?}", command.name);
        let pattern = crate::refs::RefPattern::parse(&command.name)
            .unwrap_or_else(|e| panic!("ref name {:?} is no pattern: {e}", command.name));
        assert!(pattern.matches(&command.name));
        assert_eq!(command.old.len(), command.new.len());
    }
}

/// The Mercurial classifier never panics; a read verdict never carries a write command —
/// neither as `cmd` nor inside a `batch`, from any argument source (checked against an
/// independent model of hg, [`hg_model`]); body verdicts do not depend on chunking.
pub fn classify_hg(data: &[u8]) {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    let Some(prefix) = canonical.segments.first() else {
        return;
    };
    let route = routes::hg(prefix);
    let request = head::request(&canonical, 1, &head.headers);
    let operation = match hg::classify(&request, &route) {
        Err(_) => return,
        Ok(Classified::Final(verdict)) => verdict.operation,
        Ok(Classified::NeedsBody { .. }) => {
            let classify = || hg::classify(&request, &route).ok();
            match chunked::check_chunking(classify, head.body) {
                Some(op) => op,
                None => return,
            }
        }
    };
    let Operation::Hg(hg_op) = operation else {
        panic!("an hg verdict with a foreign operation");
    };
    // URL and feed tokens: only GET/HEAD page reads below a repository, never the wire
    // protocol, even with a pattern that matches every path.
    let classified = Classified::Final(crate::classify::Verdict::new(
        repo_of(&request, &route),
        operation,
    ));
    let area = access::area(
        &fuzz_path_rules(),
        &canonical.method,
        request.segments,
        &classified,
    );
    if area.accepts_url_token() {
        let get = canonical.method == http::Method::GET || canonical.method == http::Method::HEAD;
        assert!(get, "URL token accepted for {}", canonical.method);
        assert_eq!(
            hg_op,
            hg::HgOp::Page,
            "URL token accepted for a wire request"
        );
        assert!(canonical.query.get("cmd").is_none(), "URL token with cmd=");
    }
    if operation.access() == Access::Read {
        let cmd = canonical.query.get("cmd").unwrap_or_default();
        assert!(!WRITE_COMMANDS.contains(&cmd), "read verdict for cmd={cmd}");
        let ops = hg_model::batched_ops(canonical.raw_query.as_deref(), &head.headers, head.body);
        if let Some(op) = ops.iter().find(|op| WRITE_COMMANDS.contains(&op.as_str())) {
            assert!(cmd != "batch", "read verdict for a batch carrying {op}");
        }
    }
}

/// Path rules with the documented examples, hg's default feeds and a pattern matching
/// every path below a repository.
fn fuzz_path_rules() -> access::PathRules {
    let parse = |list: &[&str]| {
        list.iter()
            .filter_map(|p| crate::repo::RepoPattern::parse(p).ok())
            .collect()
    };
    access::PathRules {
        url_token_paths: parse(&["archive/*", "raw-file/**", "**"]),
        feed_paths: parse(access::HG_DEFAULT_FEED_PATHS),
    }
}

/// The repository the hg classifier decided for `request` (its verdict or body rule).
fn repo_of(request: &crate::classify::Request<'_>, route: &hg::HgRoute) -> Vec<String> {
    match hg::classify(request, route) {
        Ok(classified) => classified.repo().to_vec(),
        Err(_) => Vec::new(),
    }
}

const SVN_READ_METHODS: &[&str] = &["GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"];
const SVN_COMMIT_AREAS: &[&str] = &["act", "wrk", "wbl", "txn", "txr", "vtxn", "vtxr"];

/// The Subversion classifier never panics; a read verdict uses a read method outside the
/// commit-only `!svn/` areas, and the repository is where the route layout says; body
/// verdicts do not depend on chunking.
pub fn classify_svn(data: &[u8]) {
    let Some(mut head) = Head::parse(data) else {
        return;
    };
    let Some(canonical) = head.canonical() else {
        return;
    };
    let Some(prefix) = canonical.segments.first() else {
        return;
    };
    let route = routes::svn(prefix);
    let request = head::request(&canonical, 1, &head.headers);
    let (repo, operation) = match svn::classify(&request, &route) {
        Err(_) => return,
        Ok(Classified::Final(verdict)) => (verdict.repo, verdict.operation),
        Ok(Classified::NeedsBody { repo, .. }) => {
            let classify = || svn::classify(&request, &route).ok();
            match chunked::check_chunking(classify, head.body) {
                Some(op) => (repo, op),
                None => return,
            }
        }
    };
    let Operation::Svn(_) = operation else {
        panic!("an svn verdict with a foreign operation");
    };
    let below = &canonical.segments[1..];
    let inner = match route.layout {
        SvnLayout::SingleRepository => {
            assert!(repo.is_empty(), "SVNPath route with repository {repo:?}");
            below
        }
        SvnLayout::ParentPath => {
            assert_eq!(
                Some(repo.as_slice()),
                below.get(..1),
                "not the first segment"
            );
            below.get(1..).unwrap_or_default()
        }
    };
    if operation.access() == Access::Read {
        let method = canonical.method.as_str();
        assert!(
            SVN_READ_METHODS.contains(&method),
            "read verdict for {method}"
        );
        let in_commit_area = inner.first().is_some_and(|s| s == "!svn")
            && inner
                .get(1)
                .is_some_and(|a| SVN_COMMIT_AREAS.contains(&a.as_str()));
        assert!(!in_commit_area, "read verdict in a commit area: {inner:?}");
    }
}

const PEERS: &[&str] = &["10.0.0.1", "::ffff:10.0.0.2", "2001:db8::1", "192.0.2.1"];

/// Trusted-proxy parsing and the client key from `X-Forwarded-For` never panic; the key is
/// the peer's unless the peer is trusted, and otherwise an address the header or peer
/// named. Input: first byte picks the peer; then a CIDR to parse on the first line; then one
/// `X-Forwarded-For` value per line.
pub fn client_key_target(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|b| *b == b'\n');
    if let Some(Ok(text)) = lines.next().map(std::str::from_utf8) {
        let _ = text.parse::<Cidr>();
    }
    let values: Vec<HeaderValue> = lines
        .filter_map(|l| HeaderValue::from_bytes(l).ok())
        .collect();
    let Ok(trusted) = TrustedProxies::parse(&["10.0.0.0/8", "2001:db8::/32"]) else {
        panic!("fixed trusted list does not parse");
    };
    let Ok(peer) = PEERS[usize::from(pick) % PEERS.len()].parse::<IpAddr>() else {
        return;
    };
    let key = client_key(peer, &values, &trusted);
    if !trusted.contains(peer) {
        assert_eq!(key, ClientKey::of(peer));
        return;
    }
    let named = values
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|e| e.trim_matches([' ', '\t']).parse::<IpAddr>().ok())
        .chain(std::iter::once(peer))
        .any(|a| ClientKey::of(a) == key);
    assert!(named, "key {key} names no address in the request");
}

/// The config loader never panics, whatever the text. The file is placed in a directory
/// that does not exist, so relative `*_file` secrets are never found.
pub fn config_target(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = config::parse(text, Path::new("/nonexistent/vcsgate-fuzz/proxy.toml"));
}

/// Credential parsing and the token format never panic; a token that parses is well formed
/// and hashes to what the store would look up. Each input line is one `Authorization` value.
pub fn credentials_target(data: &[u8]) {
    let mut headers = HeaderMap::new();
    for line in data.split(|b| *b == b'\n') {
        if let Ok(value) = HeaderValue::from_bytes(line) {
            headers.append(AUTHORIZATION, value);
        }
    }
    let presented = credentials::presented_token(&headers);
    if headers.is_empty() {
        assert!(matches!(presented, Ok(None)));
    }
    let Ok(Some(secret)) = presented else {
        return;
    };
    let text = secret.expose();
    assert!(!text.is_empty());
    assert_eq!(
        format!("{secret:?}"),
        "***",
        "a secret's Debug shows the secret"
    );
    let _ = token::public_prefix(text);
    if let Ok(hash) = token::parse(text) {
        assert_eq!(text.len(), token::TOKEN_LEN);
        assert!(text.starts_with(token::PREFIX));
        assert_eq!(hash, token::TokenHash::of(text));
    }
}
