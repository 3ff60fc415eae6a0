#!/usr/bin/env python3
"""Captures the receive-pack request bodies real `git push` sends, as golden inputs for the
command-list parser (src/refs/commands/golden.rs).

Serves a scratch bare repository with `git http-backend` (CGI) behind a small HTTP server on
a loopback port, runs real pushes against it (update, new branch + tag, delete, atomic push
with push options, push from a shallow clone, force push, several refs at once), and writes
tests/fixtures/pushes/pushes.jsonl: one line per POST to git-receive-pack with the body up to
the pack (`PACK`…, left out) in hex, and what the scenario pushed — each ref with whether it
is created, updated or deleted, the number of shallow lines to expect, and whether push
options follow the command list. The expectations come from the scenario, not the parser.

Needs git (the one on PATH, with its git-http-backend). Run: scripts/capture-pushes.py
"""
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "pushes" / "pushes.jsonl"
captured = []


def git(*args, cwd=None, env=None):
    full_env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0",
                    GIT_AUTHOR_NAME="a", GIT_AUTHOR_EMAIL="a@example.invalid",
                    GIT_COMMITTER_NAME="a", GIT_COMMITTER_EMAIL="a@example.invalid")
    full_env.update(env or {})
    return subprocess.run(["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, env=full_env,
                          check=True, capture_output=True, text=True).stdout.strip()


class Handler(http.server.BaseHTTPRequestHandler):
    project_root = None

    def log_message(self, *args):
        pass

    def cgi(self, body):
        path, _, query = self.path.partition("?")
        env = {
            "PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": self.project_root,
            "GIT_HTTP_EXPORT_ALL": "1", "REQUEST_METHOD": self.command, "PATH_INFO": path,
            "QUERY_STRING": query, "REMOTE_USER": "capture", "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "GIT_CONFIG_NOSYSTEM": "1", "HOME": self.project_root,
        }
        if body is not None:
            env["CONTENT_LENGTH"] = str(len(body))
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        out = subprocess.run(["git", "http-backend"], input=body or b"", env=env,
                             capture_output=True, check=True).stdout
        head, _, rest = out.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(": ")
            if name.lower() == "status":
                status = int(value.split()[0])
            else:
                headers.append((name, value))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        self.wfile.write(rest)

    def do_GET(self):
        self.cgi(None)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_POST(self):
        body = self.read_body()
        if self.path.endswith("/git-receive-pack"):
            cut = body.find(b"PACK")
            captured.append(body if cut < 0 else body[:cut])
        self.cgi(body)


def main():
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="vcsgate-capture-"))
    try:
        bare = scratch / "repo.git"
        git("init", "-q", "--bare", str(bare))
        git("config", "http.receivepack", "true", cwd=bare)
        git("config", "receive.advertisePushOptions", "true", cwd=bare)
        git("config", "receive.denyDeleteCurrent", "ignore", cwd=bare)
        Handler.project_root = str(scratch)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/repo.git"
        work = scratch / "work"
        git("init", "-q", str(work))
        rows = []

        def commit(directory, name):
            (directory / name).write_text(name + "\n")
            git("add", name, cwd=directory)
            git("commit", "-q", "-m", name, cwd=directory)

        def scenario(name, refs, *args, cwd=work, shallow=0, options=False):
            before = len(captured)
            git("push", *args, cwd=cwd)
            bodies = captured[before:]
            assert len(bodies) == 1, f"{name}: {len(bodies)} receive-pack POSTs"
            rows.append({"name": name, "body_hex": bodies[0].hex(), "git": git("--version"),
                         "refs": refs, "shallow": shallow, "options": options})

        commit(work, "a")
        scenario("create-main", [["refs/heads/main", "create"]], url, "HEAD:refs/heads/main")
        commit(work, "b")
        scenario("update-main", [["refs/heads/main", "update"]], url, "HEAD:refs/heads/main")
        git("tag", "v1.0", cwd=work)
        scenario("branch-and-tag", [["refs/heads/topic", "create"], ["refs/tags/v1.0", "create"]],
                 url, "HEAD:refs/heads/topic", "refs/tags/v1.0")
        scenario("delete", [["refs/heads/topic", "delete"]], url, ":refs/heads/topic")
        commit(work, "c")
        scenario("atomic-with-options",
                 [["refs/heads/main", "update"], ["refs/heads/feature/x", "create"]],
                 "--atomic", "-o", "ci.skip", "-o", "merge_request.create", url,
                 "HEAD:refs/heads/main", "HEAD:refs/heads/feature/x", options=True)
        git("reset", "-q", "--hard", "HEAD~2", cwd=work)
        scenario("force", [["refs/heads/main", "update"]], "--force", url, "HEAD:refs/heads/main")
        shallow = scratch / "shallow"
        git("clone", "-q", "--depth", "1", url, str(shallow))
        commit(shallow, "s")
        scenario("shallow", [["refs/heads/from-shallow", "create"]], url,
                 "HEAD:refs/heads/from-shallow", cwd=shallow, shallow=1)
        server.shutdown()
        OUT.parent.mkdir(parents=True, exist_ok=True)
        with open(OUT, "w") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
        print(f"wrote {len(rows)} pushes to {OUT.relative_to(ROOT)}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
