//! Where hg wire arguments come from besides the query: `X-HgArg-1..N` headers or the first
//! `X-HgArgs-Post` bytes of the body, both `application/x-www-form-urlencoded` strings
//! (hg's `wireprotoserver.httpv1protocolhandler._args`).
//!
//! hg reads `X-HgArg-1`, `-2`, … up to the first missing index and ignores the rest (hg
//! serve also treats an empty value as missing and strips the others), decodes
//! with Python's `parse_qs` (`+` is a space, a bad escape stays literal, old Pythons also
//! split on `;`, non-ASCII results fail). Every form where that reading is not the only
//! possible one is refused here.

use http::HeaderMap;

use crate::canon::truncated;
use crate::classify::Refusal;

/// Header names carrying wire arguments: `x-hgarg-1`, `x-hgarg-2`, …
const ARG_HEADER_PREFIX: &str = "x-hgarg-";
/// The header announcing arguments at the start of the body.
pub(super) const POST_ARGS_HEADER: &str = "x-hgargs-post";
/// More argument headers than any client sends (hg splits at 1 KiB per header by default).
const MAX_ARG_HEADERS: usize = 4096;

/// Decoded arguments from one source, keys unique, values ASCII.
pub(super) type Args = Vec<(String, String)>;

/// The concatenated `X-HgArg-N` values, or `None` when there are none.
pub(super) fn header_args(headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    let mut indexed: Vec<(usize, &str)> = Vec::new();
    for name in headers.keys() {
        let name = name.as_str();
        if name.contains('_') && name.replace('_', "-").starts_with("x-hgarg") {
            return Err(bad_header("x-hgarg-*", "must not contain '_'"));
        }
        let Some(suffix) = name.strip_prefix(ARG_HEADER_PREFIX) else {
            continue;
        };
        // Only a name that passed this check is quoted later: it is `x-hgarg-` and digits.
        let index = arg_index(suffix).ok_or_else(|| {
            bad_header(
                "x-hgarg-*",
                "must be numbered 1, 2, … without leading zeros",
            )
        })?;
        let mut values = headers.get_all(name).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return Err(bad_header(name, "is repeated"));
        };
        let value = value
            .to_str()
            .map_err(|_| bad_header(name, "is not visible ASCII"))?;
        // hg serve drops an empty value (ending the chain there) and strips surrounding
        // whitespace; CGI and WSGI servers pass both as sent. hg's client sends neither.
        if value.is_empty() || value.trim_matches([' ', '\t']).len() != value.len() {
            return Err(bad_header(
                name,
                "is empty or starts or ends with whitespace",
            ));
        }
        indexed.push((index, value));
    }
    if indexed.is_empty() {
        return Ok(None);
    }
    if indexed.len() > MAX_ARG_HEADERS {
        return Err(bad_header("x-hgarg-*", "too many argument headers"));
    }
    indexed.sort_unstable_by_key(|(index, _)| *index);
    let mut joined = String::new();
    for (expected, (index, value)) in (1..).zip(indexed) {
        if index != expected {
            return Err(bad_header(
                &format!("{ARG_HEADER_PREFIX}{expected}"),
                "is missing while a later index is present",
            ));
        }
        joined.push_str(value);
    }
    Ok(Some(joined))
}

/// A header index as hg writes it: decimal, from 1, no leading zero.
fn arg_index(suffix: &str) -> Option<usize> {
    let digits = suffix.bytes().all(|b| b.is_ascii_digit());
    if suffix.is_empty() || !digits || suffix.starts_with('0') || suffix.len() > 9 {
        return None;
    }
    suffix.parse().ok()
}

/// The `X-HgArgs-Post` length, if the header is present. hg itself sends `len(args)` in
/// decimal and never 0 (it only sets the header when there are arguments), so anything else
/// — leading zeros, signs, spaces, 0, more than nine digits — is refused. How many bytes
/// the proxy buffers is its own cap (`[limits] body_prefix_bytes`), checked when settling.
pub(super) fn post_length(headers: &HeaderMap) -> Result<Option<usize>, Refusal> {
    let mut values = headers.get_all(POST_ARGS_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(bad_header(POST_ARGS_HEADER, "is repeated"));
    }
    let text = value
        .to_str()
        .map_err(|_| bad_header(POST_ARGS_HEADER, "is not a decimal length"))?;
    let decimal = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !decimal || text.starts_with('0') || text.len() > 9 {
        return Err(bad_header(
            POST_ARGS_HEADER,
            "must be a positive decimal length without leading zeros",
        ));
    }
    let length: usize = text
        .parse()
        .map_err(|_| bad_header(POST_ARGS_HEADER, "is not a decimal length"))?;
    Ok(Some(length))
}

/// Where an argument string came from, for refusal messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Headers,
    Body,
}

/// Parses an argument string the way hg does, refusing every form hg would read differently
/// from us or that no client produces: empty pairs, pairs without `=`, `;`, bad escapes,
/// non-ASCII results, empty or repeated names.
pub(super) fn parse_form(raw: &str, source: Source) -> Result<Args, Refusal> {
    let mut args: Args = Vec::new();
    if raw.is_empty() {
        return Ok(args);
    }
    if raw.contains(';') {
        return Err(malformed(source, "arguments contain ';'"));
    }
    for pair in raw.split('&') {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(malformed(source, "an argument has no '='"));
        };
        let (Some(name), Some(value)) = (form_decode(name), form_decode(value)) else {
            return Err(malformed(
                source,
                "arguments have a bad escape or non-ASCII text",
            ));
        };
        if name.is_empty() {
            return Err(malformed(source, "an argument has an empty name"));
        }
        if args.iter().any(|(seen, _)| *seen == name) {
            return Err(Refusal::BadArgument {
                vcs: "hg",
                reason: "one is given twice",
            });
        }
        args.push((name, value));
    }
    Ok(args)
}

fn malformed(source: Source, reason: &'static str) -> Refusal {
    match source {
        Source::Headers => bad_header("x-hgarg-*", reason),
        Source::Body => Refusal::BadBody { reason },
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte; the result must
/// be ASCII (hg's `parse_qs` on bytes fails otherwise). `None` for a bad escape.
fn form_decode(raw: &str) -> Option<String> {
    let bytes = crate::canon::percent::decode_form(raw).ok()?;
    String::from_utf8(bytes).ok().filter(|text| text.is_ascii())
}

fn bad_header(name: &str, reason: &'static str) -> Refusal {
    Refusal::BadHeader {
        name: truncated(name),
        reason,
    }
}
