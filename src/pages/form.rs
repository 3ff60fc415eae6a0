//! Form bodies (`application/x-www-form-urlencoded`) and cookies, parsed strictly: a
//! malformed escape or a non-UTF-8 value refuses the whole request.

use percent_encoding::percent_decode_str;

/// A parsed form: its fields in order (a checkbox group repeats its name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

/// Why a form body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the form is malformed")]
pub struct Malformed;

fn decode(text: &str) -> Result<String, Malformed> {
    let plus = text.replace('+', " ");
    if plus.contains('%') {
        let bytes = plus.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'%' {
                let hex = bytes.get(i + 1..i + 3).ok_or(Malformed)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(Malformed);
                }
            }
        }
    }
    percent_decode_str(&plus)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Malformed)
}

impl Form {
    /// Parses a urlencoded body.
    pub fn parse(body: &[u8]) -> Result<Form, Malformed> {
        let text = std::str::from_utf8(body).map_err(|_| Malformed)?;
        let mut fields = Vec::new();
        for item in text.split('&').filter(|i| !i.is_empty()) {
            let (name, value) = item.split_once('=').unwrap_or((item, ""));
            fields.push((decode(name)?, decode(value)?));
        }
        Ok(Form(fields))
    }

    /// The value of a field given once; `None` when absent. A field given twice reads as
    /// absent too (ambiguous, so not believed).
    pub fn get<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        let mut values = self.all(name);
        match (values.next(), values.next()) {
            (Some(value), None) => Some(value),
            _ => None,
        }
    }

    /// Every value of a field (checkbox groups).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// A trimmed single value, empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").trim().to_owned()
    }
}

/// The value of cookie `name` in a `Cookie` header value, when given exactly once.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let mut found = header.split(';').filter_map(|pair| {
        let (n, v) = pair.trim().split_once('=')?;
        (n == name).then_some(v)
    });
    match (found.next(), found.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn forms_decode_and_repeat_checkboxes() {
        let form = Form::parse(
            b"name=ci+bot&scopes=read_repository&scopes=api&repos=git%2Fa%0D%0Agit%2Fb&empty=",
        )
        .unwrap();
        assert_eq!(form.get("name"), Some("ci bot"));
        assert_eq!(
            form.all("scopes").collect::<Vec<_>>(),
            ["read_repository", "api"]
        );
        assert_eq!(
            form.get("scopes"),
            None,
            "a repeated field is not one value"
        );
        assert_eq!(form.get("repos"), Some("git/a\r\ngit/b"));
        assert_eq!(form.get("empty"), Some(""));
        assert_eq!(form.get("missing"), None);
        for bad in [&b"a=%zz"[..], b"a=%4", b"a=%ff", b"\xff=1"] {
            assert_eq!(Form::parse(bad), Err(Malformed), "{bad:?}");
        }
    }

    #[test]
    fn cookies_are_found_once_or_not_at_all() {
        assert_eq!(
            cookie("a=1; vcsgate_session=xyz; b=2", "vcsgate_session"),
            Some("xyz")
        );
        assert_eq!(
            cookie("vcsgate_session=1; vcsgate_session=2", "vcsgate_session"),
            None
        );
        assert_eq!(cookie("other=1", "vcsgate_session"), None);
    }
}
