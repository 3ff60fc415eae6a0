//! The pre-receive hook that refuses rewinds of protected refs on the built-in backend.
//!
//! A rewind cannot be seen in the command list (the new commits arrive in the pack), so for a
//! push that updates protected refs the proxy runs git with `core.hooksPath` pointing at a
//! directory of its own whose `pre-receive` checks `git merge-base --is-ancestor old new`
//! for each ref named in `VCSGATE_NO_REWIND` (`ref<TAB>rule` lines; the proxy matched the
//! patterns already). Refusing in pre-receive refuses the whole push, and git relays the
//! hook's stderr to `git push` as `remote:` lines. The repository's own hooks still run: the
//! directory holds a wrapper for each hook receive-pack runs, which calls the repository's
//! hook of that name if it is executable (pre-receive with the same input).
//!
//! The directory is created once per process under the system temp directory (mode 0700).

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The environment variable naming the refs whose rewinds are refused.
pub const NO_REWIND_VAR: &str = "VCSGATE_NO_REWIND";

const PRE_RECEIVE: &str = r#"#!/bin/sh
# Installed by vcsgate: refuses rewinds (non-fast-forward updates) of the refs listed in
# VCSGATE_NO_REWIND ("ref<TAB>rule" lines), then runs the repository's own pre-receive hook.
input=$(cat)
tab=$(printf '\t')
refused=$(printf '%s\n' "$input" | while read -r old new ref; do
  [ -n "$ref" ] || continue
  rule=$(printf '%s\n' "$VCSGATE_NO_REWIND" | while IFS="$tab" read -r name text; do
    if [ "$name" = "$ref" ]; then printf '%s' "$text"; break; fi
  done)
  [ -n "$rule" ] || continue
  case $old in *[!0]*) ;; *) continue ;; esac
  case $new in *[!0]*) ;; *) continue ;; esac
  if ! git merge-base --is-ancestor "$old" "$new" 2>/dev/null; then
    echo "vcsgate: push refused: $ref: protected ref may not be rewound ($rule)"
  fi
done)
if [ -n "$refused" ]; then
  printf '%s\n' "$refused" >&2
  exit 1
fi
hook="$(git rev-parse --absolute-git-dir)/hooks/pre-receive"
if [ -x "$hook" ]; then
  printf '%s\n' "$input" | "$hook"
  exit $?
fi
exit 0
"#;

/// Hooks receive-pack may run besides pre-receive: each calls the repository's own.
const CHAINED: &[&str] = &[
    "update",
    "post-receive",
    "post-update",
    "reference-transaction",
    "push-to-checkout",
];

fn chained(name: &str) -> String {
    format!(
        "#!/bin/sh\n# Installed by vcsgate: runs the repository's own {name} hook, if any.\n\
         hook=\"$(git rev-parse --absolute-git-dir)/hooks/{name}\"\n\
         if [ -x \"$hook\" ]; then exec \"$hook\" \"$@\"; fi\nexit 0\n"
    )
}

/// The installed hooks directory, removed when the last backend using it is dropped (at
/// shutdown).
#[derive(Debug)]
pub struct HooksDir(PathBuf);

impl HooksDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for HooksDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Creates the hooks directory: a fresh directory below `parent`.
pub fn install(parent: &Path) -> std::io::Result<HooksDir> {
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|e| std::io::Error::other(e.to_string()))?;
    let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let dir = parent.join(format!("vcsgate-hooks-{}-{hex}", std::process::id()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    if let Err(error) = write_script(&dir.join("pre-receive"), PRE_RECEIVE) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(error);
    }
    let installed = HooksDir(dir);
    for name in CHAINED {
        write_script(&installed.0.join(name), &chained(name))?;
    }
    Ok(installed)
}

fn write_script(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o700)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_directory_holds_executable_hooks_and_goes_away_when_dropped() {
        let parent = tempfile::tempdir().unwrap();
        let dir = install(parent.path()).unwrap();
        let path = dir.path().to_path_buf();
        use std::os::unix::fs::PermissionsExt;
        for name in std::iter::once("pre-receive").chain(CHAINED.iter().copied()) {
            let mode = std::fs::metadata(path.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700, "{name}");
        }
        drop(dir);
        assert!(!path.exists());
    }
}
