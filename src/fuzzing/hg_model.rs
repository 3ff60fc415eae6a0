//! Which commands a `batch` carries, read the way hg's `httpv1protocolhandler._args` and
//! `wireprotov1server.batch` read them — written independently of vcsgate's classifier, to
//! check its verdicts against. Deliberately generous: `cmds` from every source (query,
//! `X-HgArg-N` headers, the `X-HgArgs-Post` body prefix) is collected, so a read verdict is
//! suspicious if any of them names a write command.

use http::HeaderMap;
use percent_encoding::percent_decode;

/// hg's write commands (PROTOCOLS.md §3).
pub const WRITE_COMMANDS: &[&str] = &["unbundle", "pushkey", "putlfile"];

/// Every op named in any `cmds` argument.
pub fn batched_ops(raw_query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Vec<String> {
    let mut sources: Vec<Vec<u8>> = vec![raw_query.unwrap_or_default().as_bytes().to_vec()];
    let mut joined = Vec::new();
    for index in 1.. {
        match headers.get(format!("x-hgarg-{index}")) {
            Some(value) => joined.extend_from_slice(value.as_bytes()),
            None => break,
        }
    }
    sources.push(joined);
    let post_len = headers
        .get("x-hgargs-post")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if let Some(len) = post_len {
        sources.push(body[..len.min(body.len())].to_vec());
    }
    let mut ops = Vec::new();
    for source in sources {
        for (key, value) in parse_qs(&source) {
            if key == "cmds" {
                for item in value.split(';') {
                    ops.push(item.split(' ').next().unwrap_or_default().to_owned());
                }
            }
        }
    }
    ops
}

/// Python's `parse_qs`: `&`-separated, `+` is a space, `%XX` decoded.
fn parse_qs(text: &[u8]) -> Vec<(String, String)> {
    let decode = |part: &[u8]| {
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        String::from_utf8_lossy(&percent_decode(&spaced).collect::<Vec<u8>>()).into_owned()
    };
    text.split(|b| *b == b'&')
        .filter(|item| !item.is_empty())
        .map(|item| match item.iter().position(|b| *b == b'=') {
            Some(eq) => (decode(&item[..eq]), decode(&item[eq + 1..])),
            None => (decode(item), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn ops_from_every_source() {
        let mut headers = HeaderMap::new();
        headers.insert("x-hgarg-1", HeaderValue::from_static("cmds=heads+%3Bpush"));
        headers.insert(
            "x-hgarg-2",
            HeaderValue::from_static("key+namespace%3Dphases"),
        );
        headers.insert("x-hgarg-4", HeaderValue::from_static("cmds=unbundle"));
        let ops = batched_ops(Some("cmd=batch&cmds=known+nodes="), &headers, b"");
        assert_eq!(ops, ["known", "heads", "pushkey"]);
        headers.insert("x-hgargs-post", HeaderValue::from_static("16"));
        let ops = batched_ops(None, &headers, b"cmds=putlfile+x&cmds=ignored");
        assert_eq!(ops, ["heads", "pushkey", "putlfile"]);
    }
}
