//! The body of a MERGE (the last step of an svn commit): its `<D:source><D:href>` names the
//! activity or transaction to commit, and must lie in the repository the request targets.
//!
//! mod_dav reads the body as XML with namespaces and takes the first `DAV:href` in the first
//! `DAV:source` child of the `DAV:merge` root. Rather than implement XML namespaces, the
//! parser accepts exactly the shape Subversion's clients write — an optional XML declaration,
//! `<D:merge xmlns:D="DAV:">`, then `<D:source>`, `<D:href>`, text, `</D:href>`,
//! `</D:source>`, with whitespace between tags — and refuses everything else (comments,
//! DOCTYPEs, other prefixes, attributes, CDATA, character references), so the href read here
//! is the one mod_dav reads. Incremental and pure: the caller offers the growing prefix, and
//! bounds it (svn writes the href within the first 200 bytes; the proxy's body prefix cap
//! is the only bound).

use crate::classify::{Operation, Progress, Refusal};

use super::href::{self, Form};
use super::{SvnOp, inside};

const XML_DECLARATIONS: &[&[u8]] = &[
    b"<?xml version=\"1.0\" encoding=\"utf-8\"?>",
    b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
    b"<?xml version=\"1.0\"?>",
];
const ROOT: &[u8] = b"<D:merge xmlns:D=\"DAV:\">";
const SOURCE: &[u8] = b"<D:source>";
const HREF: &[u8] = b"<D:href>";
const HREF_END: &[u8] = b"</D:href>";
const SOURCE_END: &[u8] = b"</D:source>";

/// The body-dependent part of a MERGE: its `<D:source><D:href>` must stay in the repository.
#[derive(Debug)]
pub struct MergeBody {
    /// Decoded segments of the repository root from the server root: route prefix + repo.
    repo_root: Vec<String>,
}

impl MergeBody {
    pub(super) fn new(repo_root: Vec<String>) -> MergeBody {
        MergeBody { repo_root }
    }

    pub fn feed(&mut self, prefix: &[u8], eof: bool) -> Result<Progress, Refusal> {
        match source_href(prefix) {
            Ok(text) => {
                let url = href::parse(&text, Form::UrlOrPath)
                    .map_err(|href::BadUrl(reason)| Refusal::BadBody { reason })?;
                if !inside(&url.segments, &self.repo_root) {
                    return Err(Refusal::OutsideRepository {
                        what: "the MERGE source",
                    });
                }
                Ok(Progress::Complete(Operation::Svn(SvnOp::Merge)))
            }
            Err(Stop::Bad(reason)) => Err(Refusal::BadBody { reason }),
            Err(Stop::More) if eof => Err(Refusal::BadBody {
                reason: "MERGE body ends before its source href",
            }),
            // Where the href ends is unknown until it does: one more byte at least.
            Err(Stop::More) => Ok(Progress::NeedMore {
                total: prefix.len() + 1,
            }),
        }
    }
}

/// Why parsing stopped without a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The prefix is consistent so far; more bytes are needed.
    More,
    /// The prefix cannot become an accepted body.
    Bad(&'static str),
}

/// The text of the source href, unescaped and with surrounding whitespace removed (as
/// mod_dav's `dav_xml_get_cdata(…, strip_white=1)`).
fn source_href(body: &[u8]) -> Result<String, Stop> {
    let mut cursor = Cursor { rest: body };
    if cursor.rest.first() == Some(&b'<') && cursor.rest.get(1) != Some(&b'D') {
        cursor.one_of(XML_DECLARATIONS, "unsupported XML declaration")?;
        cursor.skip_whitespace();
    }
    for tag in [ROOT, SOURCE, HREF] {
        cursor.literal(tag, "body is not an svn MERGE request")?;
        cursor.skip_whitespace();
    }
    let end = cursor
        .rest
        .iter()
        .position(|&b| b == b'<')
        .ok_or(Stop::More)?;
    let (text, rest) = cursor.rest.split_at(end);
    cursor.rest = rest;
    cursor.literal(HREF_END, "unexpected markup in the MERGE source href")?;
    cursor.skip_whitespace();
    cursor.literal(SOURCE_END, "MERGE source has more than one href")?;
    unescape(text)
}

struct Cursor<'a> {
    rest: &'a [u8],
}

impl Cursor<'_> {
    fn skip_whitespace(&mut self) {
        let skip = self
            .rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        self.rest = &self.rest[skip..];
    }

    /// Consumes `literal`; `More` when the input is a proper prefix of it.
    fn literal(&mut self, literal: &[u8], reason: &'static str) -> Result<(), Stop> {
        self.one_of(&[literal], reason)
    }

    fn one_of(&mut self, literals: &[&[u8]], reason: &'static str) -> Result<(), Stop> {
        if let Some(found) = literals.iter().find(|l| self.rest.starts_with(l)) {
            self.rest = &self.rest[found.len()..];
            return Ok(());
        }
        if literals.iter().any(|l| l.starts_with(self.rest)) {
            return Err(Stop::More);
        }
        Err(Stop::Bad(reason))
    }
}

/// XML character data: UTF-8, no control characters, only the five predefined entities.
fn unescape(text: &[u8]) -> Result<String, Stop> {
    let text = std::str::from_utf8(text).map_err(|_| Stop::Bad("MERGE href is not UTF-8"))?;
    let text = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['&', '>']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (entity, plain) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&apos;", '\''),
        ]
        .into_iter()
        .find(|(entity, _)| rest.starts_with(entity))
        .ok_or(Stop::Bad("unsupported character reference in MERGE href"))?;
        out.push(plain);
        rest = &rest[entity.len()..];
    }
    out.push_str(rest);
    if out.chars().any(char::is_control) {
        return Err(Stop::Bad("control character in MERGE href"));
    }
    Ok(out)
}
