#!/usr/bin/env bash
# The project's test command, for a fresh Debian machine and for CI:
#   1. installs the programs the end-to-end tests drive, if any is missing (needs root);
#   2. runs every test (`cargo test --all-targets --no-fail-fast`), passing on extra
#      arguments (e.g. `scripts/test.sh backend_sanity`); exits non-zero if any fails.
# The tests start their own Apache, hg serve and PostgreSQL on loopback ports; no service
# needs to be running.
set -euo pipefail
cd "$(dirname "$0")/.."

have() {
    command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

missing=()
have git || missing+=(git)
have git-lfs || missing+=(git-lfs)
have hg || missing+=(mercurial)
{ have svn && have svnadmin && have svnlook; } || missing+=(subversion)
have apache2 || missing+=(apache2)
[ -f /usr/lib/apache2/modules/mod_dav_svn.so ] || missing+=(libapache2-mod-svn)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
have openssl || missing+=(openssl)
{ have chromium && have chromedriver; } || missing+=(chromium chromium-driver)
have curl || missing+=(curl)
{ [ -x /usr/bin/kill ] || [ -x /bin/kill ]; } || missing+=(procps)
have systemd-analyze || missing+=(systemd)

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "scripts/test.sh: missing Debian packages: ${missing[*]}" >&2
        echo "install them as root: apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "scripts/test.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y git git-lfs mercurial subversion apache2 libapache2-mod-svn postgresql \
        openssl procps systemd chromium chromium-driver curl
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "scripts/test.sh: cargo not found: install the Rust toolchain (rustup)" >&2
    exit 1
fi

exec cargo test --all-targets --no-fail-fast "$@"
