//! The environment of one `git http-backend` run, built from scratch (the child's environment
//! is cleared first, so nothing of vcsgate's own environment leaks in).
//!
//! Configuration isolation: `GIT_CONFIG_NOSYSTEM=1` and `GIT_CONFIG_GLOBAL=/dev/null` make git
//! ignore `/etc/gitconfig` and the service user's `~/.gitconfig`, and `HOME=/nonexistent` (the
//! Debian convention for users without a home) leaves nothing else under a home directory to
//! read or write. Only the repositories' own config and the values below apply; values given
//! through `GIT_CONFIG_COUNT` have command-line precedence, so a repository's config cannot
//! re-enable receive-pack for a read.
//!
//! `safe.directory=*`: git refuses repositories owned by another user than the one running it
//! ("dubious ownership"), a guard for people who `cd` into someone else's directory. Here the
//! operator chose the project root in vcsgate's config, and the proxy names the repository
//! directory below it exactly (`super::repository`; git http-backend also refuses aliases
//! such as `..`), so the check only gets in the
//! way of the usual setup where a deploy user owns the repositories and vcsgate runs as a
//! service user. git honours `safe.directory` only from protected scopes, which include the
//! command-line scope `GIT_CONFIG_COUNT` feeds.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

use http::header::{self, HeaderName};

use super::{CgiError, CgiRequest};
use crate::vocabulary::Access;

/// `HOME` of the child: a directory that does not exist.
pub const CHILD_HOME: &str = "/nonexistent";

/// `PATH` used when vcsgate itself runs without one.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// The header carrying the Git protocol version (`version=2`).
const GIT_PROTOCOL: HeaderName = HeaderName::from_static("git-protocol");

/// Builds the complete environment for one request. `path_info` is the decoded PATH_INFO
/// naming the repository directory exactly (`super::repository`); `path` is the `PATH` to
/// give the child (hooks need one); `content_length` is the request body's length when known.
pub fn build(
    project_root: &Path,
    req: &CgiRequest<'_>,
    path_info: OsString,
    content_length: Option<u64>,
    path: &OsStr,
) -> Vec<(&'static str, OsString)> {
    let receive_pack = match req.access {
        Access::Read => "false",
        Access::Write => "true",
    };
    let mut env: Vec<(&'static str, OsString)> = vec![
        ("PATH", path.to_owned()),
        ("HOME", CHILD_HOME.into()),
        ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ("GIT_CONFIG_GLOBAL", "/dev/null".into()),
        ("GIT_CONFIG_COUNT", "2".into()),
        ("GIT_CONFIG_KEY_0", "http.receivepack".into()),
        ("GIT_CONFIG_VALUE_0", receive_pack.into()),
        ("GIT_CONFIG_KEY_1", "safe.directory".into()),
        ("GIT_CONFIG_VALUE_1", "*".into()),
        ("GATEWAY_INTERFACE", "CGI/1.1".into()),
        ("SERVER_PROTOCOL", "HTTP/1.1".into()),
        ("GIT_PROJECT_ROOT", project_root.as_os_str().to_owned()),
        ("GIT_HTTP_EXPORT_ALL", "1".into()),
        ("REQUEST_METHOD", req.method.as_str().into()),
        ("PATH_INFO", path_info),
        ("QUERY_STRING", req.query.unwrap_or("").into()),
        ("REMOTE_ADDR", req.remote_addr.ip().to_string().into()),
    ];
    if let Some(length) = content_length {
        env.push(("CONTENT_LENGTH", length.to_string().into()));
    }
    let from_headers = [
        ("CONTENT_TYPE", header::CONTENT_TYPE),
        ("HTTP_CONTENT_ENCODING", header::CONTENT_ENCODING),
        ("HTTP_GIT_PROTOCOL", GIT_PROTOCOL),
    ];
    for (var, name) in from_headers {
        if let Some(value) = req.headers.get(name) {
            env.push((var, OsString::from_vec(value.as_bytes().to_vec())));
        }
    }
    if let (Access::Write, Some(user)) = (req.access, req.remote_user) {
        env.push(("REMOTE_USER", user.into()));
    }
    env
}

/// Adds the pre-receive hook that refuses rewinds of `checks` (`super::hooks`):
/// `core.hooksPath` as one more command-line config value, and the refs with their rules.
pub fn guard_rewinds(
    env: &mut Vec<(&'static str, OsString)>,
    hooks: &Path,
    checks: &[crate::refs::RewindCheck],
) {
    for (name, value) in env.iter_mut() {
        if *name == "GIT_CONFIG_COUNT" {
            *value = "3".into();
        }
    }
    env.push(("GIT_CONFIG_KEY_2", "core.hooksPath".into()));
    env.push(("GIT_CONFIG_VALUE_2", hooks.as_os_str().to_owned()));
    let lines: Vec<String> = checks
        .iter()
        .map(|check| format!("{}\t{}", check.name, check.rule))
        .collect();
    env.push((super::hooks::NO_REWIND_VAR, lines.join("\n").into()));
}

/// CGI's `PATH_INFO` is decoded (Apache decodes it too; git http-backend uses it as a file
/// path). The canonicaliser already refused every escape that could change the path's shape;
/// this decodes with the same strict decoder, re-checks the result and refuses anything but
/// plain `/segment/segment`.
pub(super) fn decode_path_info(raw: &str) -> Result<OsString, CgiError> {
    let unsafe_path = || CgiError::UnsafePathInfo {
        path_info: raw.to_owned(),
    };
    let decoded = crate::canon::percent::decode(raw).map_err(|_| unsafe_path())?;
    let shaped = decoded.first() == Some(&b'/')
        && !decoded.iter().any(|&b| b == 0 || b == b'\\')
        && decoded[1..]
            .split(|&b| b == b'/')
            .all(|segment| !matches!(segment, b"" | b"." | b".."));
    if shaped {
        Ok(OsString::from_vec(decoded))
    } else {
        Err(unsafe_path())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue, Method};

    fn request<'a>(
        method: &'a Method,
        path_info: &'a str,
        headers: &'a HeaderMap,
        access: Access,
    ) -> CgiRequest<'a> {
        CgiRequest {
            method,
            path_info,
            query: Some("service=git-upload-pack"),
            headers,
            remote_addr: "192.0.2.7:4711".parse().unwrap(),
            remote_user: Some("alice"),
            access,
            no_rewind: &[],
        }
    }

    fn get<'e>(env: &'e [(&'static str, OsString)], name: &str) -> Option<&'e str> {
        env.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_str().unwrap())
    }

    #[test]
    fn read_forces_receive_pack_off_and_sends_no_user() {
        let headers = HeaderMap::new();
        let req = request(
            &Method::GET,
            "/team/app.git/info/refs",
            &headers,
            Access::Read,
        );
        let path_info = decode_path_info(req.path_info).unwrap();
        let env = build(
            Path::new("/srv/git"),
            &req,
            path_info,
            None,
            OsStr::new("/bin"),
        );
        assert_eq!(get(&env, "GIT_CONFIG_KEY_0"), Some("http.receivepack"));
        assert_eq!(get(&env, "GIT_CONFIG_VALUE_0"), Some("false"));
        assert_eq!(get(&env, "REMOTE_USER"), None);
        assert_eq!(get(&env, "CONTENT_LENGTH"), None);
        assert_eq!(get(&env, "PATH_INFO"), Some("/team/app.git/info/refs"));
        assert_eq!(get(&env, "QUERY_STRING"), Some("service=git-upload-pack"));
        assert_eq!(get(&env, "REMOTE_ADDR"), Some("192.0.2.7"));
        assert_eq!(get(&env, "GIT_PROJECT_ROOT"), Some("/srv/git"));
        assert_eq!(get(&env, "GIT_CONFIG_VALUE_1"), Some("*"));
    }

    #[test]
    fn write_enables_receive_pack_and_names_the_user() {
        let mut headers = HeaderMap::new();
        let ct = "application/x-git-receive-pack-request";
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert("git-protocol", HeaderValue::from_static("version=2"));
        let req = request(
            &Method::POST,
            "/app.git/git-receive-pack",
            &headers,
            Access::Write,
        );
        let path_info = decode_path_info(req.path_info).unwrap();
        let env = build(
            Path::new("/srv/git"),
            &req,
            path_info,
            Some(12),
            OsStr::new("/bin"),
        );
        assert_eq!(get(&env, "GIT_CONFIG_VALUE_0"), Some("true"));
        assert_eq!(get(&env, "REMOTE_USER"), Some("alice"));
        assert_eq!(get(&env, "CONTENT_LENGTH"), Some("12"));
        assert_eq!(get(&env, "CONTENT_TYPE"), Some(ct));
        assert_eq!(get(&env, "HTTP_CONTENT_ENCODING"), Some("gzip"));
        assert_eq!(get(&env, "HTTP_GIT_PROTOCOL"), Some("version=2"));
        assert_eq!(get(&env, "REQUEST_METHOD"), Some("POST"));
    }

    #[test]
    fn each_variable_is_set_once() {
        let headers = HeaderMap::new();
        let req = request(&Method::GET, "/a.git/info/refs", &headers, Access::Write);
        let path_info = decode_path_info(req.path_info).unwrap();
        let env = build(
            Path::new("/r"),
            &req,
            path_info,
            Some(0),
            OsStr::new("/bin"),
        );
        let mut names: Vec<_> = env.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }

    #[test]
    fn path_info_is_decoded_and_must_stay_plain() {
        assert_eq!(
            decode_path_info("/team/my%20app.git/info/refs").unwrap(),
            OsString::from("/team/my app.git/info/refs")
        );
        for bad in [
            "",
            "team/app.git",
            "/",
            "//app.git",
            "/a/../b",
            "/a/./b",
            "/a/%2e%2e/b",
            "/a%00b",
            "/a%5cb",
            "/a\\b",
            "/a/b/",
            "/a/%2E/b",
            "/a%zz",
            "/a%2",
        ] {
            assert!(
                matches!(decode_path_info(bad), Err(CgiError::UnsafePathInfo { .. })),
                "{bad:?} should be refused"
            );
        }
    }
}
