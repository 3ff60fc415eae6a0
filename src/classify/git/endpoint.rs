//! The Git endpoints, matched on the last path segments exactly as git-http-backend's
//! service table does: each of its patterns is anchored at the end of PATH_INFO
//! (`/info/refs$`, `/objects/[0-9a-f]{2}/[0-9a-f]{38}$`, …) and everything before the match
//! is the repository. Matching is exact and case-sensitive (R9); hex is lower case only.

/// A path suffix git-http-backend serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
    /// `info/refs`: smart advertisement or dumb ref list, depending on the query.
    InfoRefs,
    /// `git-upload-pack` (POST).
    UploadPack,
    /// `git-upload-archive` (POST).
    UploadArchive,
    /// `git-receive-pack` (POST).
    ReceivePack,
    /// A dumb-protocol file: `HEAD`, `objects/info/…`, a loose object, a pack or its index.
    DumbFile,
}

impl Endpoint {
    /// Whether the endpoint takes POST (otherwise GET or HEAD).
    pub(super) fn is_rpc(self) -> bool {
        match self {
            Endpoint::UploadPack | Endpoint::UploadArchive | Endpoint::ReceivePack => true,
            Endpoint::InfoRefs | Endpoint::DumbFile => false,
        }
    }
}

/// The endpoint `segments` end with, and how many segments it spans.
pub(super) fn match_suffix<S: AsRef<str>>(segments: &[S]) -> Option<(Endpoint, usize)> {
    let back = |n: usize| {
        segments
            .len()
            .checked_sub(n)
            .and_then(|i| segments.get(i))
            .map(AsRef::as_ref)
    };
    let (third, second, last) = (back(3), back(2), back(1)?);
    match last {
        "HEAD" => return Some((Endpoint::DumbFile, 1)),
        "git-upload-pack" => return Some((Endpoint::UploadPack, 1)),
        "git-upload-archive" => return Some((Endpoint::UploadArchive, 1)),
        "git-receive-pack" => return Some((Endpoint::ReceivePack, 1)),
        "refs" if second == Some("info") => return Some((Endpoint::InfoRefs, 2)),
        _ => {}
    }
    if third != Some("objects") {
        return None;
    }
    let dumb = match second? {
        "info" => matches!(last, "packs" | "alternates" | "http-alternates"),
        "pack" => is_pack_file(last),
        dir => is_hex(dir, &[2]) && is_hex(last, &[38, 62]),
    };
    dumb.then_some((Endpoint::DumbFile, 3))
}

/// `pack-<40 or 64 hex>.pack` or `.idx`.
fn is_pack_file(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("pack-") else {
        return false;
    };
    rest.strip_suffix(".pack")
        .or_else(|| rest.strip_suffix(".idx"))
        .is_some_and(|hash| is_hex(hash, &[40, 64]))
}

/// Lower-case hex of one of the given lengths (SHA-1 and SHA-256 object names).
fn is_hex(text: &str, lengths: &[usize]) -> bool {
    lengths.contains(&text.len()) && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether the path reaches Git LFS (`…/info/lfs/…`).
pub(super) fn is_lfs<S: AsRef<str>>(segments: &[S]) -> bool {
    lfs_at(segments).is_some()
}

/// Where the first `info/lfs` starts.
pub(super) fn lfs_at<S: AsRef<str>>(segments: &[S]) -> Option<usize> {
    segments
        .windows(2)
        .position(|w| w[0].as_ref() == "info" && w[1].as_ref() == "lfs")
}
