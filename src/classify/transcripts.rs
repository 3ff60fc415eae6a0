//! Golden transcripts: every request real `git`, `hg` and `svn` clients sent for clone,
//! fetch, pull, push, bookmark and phase pushes, checkout, commit, copy, move, lock and
//! revision-property changes (captured by `scripts/capture-transcripts.py` through a recording
//! proxy in front of real backends), each with the verdict its client step implies. Every
//! request must get exactly that verdict and repository.
//!
//! Routes used by the capture: `/git` (git), `/hg` and `/hgpost` (hg with two-segment
//! repositories; `/hgpost` serves with `experimental.httppostargs`), `/svn` and `/svnv1`
//! (`SVNParentPath`; `/svnv1` with HTTP v2 turned off).
//!
//! Each request goes through `canon::canonicalise` first, as in the proxy, so the transcripts
//! also show that canonicalisation accepts what real clients send.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use serde::Deserialize;

use super::hg::HgRoute;
use super::svn::{SvnLayout, SvnRoute};
use super::{Classified, Progress, Request, git, hg, svn};
use crate::canon::canonicalise;
use crate::vocabulary::Access;

const GIT: &str = include_str!("../../tests/fixtures/transcripts/git.jsonl");
const GIT_CGI: &str = include_str!("../../tests/fixtures/transcripts/git-cgi.jsonl");
const HG: &str = include_str!("../../tests/fixtures/transcripts/hg.jsonl");
const SVN: &str = include_str!("../../tests/fixtures/transcripts/svn.jsonl");

#[derive(Debug, Deserialize)]
struct Recorded {
    step: String,
    method: String,
    path: String,
    query: Option<String>,
    headers: BTreeMap<String, Vec<String>>,
    body: Option<String>,
    repo: String,
    /// `read`, `write`, or `refused`.
    expect: String,
    /// The operation's name, where the capture recorded it.
    #[serde(default)]
    operation: Option<String>,
}

/// What the classifiers said about one recorded request.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    access: Access,
    repo: String,
    operation: &'static str,
}

fn headers(recorded: &BTreeMap<String, Vec<String>>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, values) in recorded {
        for value in values {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
    }
    map
}

/// Classifies one recorded request; `Err` carries why it did not get a verdict.
fn classify(recorded: &Recorded) -> Result<Outcome, String> {
    let method = Method::from_bytes(recorded.method.as_bytes()).unwrap();
    let target = match &recorded.query {
        Some(query) => format!("{}?{query}", recorded.path),
        None => recorded.path.clone(),
    };
    let uri: Uri = target.parse().unwrap();
    let headers = headers(&recorded.headers);
    let canonical = canonicalise(&method, &uri, &headers)
        .map_err(|error| format!("canonicalise refused: {error}"))?;
    let (prefix, segments) = canonical.segments.split_first().expect("a route prefix");
    let request = Request {
        method: &canonical.method,
        segments,
        trailing_slash: canonical.trailing_slash,
        query: &canonical.query,
        headers: &headers,
    };
    let classified = match prefix.as_str() {
        "git" => git::classify(&request),
        "hg" | "hgpost" => hg::classify(
            &request,
            &HgRoute {
                repo_depth: Some(2),
            },
        ),
        "svn" | "svnv1" => svn::classify(
            &request,
            &SvnRoute {
                prefix: vec![prefix.clone()],
                layout: SvnLayout::ParentPath,
            },
        ),
        other => panic!("no route for prefix {other:?}"),
    }
    .map_err(|refusal| format!("refused: {refusal}"))?;
    let (repo, operation) = match classified {
        Classified::Final(verdict) => (verdict.repo, verdict.operation),
        Classified::NeedsBody { repo, mut rule } => {
            let body = recorded
                .body
                .as_deref()
                .ok_or("needs a body; none recorded")?;
            match rule.feed(body.as_bytes(), false) {
                Ok(Progress::Complete(operation)) => (repo, operation),
                Ok(Progress::NeedMore { .. }) => {
                    return Err("body rule wants more bytes".to_owned());
                }
                Err(refusal) => return Err(format!("body refused: {refusal}")),
            }
        }
    };
    Ok(Outcome {
        access: operation.access(),
        repo: repo.join("/"),
        operation: operation.name(),
    })
}

/// Checks every line of a fixture and reports all mismatches at once.
fn check_transcript(name: &str, fixture: &str) {
    let mut failures = Vec::new();
    let (mut reads, mut writes) = (0, 0);
    for (number, line) in fixture.lines().enumerate() {
        let recorded: Recorded = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{name}.jsonl line {}: {e}", number + 1));
        let got = classify(&recorded);
        let matches = if recorded.expect == "refused" {
            got.is_err()
        } else {
            let access: Access = recorded.expect.parse().expect("read, write or refused");
            match access {
                Access::Read => reads += 1,
                Access::Write => writes += 1,
            }
            got.as_ref().is_ok_and(|got| {
                got.access == access
                    && got.repo == recorded.repo
                    && recorded
                        .operation
                        .as_ref()
                        .is_none_or(|op| op == got.operation)
            })
        };
        if !matches {
            let expected = (&recorded.expect, &recorded.repo, &recorded.operation);
            failures.push(format!(
                "line {} [{}] {} {}?{}: expected {:?}, got {:?}",
                number + 1,
                recorded.step,
                recorded.method,
                recorded.path,
                recorded.query.as_deref().unwrap_or(""),
                expected,
                got
            ));
        }
    }
    assert!(
        reads > 5 && writes > 5,
        "{name}.jsonl has too few requests ({reads} reads, {writes} writes)"
    );
    assert!(
        failures.is_empty(),
        "{} of {} {name} requests got the wrong verdict:\n{}",
        failures.len(),
        reads + writes,
        failures.join("\n")
    );
}

#[test]
fn hg_transcripts() {
    check_transcript("hg", HG);
}

#[test]
fn svn_transcripts() {
    check_transcript("svn", SVN);
}

/// Fails until the Git classifier (another branch) is merged: the fixtures are real.
#[test]
fn git_transcripts() {
    check_transcript("git", GIT);
}

/// A frozen capture (git 2.47.3 behind a logging CGI wrapper) that adds the dumb protocol,
/// shallow clones, archives and a refused `git http-push`, with operation names.
#[test]
fn git_cgi_transcripts() {
    check_transcript("git-cgi", GIT_CGI);
}

#[test]
fn transcripts_cover_every_write_path() {
    let expect = |fixture: &str, needle: &str| {
        assert!(
            fixture
                .lines()
                .any(|l| l.contains(needle) && l.contains("\"expect\": \"write\"")),
            "no write request containing {needle}"
        );
    };
    for command in [
        "cmd=unbundle",
        "cmd=pushkey",
        "cmd=putlfile",
        "x-hgargs-post",
    ] {
        expect(HG, command);
    }
    for method in [
        "\"POST\"",
        "\"PUT\"",
        "\"DELETE\"",
        "\"PROPPATCH\"",
        "\"MKCOL\"",
        "\"MKACTIVITY\"",
        "\"CHECKOUT\"",
        "\"MERGE\"",
        "\"LOCK\"",
        "\"UNLOCK\"",
        "\"COPY\"",
        "!svn/rev/",
        "!svn/bln/",
    ] {
        expect(SVN, method);
    }
    expect(GIT, "git-receive-pack");
}
