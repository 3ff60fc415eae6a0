//! Decoding a backend's `Transfer-Encoding: chunked` body (RFC 9112 §7.1) incrementally,
//! straight out of the connection's read buffer: data is split off the buffer, never copied.
//! Strict: a malformed size line, a missing CRLF after data or an oversized line ends the
//! body with an error (the connection is then dropped, never reused).

use bytes::{Buf, Bytes, BytesMut};

/// The longest size or trailer line accepted (extensions included).
const MAX_LINE: usize = 4096;
/// The most trailer bytes accepted after the last chunk.
const MAX_TRAILERS: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Chunked {
    /// Expecting a chunk-size line.
    #[default]
    Size,
    /// Inside a chunk's data: this many bytes still to come.
    Data(u64),
    /// After a chunk's data: expecting CRLF.
    DataEnd,
    /// After the last chunk: trailer lines until an empty one (bytes seen so far).
    Trailers(usize),
    /// The body ended.
    Done,
}

/// What one decoding step found.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    Data(Bytes),
    /// The buffer holds no complete next element: read more.
    NeedMore,
    End,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed chunked body from the backend")]
pub struct ChunkError;

impl Chunked {
    /// Takes the next piece out of `buf`.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Decoded, ChunkError> {
        loop {
            match *self {
                Chunked::Size => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    let size = chunk_size(&line)?;
                    *self = if size == 0 {
                        Chunked::Trailers(0)
                    } else {
                        Chunked::Data(size)
                    };
                }
                Chunked::Data(remaining) => {
                    if buf.is_empty() {
                        return Ok(Decoded::NeedMore);
                    }
                    let n = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(buf.len());
                    let left = remaining - n as u64;
                    *self = if left == 0 {
                        Chunked::DataEnd
                    } else {
                        Chunked::Data(left)
                    };
                    return Ok(Decoded::Data(buf.split_to(n).freeze()));
                }
                Chunked::DataEnd => {
                    if buf.len() < 2 {
                        return Ok(Decoded::NeedMore);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ChunkError);
                    }
                    buf.advance(2);
                    *self = Chunked::Size;
                }
                Chunked::Trailers(seen) => {
                    let Some(line) = take_line(buf)? else {
                        return Ok(Decoded::NeedMore);
                    };
                    if line.is_empty() {
                        *self = Chunked::Done;
                        return Ok(Decoded::End);
                    }
                    let seen = seen + line.len() + 2;
                    if seen > MAX_TRAILERS {
                        return Err(ChunkError);
                    }
                    *self = Chunked::Trailers(seen);
                }
                Chunked::Done => return Ok(Decoded::End),
            }
        }
    }
}

/// The next CRLF-terminated line without its CRLF, or `None` when it is not complete yet.
fn take_line(buf: &mut BytesMut) -> Result<Option<BytesMut>, ChunkError> {
    let window = &buf[..buf.len().min(MAX_LINE + 2)];
    match window.iter().position(|b| *b == b'\n') {
        Some(end) => {
            if end == 0 || buf[end - 1] != b'\r' {
                return Err(ChunkError);
            }
            let mut line = buf.split_to(end + 1);
            line.truncate(end - 1);
            Ok(Some(line))
        }
        None if window.len() > MAX_LINE => Err(ChunkError),
        None => Ok(None),
    }
}

/// `1*HEXDIG [ BWS ";" extensions ]`: the size, at most 16 hex digits.
fn chunk_size(line: &[u8]) -> Result<u64, ChunkError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 || digits > 16 {
        return Err(ChunkError);
    }
    let rest = &line[digits..];
    let rest = rest.trim_ascii_start();
    if !(rest.is_empty() || rest.starts_with(b";")) {
        return Err(ChunkError);
    }
    if rest.iter().any(|b| *b == b'\r' || *b == b'\n' || *b == 0) {
        return Err(ChunkError);
    }
    let hex = std::str::from_utf8(&line[..digits]).map_err(|_| ChunkError)?;
    u64::from_str_radix(hex, 16).map_err(|_| ChunkError)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Decodes `input` fed in pieces of `step` bytes; the data and whether it ended.
    fn decode_in_steps(input: &[u8], step: usize) -> Result<(Vec<u8>, bool), ChunkError> {
        let mut decoder = Chunked::default();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match decoder.decode(&mut buf)? {
                    Decoded::Data(data) => out.extend_from_slice(&data),
                    Decoded::NeedMore => break,
                    Decoded::End => return Ok((out, true)),
                }
            }
        }
        Ok((out, false))
    }

    #[test]
    fn chunks_extensions_and_trailers_decode_in_any_split() {
        let body =
            b"5\r\nhello\r\n1;name=value\r\n \r\n10 ; x\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n";
        for step in 1..body.len() + 1 {
            let (data, ended) = decode_in_steps(body, step).unwrap();
            assert_eq!(data, b"hello 0123456789abcdef", "step {step}");
            assert!(ended, "step {step}");
        }
    }

    #[test]
    fn bytes_after_the_end_stay_in_the_buffer() {
        let mut decoder = Chunked::default();
        let mut buf = BytesMut::from(&b"2\r\nok\r\n0\r\n\r\nHTTP/1.1 200"[..]);
        assert_eq!(
            decoder.decode(&mut buf).unwrap(),
            Decoded::Data(Bytes::from_static(b"ok"))
        );
        assert_eq!(decoder.decode(&mut buf).unwrap(), Decoded::End);
        assert_eq!(&buf[..], b"HTTP/1.1 200");
        assert_eq!(decoder.decode(&mut buf).unwrap(), Decoded::End);
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let bad: [&[u8]; 9] = [
            b"\r\n",
            b"x\r\n",
            b"5\r\nhelloXX",
            b"5\nhello\r\n",
            b"-1\r\n",
            b"+5\r\nhello\r\n",
            b"11111111111111111\r\n",
            b"5 x\r\nhello\r\n",
            b"0\r\nX-T: 1\n\r\n",
        ];
        for input in bad {
            assert_eq!(decode_in_steps(input, 64), Err(ChunkError), "{input:?}");
        }
        let long = [b"1;".as_slice(), &[b'a'; MAX_LINE + 10]].concat();
        assert_eq!(decode_in_steps(&long, 64), Err(ChunkError));
        let mut trailers = b"0\r\n".to_vec();
        for _ in 0..1000 {
            trailers.extend_from_slice(b"X-Trailer: 0123456789\r\n");
        }
        assert_eq!(decode_in_steps(&trailers, 4096), Err(ChunkError));
    }

    #[test]
    fn an_incomplete_body_has_not_ended() {
        let (data, ended) = decode_in_steps(b"5\r\nhel", 2).unwrap();
        assert_eq!(data, b"hel");
        assert!(!ended);
    }
}
