//! The one percent-decoder: strict (every `%` must start a two-hex-digit escape, either
//! case). Used by the path (R2) and query (R3) rules, the svn URLs checked like paths, the
//! built-in Git backend's PATH_INFO, and hg's form-encoded arguments. Nothing else is
//! transformed, except that [`decode_form`] reads `+` as a space (form encoding).

/// A `%` not followed by two hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadEscape;

/// One unit of a percent-encoded string: a byte written as is, or one written as `%XX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Literal(u8),
    Escaped(u8),
}

impl Unit {
    pub fn byte(self) -> u8 {
        match self {
            Unit::Literal(byte) | Unit::Escaped(byte) => byte,
        }
    }
}

/// Splits `raw` into units; a `%` not followed by two hex digits (either case) is an error.
pub fn units(raw: &str) -> Result<Vec<Unit>, BadEscape> {
    let mut out = Vec::with_capacity(raw.len());
    walk(raw, |unit| out.push(unit))?;
    Ok(out)
}

/// Calls `each` with every unit of `raw` in order, stopping at a bad escape.
fn walk(raw: &str, mut each: impl FnMut(Unit)) -> Result<(), BadEscape> {
    let bytes = raw.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let high = bytes.get(i + 1).and_then(|b| hex_value(*b));
            let low = bytes.get(i + 2).and_then(|b| hex_value(*b));
            match (high, low) {
                (Some(high), Some(low)) => each(Unit::Escaped(high << 4 | low)),
                _ => return Err(BadEscape),
            }
            i += 3;
        } else {
            each(Unit::Literal(byte));
            i += 1;
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes. Every other byte is copied (`+` stays `+`).
pub fn decode(raw: &str) -> Result<Vec<u8>, BadEscape> {
    let mut out = Vec::with_capacity(raw.len());
    walk(raw, |unit| out.push(unit.byte()))?;
    Ok(out)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// `application/x-www-form-urlencoded` decoding: like [`decode`], and a literal `+` is a
/// space (an escaped `%2B` stays `+`).
pub fn decode_form(raw: &str) -> Result<Vec<u8>, BadEscape> {
    let mut out = Vec::with_capacity(raw.len());
    walk(raw, |unit| {
        out.push(match unit {
            Unit::Literal(b'+') => b' ',
            other => other.byte(),
        });
    })?;
    Ok(out)
}

/// Decodes and checks that the result is UTF-8 without control characters (C0, DEL, C1).
pub fn decode_text(raw: &str) -> Result<String, TextError> {
    let bytes = decode(raw).map_err(|BadEscape| TextError::BadEscape)?;
    let text = String::from_utf8(bytes).map_err(|_| TextError::NotUtf8)?;
    if text.chars().any(char::is_control) {
        return Err(TextError::Control);
    }
    Ok(text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    BadEscape,
    NotUtf8,
    Control,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_strictly() {
        assert_eq!(decode("a%20b"), Ok(b"a b".to_vec()));
        assert_eq!(decode("%2f%2F"), Ok(b"//".to_vec()));
        assert_eq!(decode("a+b"), Ok(b"a+b".to_vec()));
        assert_eq!(decode("%252F"), Ok(b"%2F".to_vec()));
        for bad in ["%", "%2", "a%g0", "%0g", "%%41", "%-1", "%+1", "% 1"] {
            assert_eq!(decode(bad), Err(BadEscape), "{bad:?}");
        }
        assert_eq!(
            units("a%2f"),
            Ok(vec![Unit::Literal(b'a'), Unit::Escaped(b'/')])
        );
    }

    #[test]
    fn form_decoding_reads_plus_as_space() {
        assert_eq!(decode_form("a+b%2Bc%20d"), Ok(b"a b+c d".to_vec()));
        assert_eq!(decode_form("%zz"), Err(BadEscape));
    }

    #[test]
    fn text_must_be_utf8_without_controls() {
        assert_eq!(decode_text("caf%C3%A9").as_deref(), Ok("café"));
        assert_eq!(decode_text("%C0%AF"), Err(TextError::NotUtf8));
        assert_eq!(decode_text("%FF"), Err(TextError::NotUtf8));
        assert_eq!(decode_text("a%0Ab"), Err(TextError::Control));
        assert_eq!(decode_text("%7F"), Err(TextError::Control));
        assert_eq!(decode_text("%C2%85"), Err(TextError::Control));
    }
}
