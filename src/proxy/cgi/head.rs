//! The CGI response head (RFC 3875 §6): header lines up to an empty line, with the status
//! carried in a `Status:` header. A pure, incremental parser: feed it the bytes read so far.

use http::StatusCode;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

/// The most bytes a CGI head may take; git http-backend sends a few hundred.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A complete CGI response head.
#[derive(Debug)]
pub struct CgiHead {
    pub status: StatusCode,
    pub headers: HeaderMap,
}

/// The result of looking at the bytes read so far.
#[derive(Debug)]
pub enum Parsed {
    /// The head ended; `consumed` bytes belong to it, the rest is body.
    Complete { head: CgiHead, consumed: usize },
    /// No empty line yet: read more (unless the buffer already holds `MAX_HEAD_BYTES`).
    NeedMore,
}

/// Why a head is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("CGI head longer than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("CGI header line {line} has no colon")]
    NoColon { line: usize },
    #[error("CGI header line {line} is a folded continuation line")]
    Folded { line: usize },
    #[error("CGI header line {line} has an invalid name")]
    BadName { line: usize },
    #[error("CGI header line {line} has an invalid value")]
    BadValue { line: usize },
    #[error("CGI Status header on line {line} is not a status code between 100 and 599")]
    BadStatus { line: usize },
    #[error("CGI head has {header} twice")]
    Duplicate { header: &'static str },
    #[error("CGI Content-Length on line {line} is not a decimal number")]
    BadContentLength { line: usize },
    #[error("CGI head uses a Location redirect, which vcsgate does not support")]
    Location,
}

/// Parses `buf`, the start of a CGI program's stdout. Lines end in `\n` or `\r\n`.
/// Hop-by-hop headers are dropped; a header repeated with the same value is kept once
/// (git http-backend repeats its no-cache headers on errors).
pub fn parse(buf: &[u8]) -> Result<Parsed, HeadError> {
    let mut status = None;
    let mut headers = HeaderMap::new();
    let mut pos = 0;
    let mut line_no = 0;
    loop {
        let Some(offset) = buf[pos..].iter().position(|&b| b == b'\n') else {
            return if buf.len() >= MAX_HEAD_BYTES {
                Err(HeadError::TooLarge {
                    limit: MAX_HEAD_BYTES,
                })
            } else {
                Ok(Parsed::NeedMore)
            };
        };
        let end = pos + offset;
        if end + 1 > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge {
                limit: MAX_HEAD_BYTES,
            });
        }
        let line = buf[pos..end].strip_suffix(b"\r").unwrap_or(&buf[pos..end]);
        pos = end + 1;
        line_no += 1;
        if line.is_empty() {
            let head = CgiHead {
                status: status.unwrap_or(StatusCode::OK),
                headers,
            };
            return Ok(Parsed::Complete {
                head,
                consumed: pos,
            });
        }
        match parse_line(line, line_no)? {
            Line::Status(_) if status.is_some() => {
                return Err(HeadError::Duplicate { header: "Status" });
            }
            Line::Status(code) => status = Some(code),
            Line::Header(name, value) => add(&mut headers, name, value, line_no)?,
        }
    }
}

enum Line {
    Status(StatusCode),
    Header(HeaderName, HeaderValue),
}

fn parse_line(line: &[u8], line_no: usize) -> Result<Line, HeadError> {
    if line[0] == b' ' || line[0] == b'\t' {
        return Err(HeadError::Folded { line: line_no });
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(HeadError::NoColon { line: line_no })?;
    let name =
        HeaderName::from_bytes(&line[..colon]).map_err(|_| HeadError::BadName { line: line_no })?;
    let value = line[colon + 1..].trim_ascii();
    if name.as_str() == "status" {
        return parse_status(value)
            .map(Line::Status)
            .ok_or(HeadError::BadStatus { line: line_no });
    }
    let value =
        HeaderValue::from_bytes(value).map_err(|_| HeadError::BadValue { line: line_no })?;
    Ok(Line::Header(name, value))
}

/// `"403 Forbidden"` → 403. Three digits, then the end or a space and a reason phrase.
fn parse_status(value: &[u8]) -> Option<StatusCode> {
    let (code, rest) = value.split_at_checked(3)?;
    if !code.iter().all(u8::is_ascii_digit) || !(rest.is_empty() || rest[0] == b' ') {
        return None;
    }
    let code = StatusCode::from_bytes(code).ok()?;
    (100..=599).contains(&code.as_u16()).then_some(code)
}

fn add(
    headers: &mut HeaderMap,
    name: HeaderName,
    value: HeaderValue,
    line_no: usize,
) -> Result<(), HeadError> {
    if crate::canon::hop_by_hop::is_hop_by_hop(name.as_str().as_bytes()) {
        return Ok(());
    }
    if name == header::LOCATION {
        return Err(HeadError::Location);
    }
    if name == header::CONTENT_LENGTH {
        let digits = value.as_bytes();
        let valid = !digits.is_empty()
            && digits.iter().all(u8::is_ascii_digit)
            && value
                .to_str()
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .is_some();
        if !valid {
            return Err(HeadError::BadContentLength { line: line_no });
        }
        if headers.contains_key(header::CONTENT_LENGTH) {
            return Err(HeadError::Duplicate {
                header: "Content-Length",
            });
        }
    }
    if name == header::CONTENT_TYPE && headers.contains_key(header::CONTENT_TYPE) {
        return Err(HeadError::Duplicate {
            header: "Content-Type",
        });
    }
    if !headers.get_all(&name).iter().any(|v| v == value) {
        headers.append(name, value);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn complete(buf: &[u8]) -> (CgiHead, usize) {
        match parse(buf).unwrap() {
            Parsed::Complete { head, consumed } => (head, consumed),
            Parsed::NeedMore => panic!("expected a complete head for {buf:?}"),
        }
    }

    #[test]
    fn git_advertisement_head_defaults_to_200_and_keeps_the_body() {
        let buf = b"Expires: Fri, 01 Jan 1980 00:00:00 GMT\r\nPragma: no-cache\r\n\
            Content-Type: application/x-git-upload-pack-advertisement\r\n\r\n001e# service";
        let (head, consumed) = complete(buf);
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(
            head.headers[header::CONTENT_TYPE],
            "application/x-git-upload-pack-advertisement"
        );
        assert_eq!(&buf[consumed..], b"001e# service");
    }

    #[test]
    fn status_header_sets_the_status_and_repeated_headers_are_kept_once() {
        let buf = b"Pragma: no-cache\r\nStatus: 403 Forbidden\r\nPragma: no-cache\r\n\r\n";
        let (head, consumed) = complete(buf);
        assert_eq!(head.status, StatusCode::FORBIDDEN);
        assert_eq!(head.headers.get_all("pragma").iter().count(), 1);
        assert!(!head.headers.contains_key("status"));
        assert_eq!(consumed, buf.len());
    }

    #[test]
    fn bare_newlines_end_lines_too() {
        let buf = b"status: 404\nContent-Type: text/plain\n\nbody";
        let (head, consumed) = complete(buf);
        assert_eq!(head.status, StatusCode::NOT_FOUND);
        assert_eq!(&buf[consumed..], b"body");
    }

    #[test]
    fn incomplete_heads_ask_for_more() {
        for buf in [
            &b""[..],
            b"Content-Type: text/plain\r\n",
            b"Status: 200",
            b"X: y\r\n\r",
        ] {
            assert!(matches!(parse(buf), Ok(Parsed::NeedMore)), "{buf:?}");
        }
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let (head, _) =
            complete(b"Connection: close\r\nTransfer-Encoding: chunked\r\nTE: x\r\n\r\n");
        assert!(head.headers.is_empty());
    }

    #[test]
    fn malformed_heads_are_refused() {
        let rows: [(&[u8], HeadError); 12] = [
            (b"NoColonHere\r\n\r\n", HeadError::NoColon { line: 1 }),
            (b"A: b\r\n folded\r\n\r\n", HeadError::Folded { line: 2 }),
            (b"Bad Name: x\r\n\r\n", HeadError::BadName { line: 1 }),
            (b": x\r\n\r\n", HeadError::BadName { line: 1 }),
            (b"X: a\x01b\r\n\r\n", HeadError::BadValue { line: 1 }),
            (b"Status: 99 Low\r\n\r\n", HeadError::BadStatus { line: 1 }),
            (b"Status: 600\r\n\r\n", HeadError::BadStatus { line: 1 }),
            (b"Status: 2000 OK\r\n\r\n", HeadError::BadStatus { line: 1 }),
            (
                b"Status: 200\r\nStatus: 403\r\n\r\n",
                HeadError::Duplicate { header: "Status" },
            ),
            (
                b"Content-Length: -1\r\n\r\n",
                HeadError::BadContentLength { line: 1 },
            ),
            (
                b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",
                HeadError::Duplicate {
                    header: "Content-Length",
                },
            ),
            (b"Location: /elsewhere\r\n\r\n", HeadError::Location),
        ];
        for (buf, expected) in rows {
            assert_eq!(parse(buf).unwrap_err(), expected, "{buf:?}");
        }
    }

    #[test]
    fn heads_beyond_the_limit_are_refused() {
        let long = vec![b'a'; MAX_HEAD_BYTES];
        assert!(matches!(parse(&long), Err(HeadError::TooLarge { .. })));
        let mut line = b"X: ".to_vec();
        line.extend(vec![b'a'; MAX_HEAD_BYTES]);
        line.extend(b"\r\n\r\n");
        assert!(matches!(parse(&line), Err(HeadError::TooLarge { .. })));
    }
}
