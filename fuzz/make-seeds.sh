#!/usr/bin/env bash
# Regenerates the committed seed corpus under fuzz/seeds/<target>/.
# canonicalise and the classifiers get every request of the git/hg/svn JSONL transcripts
# (tests/fixtures/transcripts/) in the fuzz input form (see src/fuzzing/head.rs):
#   METHOD TARGET [HTTP/…]\nName: value\n…[\n\nbody]
# plus a few hand-written requests; the other targets get hand-written inputs only. Files
# are named by content hash, so duplicates collapse and reruns are stable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seeds="$here/seeds"

# seed TARGET TEXT — TEXT goes through printf %b, so \n and \xHH escapes work.
seed() {
    local dir="$seeds/$1" tmp
    mkdir -p "$dir"
    tmp=$(mktemp)
    printf '%b' "$2" >"$tmp"
    mv "$tmp" "$dir/$(sha1sum "$tmp" | cut -c1-16)"
}

rm -rf "$seeds"

# The JSONL transcripts real git, hg and svn clients produced (src/classify/transcripts.rs):
# every request for canonicalise, and each protocol's for its classifier.
python3 - "$here/../tests/fixtures/transcripts" "$seeds" <<'PY'
import hashlib, json, os, sys
source, seeds = sys.argv[1], sys.argv[2]
for fixture in ("git", "git-cgi", "hg", "svn"):
    with open(os.path.join(source, fixture + ".jsonl")) as lines:
        for line in lines:
            row = json.loads(line)
            target = row["path"] + ("?" + row["query"] if row["query"] is not None else "")
            text = row["method"] + " " + target + "\n"
            for name, values in row["headers"].items():
                text += "".join(name + ": " + value + "\n" for value in values)
            if row["body"] is not None:
                text += "\n" + row["body"]
            data = text.encode()
            for fuzz_target in ("canonicalise", "classify_" + row["vcs"]):
                directory = os.path.join(seeds, fuzz_target)
                os.makedirs(directory, exist_ok=True)
                name = hashlib.sha1(data).hexdigest()[:16]
                with open(os.path.join(directory, name), "wb") as out:
                    out.write(data)
PY

# Git variants the transcript does not have: HTTP/2, encoded service, absolute form.
for text in \
    'GET /team/app.git/info/refs?service=git%2Dreceive-pack HTTP/2\n' \
    'POST /team/app.git/git-receive-pack?service=git-upload-pack\nContent-Type: application/x-git-receive-pack-request\n' \
    'GET http://h/team/app.git/info/refs?service=git-upload-pack HTTP/1.1\n' \
    'GET /team/%2e%2e/app.git/HEAD\nX-Original-URL: /x\n'; do
    seed canonicalise "$text"
    seed classify_git "$text"
done

# Git LFS (PROTOCOLS.md §2): batch with its body, objects, locks.
oid=4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393
for text in \
    'POST /team/app.git/info/lfs/objects/batch\nContent-Type: application/vnd.git-lfs+json\n\n{"operation":"download","transfers":["basic"],"objects":[{"oid":"'$oid'","size":3}]}' \
    'POST /team/app.git/info/lfs/objects/batch\nContent-Type: application/vnd.git-lfs+json\n\n{"operation":"upload","objects":[],"ref":{"name":"refs/heads/main"}}' \
    'POST /team/app.git/info/lfs/objects/batch\n\n{"operation":"download","Operation":"upload"}' \
    "GET /team/app.git/info/lfs/objects/$oid\n" \
    "PUT /team/app.git/info/lfs/objects/$oid\nContent-Type: application/octet-stream\n\nabc" \
    "POST /team/app.git/info/lfs/objects/$oid/verify\n\n{\"oid\":\"$oid\",\"size\":3}" \
    'GET /team/app.git/info/lfs/locks?path=a.bin&limit=5\n' \
    'POST /team/app.git/info/lfs/locks\n\n{"path":"a.bin"}' \
    'POST /team/app.git/info/lfs/locks/verify\n\n{}' \
    'POST /team/app.git/info/lfs/locks/17/unlock\n\n{"force":true}'; do
    seed canonicalise "$text"
    seed classify_git "$text"
done
for text in \
    '{"operation":"download","transfers":["basic"],"objects":[{"oid":"'$oid'","size":3}],"hash_algo":"sha256"}' \
    '{"operation":"upload","objects":[{"oid":"'$oid'","size":3}],"ref":{"name":"refs/heads/main"}}' \
    '{"operation":"download","operation":"upload"}' \
    '{"OPERATION":"download"}' \
    '{"oper\\u0061tion":"download"}' \
    '{"x":{"operation":"upload"},"operation":"download"}' \
    '["operation","download"]' \
    '{"operation":"download"'; do
    seed lfs_batch "$text"
done

# Receive-pack command lists: one update with capabilities, shallow + several commands,
# push options after the flush, a delete, a signed push.
a=1111111111111111111111111111111111111111
b=2222222222222222222222222222222222222222
z=0000000000000000000000000000000000000000
pkt() { printf '%04x%s' $(( ${#1} + 4 )) "$1"; }
seed receive_pack "$(pkt "$a $b refs/heads/main")"'\x00'"report-status side-band-64k atomic push-options object-format=sha1 agent=git/2.47.3"'0000'"$(pkt 'ci.skip')"'0000PACK\x00\x00\x00\x02'
seed receive_pack "$(pkt "shallow $a")""$(pkt "$z $b refs/tags/v1.0")"'\x00'"report-status"'0000'"$(pkt "$a $z refs/heads/old")"'0000'
seed receive_pack "00c4$a $b refs/heads/main"'\x00'"report-status-v2 side-band-64k quiet object-format=sha1 agent=git/2.47.3"'0000'
seed receive_pack "$(pkt "$a $b refs/heads/a")""$(pkt "$a $z refs/heads/b")"'0000'
seed receive_pack "$(pkt 'push-cert')"'\x00'"report-status"'0000'

# Mercurial (PROTOCOLS.md §3): wire commands, batch, X-HgArg-N, X-HgArgs-Post with a body.
for text in \
    'GET /hg/repo?cmd=capabilities\nAccept: application/mercurial-0.1\n' \
    'GET /hg/repo?cmd=batch\nX-HgArg-1: cmds=heads+%3Bknown+nodes%3D\n' \
    'GET /hg/repo?cmd=batch&cmds=heads+;listkeys+namespace=phases\n' \
    'GET /hg/repo?cmd=getbundle\nX-HgArg-1: bundlecaps=HG20&common=00000000000000000000\nX-HgArg-2: 00000000000000000000&heads=\n' \
    'POST /hg/repo?cmd=unbundle\nContent-Type: application/mercurial-0.1\nX-HgArg-1: heads=686173686564\n\n\x48\x47\x32\x30' \
    'POST /hg/repo?cmd=batch\nX-HgArgs-Post: 27\nContent-Type: application/mercurial-0.1\n\ncmds=heads+%3Bknown+nodes%3D' \
    'POST /hg/repo?cmd=pushkey\nX-HgArg-1: namespace=phases&key=abc&old=1&new=0\n' \
    'GET /hg/repo/json-log\n' \
    'GET /hg/repo/raw-file/tip/README\n'; do
    seed classify_hg "$text"
done

# URL and feed tokens (ACCESS.md): auth_token placements — plain, encoded name and value,
# duplicates (also encoded), empty, other spellings, look-alikes, beside page parameters.
for text in \
    'GET /hg/team/app/archive/tip.tar.gz?auth_token=vcsg_abc\n' \
    'GET /hg/team/app/raw-file/tip/README?style=raw&auth_token=vcsg_abc&rev=1\n' \
    'GET /hg/team/app/raw-file/tip/README?auth%5Ftoken=vcsg%5Fabc\n' \
    'GET /hg/team/app/archive/tip.zip?auth_token=a&auth_token=b\n' \
    'GET /hg/team/app/archive/tip.zip?auth_token=a&auth%5ftoken=a\n' \
    'GET /hg/team/app/archive/tip.zip?auth_token=\n' \
    'GET /hg/team/app/archive/tip.zip?auth_token\n' \
    'GET /hg/team/app/archive/tip.zip?Auth_Token=vcsg_abc\n' \
    'GET /hg/team/app/atom-log?auth_tokens=x&auth-token=y\n' \
    'GET /hg/team/app?cmd=capabilities&auth_token=vcsg_abc\n' \
    'HEAD /hg/team/app/rss-log/x?auth_token=vcsg_abc\n' \
    'POST /hg/team/app/archive/tip.zip?auth_token=vcsg_abc\n' \
    'GET /hg/team/app/atom-log?auth_token=vcsg_abc\nAuthorization: Bearer vcsg_abc\n'; do
    seed canonicalise "$text"
    seed classify_hg "$text"
done
for text in \
    'GET /svn/repo/trunk/README?auth_token=vcsg_abc\n' \
    'PROPFIND /svn/repo/trunk?auth_token=vcsg_abc\nDepth: 0\n'; do
    seed canonicalise "$text"
    seed classify_svn "$text"
done

# Subversion (PROTOCOLS.md §4): reads, HTTP v2 commit, v1 activity, COPY, MERGE body.
for text in \
    'OPTIONS /svn/repo\nContent-Type: text/xml\n\n<?xml version="1.0" encoding="utf-8"?><D:options xmlns:D="DAV:"><D:activity-collection-set/></D:options>' \
    'PROPFIND /svn/repo/trunk\nDepth: 0\nContent-Type: text/xml\n' \
    'REPORT /svn/repo/!svn/me\nContent-Type: text/xml\n\n<S:update-report xmlns:S="svn:"><S:src-path>/svn/repo/trunk</S:src-path></S:update-report>' \
    'GET /svn/repo/!svn/rvr/5/trunk/README\n' \
    'POST /svn/repo/!svn/me\nContent-Type: application/vnd.svn-skel\n\n( create-txn-with-props ( svn:log 3 msg ) )' \
    'PUT /svn/repo/!svn/txr/5-6/trunk/README\nContent-Type: application/vnd.svn-svndiff\n' \
    'MKACTIVITY /svn/repo/!svn/act/8d3b7c0e-0a3c-4c5e-9d3e-2b2f0c1a9e77\n' \
    'COPY /svn/repo/trunk\nDestination: http://localhost/svn/repo/branches/b1\nDepth: infinity\n' \
    'MERGE /svn/repo/trunk\nContent-Type: text/xml\n\n<?xml version="1.0" encoding="utf-8"?><D:merge xmlns:D="DAV:"><D:source><D:href>/svn/repo/!svn/txn/5-6</D:href></D:source><D:no-auto-merge/><D:no-checkout/></D:merge>' \
    'PROPPATCH /svn/repo/!svn/rev/5\nContent-Type: text/xml\n'; do
    seed classify_svn "$text"
done

# Credentials: the three forms with a well-formed token, and broken ones.
token=$(python3 - <<'PY'
import zlib
alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
body = "vcsg_" + "0123456789abcdefghijABCDEFGHIJxy"
value, check = zlib.crc32(body.encode()), ""
for _ in range(6):
    check = alphabet[value % 62] + check
    value //= 62
print(body + check)
PY
)
b64() { printf '%s' "$1" | base64 -w0; }
for text in \
    "Basic $(b64 "alice:$token")\n" \
    "Basic $(b64 "$token:")\n" \
    "Basic $(b64 "$token:x-oauth-basic")\n" \
    "Bearer $token\n" \
    "bearer  $token \n" \
    "Basic $(b64 "alice:${token%?}x")\n" \
    "Basic $(b64 'nocolon')\n" \
    "Digest username=\"a\"\n" \
    "Bearer a\nBearer b\n"; do
    seed credentials "$text"
done

# JWTs (OIDC): one signed with the test key rsa-1 (tests/fixtures/oidc), and broken ones.
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
jwt_part() { printf '%s' "$1" | b64url; }
keys="$here/../tests/fixtures/oidc"
claims='{"iss":"https://token.actions.example","aud":"vcsgate","sub":"repo:team/app:ref:refs/heads/main","repository":"team/app","ref":"refs/heads/main","iat":1800000000,"nbf":1800000000,"exp":1800000600}'
signed_input="$(jwt_part '{"alg":"RS256","kid":"rsa-1","typ":"JWT"}').$(jwt_part "$claims")"
signature=$(printf '%s' "$signed_input" | openssl dgst -sha256 -sign "$keys/rsa-1.pem" | b64url)
for text in \
    "$signed_input.$signature" \
    "$(jwt_part '{"alg":"ES256","kid":"ec-1"}').$(jwt_part "$claims").c2lnbmF0dXJl" \
    "$(jwt_part '{"alg":"none","kid":"rsa-1"}').$(jwt_part "$claims").c2ln" \
    "$(jwt_part '{"alg":"HS256","kid":"rsa-1"}').$(jwt_part "$claims").c2ln" \
    "$(jwt_part '{"alg":"RS256"}').$(jwt_part "$claims").c2ln" \
    "$(jwt_part '{"alg":"RS256","kid":""}').$(jwt_part "$claims").c2ln" \
    "$(jwt_part '{"alg":"RS256","kid":"rsa-1"}').$(jwt_part '{"iss":5}').c2ln" \
    "eyJhbGciOiJSUzI1NiJ9.eyJ.c2ln" \
    "eyJ.x" \
    "vcsg_0123456789abcdefghijABCDEFGHIJxyAbCdEf"; do
    seed jwt "$text"
done

# http1_head: request heads as clients send them (the lane takes the plain ones, hyper the
# rest), with pipelined bytes after some.
for text in \
    'GET /git/team/app.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: h\r\nUser-Agent: git/2.47.0\r\nAuthorization: Basic YTp2Y3NnXw==\r\nGit-Protocol: version=2\r\n\r\n' \
    'GET /hg/app?cmd=capabilities HTTP/1.1\r\nAccept-Encoding: identity\r\nX-HgArg-1: x\r\nConnection: close\r\n\r\nGET /next HTTP/1.1\r\n' \
    'HEAD / HTTP/1.1\r\nContent-Length: 0\r\nConnection: keep-alive, close\r\n\r\n' \
    'POST /git/a.git/git-upload-pack HTTP/1.1\r\nContent-Length: 4\r\n\r\n0000' \
    'GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
    'GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n' \
    'GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n' \
    'GET / HTTP/1.0\r\n\r\n' \
    'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' \
    'GET http://h/x HTTP/1.1\r\n\r\n' \
    'OPTIONS * HTTP/1.1\r\n\r\n' \
    '\r\nGET /a%2Fb?x=1&x=2 HTTP/1.1\nHost: h\n\n' \
    'GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n'; do
    seed http1_head "$text"
done

# backend_answer: first byte = split size * 2 + (0 GET, 1 HEAD), then the backend's answer.
for text in \
    '\x06HTTP/1.1 200 OK\r\nContent-Type: application/x-git-upload-pack-advertisement\r\nTransfer-Encoding: chunked\r\n\r\n1e\r\n# service=git-upload-pack\n0000\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n' \
    '\x02HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' \
    '\x03HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n' \
    '\x04HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n' \
    '\x08HTTP/1.0 200 OK\r\nServer: hg\r\n\r\nuntil close' \
    '\x0aHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n' \
    '\x0cHTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello' \
    '\x0eHTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' \
    '\x10HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nx'; do
    seed backend_answer "$text"
done

# Config: a minimal file and one using every table.
seed config 'version = 1\n[store]\nurl = "sqlite://vcsgate.db"\n[[route]]\nprefix = "/git"\nkind = "git"\nbackend = "http://127.0.0.1:8081/git"\n'
seed config 'version = 1\n[server]\nlisten = "127.0.0.1:8443"\nrealm = "vcs"\n[server.tls]\ncert = "c.pem"\nkey = "k.pem"\n[store]\nurl = "postgres://vcs@db.example/vcsgate"\npassword_env = "PGPASSWORD"\noutage_grace_secs = 10\n[[route]]\nprefix = "/git"\nkind = "git"\nrepos = "/srv/git"\ngit_binary = "/usr/bin/git"\nrepo_depth = 2\n[[route]]\nprefix = "/hg"\nkind = "hg"\nbackend = "http://127.0.0.1:8000/"\n[[route]]\nprefix = "/svn"\nkind = "svn"\nbackend = "https://127.0.0.1:8443/svn"\nca_file = "ca.pem"\nsvn_layout = "parent"\n[route.identity]\nmode = "header"\nheader = "X-Vcsgate-User"\n[throttle]\nburst = 5\nper_minute = 6\nmax_tracked_clients = 1000\ntrusted_proxies = ["10.0.0.0/8", "::1"]\n'

# client_key: first byte picks the peer, line 1 a CIDR, then X-Forwarded-For values.
seed client_key '\x00192.0.2.0/24\n1.1.1.1, 203.0.113.7\n'
seed client_key '\x0110.0.0.0/8\n203.0.113.7, 10.2.2.2\n10.3.3.3\n'
seed client_key '\x022001:db8::/32\n2001:db8:1:2::9, unknown\n'
seed client_key '\x00::ffff:10.0.0.0/8\n garbage ,\t198.51.100.1 \n'

for dir in "$seeds"/*; do
    echo "$(basename "$dir"): $(ls "$dir" | wc -l) seeds"
done
