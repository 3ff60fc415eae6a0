//! Repositories for the backends: bare Git repositories with history, Subversion
//! repositories, Mercurial repositories.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::process::{self, Output};
use super::{git, hg, tools};

/// Who must be able to write a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Apache's children (www-data when the tests run as root).
    Apache,
    /// The test process itself (vcsgate's built-in backend, `hg serve`).
    Me,
}

fn hand_over(path: &Path, owner: Owner) {
    if owner == Owner::Apache {
        tools::give_to_apache(path);
    }
}

/// Creates the bare repository `root/rel` (e.g. `team/app.git`) with two commits on `main`
/// (HEAD → main) and `http.receivepack=true`; returns its path.
pub fn git_bare(root: &Path, rel: &str, owner: Owner) -> PathBuf {
    let bare = root.join(rel);
    let scratch = tempfile::tempdir().expect("create scratch dir");
    let work = scratch.path().join("work");
    let home = scratch.path();
    let git = |args: &[&str], cwd: &Path| -> Output {
        let mut cmd = git::command(home);
        cmd.args(args).current_dir(cwd);
        process::run(&mut cmd).assert_ok()
    };
    git(&["init", "-q", "-b", "main", "work"], home);
    for (file, text) in [("README", "first\n"), ("NOTES", "second\n")] {
        fs::write(work.join(file), text).expect("write file");
        git(&["add", file], &work);
        git(&["commit", "-q", "-m", &format!("add {file}")], &work);
    }
    fs::create_dir_all(bare.parent().expect("repo has a parent")).expect("create parent");
    let bare_arg = bare.to_str().expect("UTF-8 path");
    git(&["clone", "-q", "--bare", "work", bare_arg], home);
    git(&["config", "http.receivepack", "true"], &bare);
    git(&["remote", "remove", "origin"], &bare);
    hand_over(&top_dir(root, rel), owner);
    bare
}

/// `git rev-parse REV` in a backend repository (whoever owns it); `None` if REV is unknown.
pub fn git_rev(repo: &Path, rev: &str) -> Option<String> {
    let home = tempfile::tempdir().expect("create scratch dir");
    let mut cmd = git::command(home.path());
    cmd.args(["-c", "safe.directory=*", "--git-dir"])
        .arg(repo)
        .args(["rev-parse", "--verify", "--quiet", rev]);
    let out = process::run(&mut cmd);
    out.ok().then(|| out.stdout.trim().to_string())
}

/// A `git` command (as [`git::command`]) that trusts repositories of any owner, also in the
/// processes a local clone or push starts (they do not see `-c`): for a test process working
/// in repositories that belong to Apache's user.
pub fn git_any_owner(home: &Path) -> Command {
    let global = home.join("trust-all.gitconfig");
    fs::write(&global, "[safe]\n\tdirectory = *\n").expect("write a git config");
    let mut cmd = git::command(home);
    cmd.env("GIT_CONFIG_GLOBAL", global);
    cmd
}

/// Creates the Subversion repository `root/name` (`svnadmin create`); returns its path.
pub fn svn(root: &Path, name: &str, owner: Owner) -> PathBuf {
    let repo = root.join(name);
    let mut cmd = Command::new(tools::svnadmin());
    cmd.arg("create").arg(&repo);
    process::run(&mut cmd).assert_ok();
    hand_over(&repo, owner);
    repo
}

/// The youngest revision and its author of a Subversion repository (`svnlook`).
pub fn svn_youngest(repo: &Path) -> (u64, String) {
    let svnlook = tools::require("svnlook", "subversion");
    let mut cmd = Command::new(&svnlook);
    cmd.arg("youngest").arg(repo);
    let rev = process::run(&mut cmd).assert_ok().stdout.trim().to_string();
    let mut cmd = Command::new(&svnlook);
    cmd.arg("author").arg(repo);
    let author = process::run(&mut cmd).assert_ok().stdout.trim().to_string();
    (
        rev.parse().expect("svnlook youngest prints a number"),
        author,
    )
}

/// `svnlook SUBCOMMAND REPO ARGS…` (svnlook takes options after the repository too, e.g.
/// `-r 1`, and `lock` takes the path in the repository); fails the test unless it succeeds.
pub fn svnlook(repo: &Path, subcommand: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(tools::require("svnlook", "subversion"));
    cmd.arg(subcommand).arg(repo).args(args);
    process::run(&mut cmd).assert_ok().stdout
}

/// Fills a new repository with revision 1 (author `setup`, log `initial layout`):
/// `trunk/README`, `trunk/file.txt`, `branches/`. Runs as the test process, so it hands the
/// repository over to `owner` again afterwards.
pub fn svn_initial_layout(repo: &Path, owner: Owner) {
    let scratch = tempfile::tempdir().expect("create scratch dir");
    let tree = scratch.path().join("tree");
    fs::create_dir_all(tree.join("trunk")).expect("create trunk");
    fs::create_dir_all(tree.join("branches")).expect("create branches");
    fs::write(tree.join("trunk/README"), "readme\n").expect("write README");
    fs::write(tree.join("trunk/file.txt"), "one\n").expect("write file.txt");
    let mut cmd = Command::new(tools::svn());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", scratch.path())
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .arg("--config-dir")
        .arg(scratch.path().join(".subversion"))
        .args(["--non-interactive", "--username", "setup", "import", "-m"])
        .arg("initial layout")
        .arg(&tree)
        .arg(format!("file://{}", repo.display()));
    process::run(&mut cmd).assert_ok();
    hand_over(repo, owner);
}

/// Installs a `pre-revprop-change` hook that accepts every change (without one, Subversion
/// refuses revision property changes).
pub fn svn_allow_revprop_changes(repo: &Path, owner: Owner) {
    use std::os::unix::fs::PermissionsExt;
    let hook = repo.join("hooks/pre-revprop-change");
    fs::write(&hook, "#!/bin/sh\nexit 0\n").expect("write pre-revprop-change");
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).expect("chmod hook");
    hand_over(repo, owner);
}

/// Creates the Mercurial repository `root/rel` with one commit; returns its path.
pub fn hg(root: &Path, rel: &str) -> PathBuf {
    let repo = root.join(rel);
    fs::create_dir_all(&repo).expect("create hg repo dir");
    let client = hg::HgClient::new();
    client.run(&["init", "."], Some(&repo)).assert_ok();
    fs::write(repo.join("README"), "first\n").expect("write file");
    client.run(&["add", "README"], Some(&repo)).assert_ok();
    client
        .run(&["commit", "-m", "add README"], Some(&repo))
        .assert_ok();
    repo
}

/// `hg log -r REV -T {node}` in a backend repository.
pub fn hg_rev(repo: &Path, rev: &str) -> Option<String> {
    let out = hg::HgClient::new().run(&["log", "-r", rev, "-T", "{node}"], Some(repo));
    out.ok().then(|| out.stdout.trim().to_string())
}

/// `hg bookmarks` of a backend repository, one `NAME NODE` line per bookmark, sorted.
pub fn hg_bookmarks(repo: &Path) -> String {
    let out = hg::HgClient::new().run(&["bookmarks", "-T", "{bookmark} {node}\n"], Some(repo));
    out.assert_ok().stdout
}

/// The phase of REV in a backend repository as `hg phase -r REV` prints it: `N: public`.
pub fn hg_phase(repo: &Path, rev: &str) -> String {
    let out = hg::HgClient::new().run(&["phase", "-r", rev], Some(repo));
    out.assert_ok().stdout.trim().to_string()
}

/// The first path segment of `rel` under `root` (so new parent directories change owner too).
fn top_dir(root: &Path, rel: &str) -> PathBuf {
    let first = rel.split('/').find(|s| !s.is_empty()).unwrap_or(rel);
    root.join(first)
}

/// The body of a `POST …/git-receive-pack` that moves `main` of the backend repository
/// `bare` to a new commit (a command pkt-line asking for `report-status`, a flush, a pack):
/// exactly what `git push` sends. Returns the body and the new commit id. `bare` is not
/// changed.
pub fn git_push_request(bare: &Path) -> (Vec<u8>, String) {
    use std::io::Write as _;
    let scratch = tempfile::tempdir().expect("create scratch dir");
    let work = scratch.path().join("work");
    let git = |args: &[&str], cwd: &Path| -> String {
        let mut cmd = git_any_owner(scratch.path());
        cmd.args(args).current_dir(cwd);
        process::run(&mut cmd).assert_ok().stdout.trim().to_string()
    };
    let bare_arg = bare.to_str().expect("UTF-8 path");
    git(&["clone", "-q", bare_arg, "work"], scratch.path());
    let old = git(&["rev-parse", "HEAD"], &work);
    fs::write(work.join("pushed.txt"), "pushed\n").expect("write file");
    git(&["add", "pushed.txt"], &work);
    git(&["commit", "-q", "-m", "pushed"], &work);
    let new = git(&["rev-parse", "HEAD"], &work);
    let mut cmd = git_any_owner(scratch.path());
    let mut pack_objects = cmd
        .args(["pack-objects", "--stdout", "--revs", "-q"])
        .current_dir(&work)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start git pack-objects");
    let revs = format!("{new}\n^{old}\n");
    pack_objects
        .stdin
        .take()
        .expect("stdin of git pack-objects")
        .write_all(revs.as_bytes())
        .expect("write revisions to git pack-objects");
    let pack = pack_objects
        .wait_with_output()
        .expect("run git pack-objects");
    assert!(
        pack.status.success() && pack.stdout.starts_with(b"PACK"),
        "git pack-objects failed"
    );
    let command = format!("{old} {new} refs/heads/main\0report-status\n");
    let mut body = format!("{:04x}{command}0000", command.len() + 4).into_bytes();
    body.extend_from_slice(&pack.stdout);
    (body, new)
}
