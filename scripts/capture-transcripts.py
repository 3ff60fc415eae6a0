#!/usr/bin/env python3
"""Capture golden transcripts: the HTTP requests real git, hg and svn clients send.

Starts real backends on loopback ports in a scratch directory (Apache with git-http-backend
and mod_dav_svn, two `hg serve`), puts a small recording reverse proxy in front of them, runs
the real clients through it and writes one JSON line per request to
tests/fixtures/transcripts/{git,hg,svn}.jsonl:

    {"step": ..., "method": ..., "path": ..., "query": ..., "headers": {...},
     "body": ...,  "repo": ..., "expect": "read" | "write"}

`headers` keeps only what classification reads; `body` is the body prefix a verdict needs
(hg `X-HgArgs-Post` arguments, svn MERGE). `expect` comes from the client step that produced
the request: every request of a read-only step (clone, pull, checkout, log…) is a read; in a
step that writes, the requests that carry the write are labelled by the rule of that step
(see `label_*`). The committed fixtures are reviewed by hand; src/classify/transcripts.rs
asserts every request's verdict.

Usage: python3 scripts/capture-transcripts.py [OUTPUT_DIR]
Needs: git, git-http-backend, hg (Mercurial), svn, svnadmin, apache2 with mod_dav_svn
(Debian: apt-get install git mercurial subversion apache2 libapache2-mod-svn). Run as root
(Apache children run as www-data).
"""

import base64
import http.client
import http.server
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
KEPT_HEADERS = ("content-type", "content-encoding", "git-protocol", "destination", "x-hgargs-post")
MERGE_PREFIX = 4096
HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
    "upgrade", "proxy-authorization", "expect", "host", "content-length",
}
READ_METHODS = {"GET", "HEAD", "OPTIONS", "PROPFIND", "REPORT"}
SVN_COMMIT_AREAS = {"act", "wrk", "wbl", "txn", "txr", "vtxn", "vtxr"}
HG_WRITE_COMMANDS = {"unbundle", "pushkey", "putlfile"}


def fail(message):
    print(f"capture-transcripts: {message}", file=sys.stderr)
    sys.exit(1)


def require_tools():
    needed = {
        "git": "git", "hg": "mercurial", "svn": "subversion", "svnadmin": "subversion",
        "apache2": "apache2",
    }
    for tool, package in needed.items():
        if shutil.which(tool) is None:
            fail(f"{tool} not found: apt-get install {package}")
    if not pathlib.Path("/usr/lib/apache2/modules/mod_dav_svn.so").exists():
        fail("mod_dav_svn not found: apt-get install libapache2-mod-svn")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args, cwd=None, env=None, check=True):
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    # `hg push` exits 1 when only bookmarks or phases changed ("no changes found").
    allowed = (0, 1) if args[0] == "hg" and "push" in args else (0,)
    if check and result.returncode not in allowed:
        fail(f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
             f"{result.stdout}\n{result.stderr}")
    return result


def wait_for_port(port, what, process):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            fail(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    fail(f"{what} did not listen on port {port}")


# --- recording reverse proxy --------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.step = None
        self.records = []
        self.routes = {}  # prefix -> (vcs, backend port, strip prefix?, repo of the step)

    def set_step(self, vcs, step, repo):
        with self.lock:
            self.step = (vcs, step, repo)

    def add(self, record):
        with self.lock:
            self.records.append(record)


RECORDER = Recorder()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.proxy
        raise AttributeError(name)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length else b""

    def proxy(self):
        body = self.read_body()
        path, _, query = self.path.partition("?")
        prefix = "/" + path.split("/")[1]
        route = RECORDER.routes.get(prefix)
        if route is None:
            self.send_error(404)
            return
        vcs, port, strip = route
        self.record(vcs, path, query if "?" in self.path else None, body)
        target = self.path[len(prefix):] if strip else self.path
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if "Destination" in headers:
            dest = urllib.parse.urlsplit(headers["Destination"])
            headers["Destination"] = f"http://127.0.0.1:{port}{dest.path}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.request(self.command, target or "/", body=body if body or self.command in ("POST", "PUT") else None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        conn.close()
        self.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() in HOP_BY_HOP:
                continue
            if key.lower() == "location":
                value = value.replace(f"127.0.0.1:{port}", self.headers.get("Host", ""))
            self.send_header(key, value)
        if self.command == "HEAD":
            if response.getheader("Content-Length"):
                self.send_header("Content-Length", response.getheader("Content-Length"))
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def record(self, vcs, path, query, body):
        step_vcs, step, repo = RECORDER.step
        if step_vcs != vcs:
            fail(f"{vcs} request {self.command} {path} during {step_vcs} step {step!r}")
        headers = {}
        for name, value in self.headers.items():
            lower = name.lower()
            if lower in KEPT_HEADERS or lower.startswith("x-hgarg-"):
                headers.setdefault(lower, []).append(value)
        text = None
        if "x-hgargs-post" in headers:
            text = body[: int(headers["x-hgargs-post"][0])].decode("ascii")
        elif self.command == "MERGE":
            text = body[:MERGE_PREFIX].decode("utf-8")
        record = {
            "vcs": vcs, "step": step, "method": self.command, "path": path, "query": query,
            "headers": headers, "body": text, "repo": repo,
        }
        record["expect"] = LABELS[vcs](step, record)
        RECORDER.add(record)


# --- labels: which requests of a step write -------------------------------------------------

def label_git(step, record):
    if step in ("git clone v0", "git clone v2", "git fetch v2", "git ls-remote"):
        return "read"
    receive = record["path"].endswith("/git-receive-pack") or record["query"] == "service=git-receive-pack"
    return "write" if receive else "read"


def label_hg(step, record):
    if step in ("hg clone", "hg pull", "hg identify", "hgweb pages", "hg clone (post args)",
                "hg clone largefiles"):
        return "read"
    query = urllib.parse.parse_qs(record["query"] or "")
    command = query.get("cmd", [""])[0]
    if command in HG_WRITE_COMMANDS:
        return "write"
    if command == "batch":
        raw = "".join(v[0] for k, v in sorted(record["headers"].items()) if k.startswith("x-hgarg-"))
        raw = raw or (record["body"] or "")
        cmds = urllib.parse.parse_qs(raw).get("cmds", [""])[0]
        ops = {element.split(" ", 1)[0] for element in cmds.split(";")}
        return "write" if ops & HG_WRITE_COMMANDS else "read"
    return "read"


def label_svn(step, record):
    if step in ("svn checkout", "svn update", "svn log", "svn list", "svn cat", "svn info"):
        return "read"
    parts = record["path"].split("/")
    special = parts[3:5] if len(parts) > 4 and parts[3] == "!svn" else []
    in_commit_area = len(special) == 2 and special[1] in SVN_COMMIT_AREAS
    if record["method"] in READ_METHODS and not in_commit_area:
        return "read"
    return "write"


LABELS = {"git": label_git, "hg": label_hg, "svn": label_svn}


# --- backends -------------------------------------------------------------------------------

APACHE_CONF = """
ServerRoot "/etc/apache2"
ServerName 127.0.0.1
PidFile {scratch}/apache.pid
Listen 127.0.0.1:{port}
User www-data
Group www-data
ErrorLog {scratch}/error.log
LogFormat "%h %m %U%q %>s %b" plain
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authn_anon_module /usr/lib/apache2/modules/mod_authn_anon.so
LoadModule auth_basic_module /usr/lib/apache2/modules/mod_auth_basic.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
TypesConfig /etc/mime.types
LoadModule dav_module /usr/lib/apache2/modules/mod_dav.so
LoadModule dav_svn_module /usr/lib/apache2/modules/mod_dav_svn.so
CustomLog {scratch}/access.log plain
ScriptSock {scratch}/cgid.sock
SetEnv GIT_PROJECT_ROOT {scratch}/git
SetEnv GIT_HTTP_EXPORT_ALL 1
ScriptAlias /git/ {exec_path}/git-http-backend/
<Directory "{exec_path}">
  Require all granted
</Directory>
<Location /svn>
  DAV svn
  SVNParentPath {scratch}/svn
  AuthType Basic
  AuthName svn
  AuthBasicProvider anon
  Anonymous *
  Anonymous_NoUserID off
  Anonymous_MustGiveEmail off
  Require valid-user
</Location>
<Location /svnv1>
  DAV svn
  SVNParentPath {scratch}/svn
  SVNAdvertiseV2Protocol Off
  AuthType Basic
  AuthName svn
  AuthBasicProvider anon
  Anonymous *
  Anonymous_NoUserID off
  Anonymous_MustGiveEmail off
  Require valid-user
</Location>
"""


def start_apache(scratch, port):
    exec_path = run("git", "--exec-path").stdout.strip()
    if not pathlib.Path(exec_path, "git-http-backend").exists():
        fail(f"git-http-backend not found in {exec_path}")
    conf = scratch / "apache.conf"
    conf.write_text(APACHE_CONF.format(scratch=scratch, port=port, exec_path=exec_path))
    env = dict(os.environ, APACHE_RUN_DIR=str(scratch), APACHE_LOCK_DIR=str(scratch),
               APACHE_LOG_DIR=str(scratch))
    process = subprocess.Popen(["apache2", "-f", str(conf), "-DFOREGROUND"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, "apache2", process)
    return process


def start_hg(scratch, port, name, extra):
    conf = scratch / f"{name}.conf"
    conf.write_text(
        "[web]\nallow-push = *\npush_ssl = false\n[paths]\n"
        f"team/app = {scratch / name / 'app'}\nteam/big = {scratch / name / 'big'}\n"
    )
    home = scratch / f"{name}-home"
    home.mkdir()
    process = subprocess.Popen(
        ["hg", "serve", "--web-conf", str(conf), "--address", "127.0.0.1", "--port", str(port),
         "--config", "extensions.largefiles=",
         "--config", f"largefiles.usercache={home / 'lfcache'}", *extra],
        env=dict(os.environ, HOME=str(home)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, f"hg serve ({name})", process)
    return process


# --- repositories and client steps ---------------------------------------------------------

class Session:
    def __init__(self, scratch, proxy_port):
        self.scratch = scratch
        self.url = f"http://127.0.0.1:{proxy_port}"
        home = scratch / "home"
        home.mkdir()
        (home / ".hgrc").write_text("[ui]\nusername = Test <test@example.org>\n")
        self.env = dict(
            os.environ, HOME=str(home), GIT_CONFIG_NOSYSTEM="1", LANG="C", LC_ALL="C",
            GIT_AUTHOR_NAME="Test", GIT_AUTHOR_EMAIL="test@example.org",
            GIT_COMMITTER_NAME="Test", GIT_COMMITTER_EMAIL="test@example.org",
            GIT_TERMINAL_PROMPT="0", HGPLAIN="1",
        )
        self.work = scratch / "work"
        self.work.mkdir()

    def step(self, vcs, name, repo, *commands):
        RECORDER.set_step(vcs, name, repo)
        for command, cwd in commands:
            run(*command, cwd=cwd or self.work, env=self.env)

    def write(self, path, text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def setup_git(s):
    bare = s.scratch / "git" / "team" / "app.git"
    run("git", "init", "-q", "--bare", "-b", "main", str(bare), env=s.env)
    run("git", "-C", str(bare), "config", "http.receivepack", "true", env=s.env)
    seed = s.scratch / "seed-git"
    run("git", "init", "-q", "-b", "main", str(seed), env=s.env)
    s.write(seed / "README", "hello\n")
    run("git", "-C", str(seed), "add", "README", env=s.env)
    run("git", "-C", str(seed), "commit", "-q", "-m", "seed", env=s.env)
    run("git", "-C", str(seed), "push", "-q", str(bare), "main", env=s.env)


def git_steps(s):
    base = f"{s.url}/git/team/app.git"
    repo = "team/app.git"
    c0, c2 = s.work / "git-v0", s.work / "git-v2"
    s.step("git", "git clone v0", repo, (["git", "-c", "protocol.version=0", "clone", "-q", base, str(c0)], None))
    s.step("git", "git clone v2", repo, (["git", "-c", "protocol.version=2", "clone", "-q", base, str(c2)], None))
    s.write(c0 / "a.txt", "a\n")
    run("git", "add", "a.txt", cwd=c0, env=s.env)
    run("git", "commit", "-q", "-m", "a", cwd=c0, env=s.env)
    s.step("git", "git push", repo, (["git", "push", "-q", "origin", "HEAD"], c0))
    s.step("git", "git fetch v2", repo, (["git", "-c", "protocol.version=2", "fetch", "-q"], c2))
    s.step("git", "git ls-remote", repo, (["git", "ls-remote", base], None))
    run("git", "tag", "v1", cwd=c0, env=s.env)
    s.step("git", "git push", repo,
           (["git", "push", "-q", "origin", "HEAD:refs/heads/feature", "refs/tags/v1"], c0))
    s.step("git", "git push", repo, (["git", "push", "-q", "origin", ":refs/heads/feature"], c0))


def setup_hg(s, name):
    for repo in ("app", "big"):
        path = s.scratch / name / repo
        run("hg", "init", str(path), env=s.env)
        (path / ".hg" / "hgrc").write_text("[phases]\npublish = False\n")
        if repo == "app":
            s.write(path / "README", "hello\n")
            run("hg", "add", "README", cwd=path, env=s.env)
        else:
            s.write(path / "blob.bin", "large\n" * 100)
            run("hg", "--config", "extensions.largefiles=", "add", "--large", "blob.bin",
                cwd=path, env=s.env)
        run("hg", "--config", "extensions.largefiles=", "commit", "-m", "seed", cwd=path,
            env=s.env)


def hg_commit(s, clone, name, large=False):
    s.write(clone / name, f"{name}\n")
    add = ["hg", "--config", "extensions.largefiles=", "add"] + (["--large"] if large else [])
    run(*add, name, cwd=clone, env=s.env)
    run("hg", "--config", "extensions.largefiles=", "commit", "-m", name, cwd=clone, env=s.env)


def hg_steps(s):
    base = f"{s.url}/hg/team/app"
    a, b = s.work / "hg-a", s.work / "hg-b"
    repo = "team/app"
    s.step("hg", "hg clone", repo, (["hg", "clone", "-q", base, str(a)], None),
           (["hg", "clone", "-q", base, str(b)], None))
    hg_commit(s, a, "one")
    s.step("hg", "hg push", repo, (["hg", "push", "-q"], a))
    s.step("hg", "hg pull", repo, (["hg", "pull", "-q"], b))
    run("hg", "bookmark", "feature", cwd=a, env=s.env)
    s.step("hg", "hg push bookmark", repo, (["hg", "push", "-q", "-B", "feature"], a))
    run("hg", "phase", "--public", "-r", ".", cwd=a, env=s.env)
    s.step("hg", "hg phase publish", repo, (["hg", "push", "-q"], a))
    hg_commit(s, a, "two")
    run("hg", "bookmark", "-f", "feature", cwd=a, env=s.env)
    s.step("hg", "hg push (bundle1)", repo,
           (["hg", "--config", "devel.legacy.exchange=bundle1", "push", "-q", "-B", "feature"], a))
    run("hg", "phase", "--public", "-r", ".", cwd=a, env=s.env)
    s.step("hg", "hg phase publish (bundle1)", repo,
           (["hg", "--config", "devel.legacy.exchange=bundle1", "push", "-q"], a))
    s.step("hg", "hg pull", repo, (["hg", "pull", "-q", "-u"], b))
    s.step("hg", "hg identify", repo, (["hg", "identify", "-r", "tip", base], None))
    RECORDER.set_step("hg", "hgweb pages", repo)
    for page in ("", "/log", "/json-log", "/raw-file/tip/README", "/rev/tip", "/graph",
                 "/tags", "/bookmarks", "/shortlog", "/static/style-paper.css", "/help/config", "/file/tip/README"):
        with urllib.request.urlopen(base + page, timeout=30) as response:
            response.read()

    post = f"{s.url}/hgpost/team/app"
    p = s.work / "hg-post"
    s.step("hg", "hg clone (post args)", repo, (["hg", "clone", "-q", post, str(p)], None))
    hg_commit(s, p, "three")
    run("hg", "bookmark", "posted", cwd=p, env=s.env)
    s.step("hg", "hg push (post args)", repo, (["hg", "push", "-q", "-B", "posted"], p))
    hg_commit(s, p, "four")
    s.step("hg", "hg push (post args, bundle1)", repo,
           (["hg", "--config", "devel.legacy.exchange=bundle1", "push", "-q", "-B", "posted"], p))

    big = f"{s.url}/hg/team/big"
    lf = s.work / "hg-big"
    # A fresh user cache makes the clone download the large files (getlfile).
    fresh_cache = f"largefiles.usercache={s.scratch / 'lfcache'}"
    lfs = ["hg", "--config", "extensions.largefiles=", "--config", fresh_cache]
    s.step("hg", "hg clone largefiles", "team/big", ([*lfs, "clone", "-q", big, str(lf)], None))
    hg_commit(s, lf, "more.bin", large=True)
    s.step("hg", "hg push largefiles", "team/big", ([*lfs, "push", "-q"], lf))


def setup_svn(s):
    repo = s.scratch / "svn" / "repo"
    repo.parent.mkdir(parents=True)
    run("svnadmin", "create", str(repo))
    hook = repo / "hooks" / "pre-revprop-change"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o755)


def svn_steps(s, prefix):
    base = f"{s.url}/{prefix}/repo"
    suffix = "" if prefix == "svn" else " (v1)"
    wc = s.work / f"svn-wc-{prefix}"
    svn = ["svn", "--non-interactive", "--no-auth-cache", "--username", "alice", "--password",
           "secret", "--config-dir", str(s.scratch / "svnconfig")]
    repo = "repo"

    def step(name, *commands):
        s.step("svn", name + suffix, repo, *commands)

    if prefix == "svn":
        step("svn mkdir", ([*svn, "mkdir", "-m", "init", f"{base}/trunk", f"{base}/tags"], None))
    step("svn checkout", ([*svn, "checkout", "-q", f"{base}/trunk", str(wc)], None))
    name = f"file-{prefix}.txt"
    s.write(wc / name, "one\n")
    run(*svn, "add", "-q", name, cwd=wc, env=s.env)
    step("svn commit", ([*svn, "commit", "-q", "-m", "add"], wc))
    s.write(wc / name, "two\n")
    step("svn commit", ([*svn, "commit", "-q", "-m", "edit"], wc))
    step("svn update", ([*svn, "update", "-q"], wc))
    step("svn log", ([*svn, "log", "-q", base], None))
    step("svn list", ([*svn, "list", "-R", base], None))
    step("svn cat", ([*svn, "cat", f"{base}/trunk/{name}"], None))
    step("svn info", ([*svn, "info", f"{base}/trunk"], None))
    step("svn copy", ([*svn, "copy", "-m", "tag", f"{base}/trunk", f"{base}/tags/{prefix}"], None))
    run(*svn, "copy", "-q", name, f"copy-{name}", cwd=wc, env=s.env)
    step("svn copy (working copy)", ([*svn, "commit", "-q", "-m", "copy"], wc))
    step("svn move", ([*svn, "move", "-m", "move", f"{base}/trunk/copy-{name}",
                       f"{base}/trunk/moved-{name}"], None))
    step("svn lock", ([*svn, "lock", "-m", "mine", name], wc))
    step("svn unlock", ([*svn, "unlock", name], wc))
    step("svn propset --revprop", ([*svn, "propset", "-q", "--revprop", "-r", "1", "svn:log",
                                    "changed", base], None))
    step("svn propset", ([*svn, "propset", "-q", "color", "blue", name], wc),
         ([*svn, "commit", "-q", "-m", "prop"], wc))
    step("svn delete", ([*svn, "delete", "-m", "drop", f"{base}/tags/{prefix}"], None))


def write_fixtures(out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    for vcs in ("git", "hg", "svn"):
        rows = [r for r in RECORDER.records if r["vcs"] == vcs]
        if not rows:
            fail(f"no {vcs} requests recorded")
        with open(out_dir / f"{vcs}.jsonl", "w") as f:
            for row in rows:
                f.write(json.dumps(row, sort_keys=True) + "\n")
        writes = sum(r["expect"] == "write" for r in rows)
        print(f"{vcs}: {len(rows)} requests, {writes} writes -> {out_dir / (vcs + '.jsonl')}")


def main():
    require_tools()
    out_dir = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests/fixtures/transcripts"
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="vcsgate-transcripts-"))
    scratch.chmod(0o755)
    processes = []
    proxy = None
    try:
        apache_port, hg_port, hgpost_port, proxy_port = (free_port() for _ in range(4))
        session = Session(scratch, proxy_port)
        setup_git(session)
        setup_svn(session)
        setup_hg(session, "hg")
        setup_hg(session, "hgpost")
        run("chown", "-R", "www-data:www-data", str(scratch / "git"), str(scratch / "svn"))
        processes.append(start_apache(scratch, apache_port))
        processes.append(start_hg(scratch, hg_port, "hg", []))
        processes.append(start_hg(scratch, hgpost_port, "hgpost",
                                  ["--config", "experimental.httppostargs=true"]))
        RECORDER.routes = {
            "/git": ("git", apache_port, False),
            "/svn": ("svn", apache_port, False),
            "/svnv1": ("svn", apache_port, False),
            "/hg": ("hg", hg_port, True),
            "/hgpost": ("hg", hgpost_port, True),
        }
        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", proxy_port), ProxyHandler)
        proxy.daemon_threads = True
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        git_steps(session)
        hg_steps(session)
        svn_steps(session, "svn")
        svn_steps(session, "svnv1")
        write_fixtures(out_dir)
    finally:
        if proxy is not None:
            proxy.shutdown()
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
