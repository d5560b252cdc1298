#!/bin/sh
# Runs every test of the repository: vet, unit tests, fuzz seed corpora, and the
# end-to-end tests that start the real server and query it with dig on loopback.
set -eu
cd "$(dirname "$0")/.."

# The end-to-end tests query with dig and use NSD as a real secondary.
need=""
command -v dig >/dev/null 2>&1 || need="$need bind9-dnsutils"
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || need="$need nsd"
if [ -n "$need" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test/run.sh: installing$need"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
        # NSD's package starts a system instance on port 53; the tests run their own.
        if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nsd >/dev/null 2>&1 || true; fi
    else
        echo "test/run.sh: the tests need$need: run 'sudo apt-get install$need' and try again" >&2
        exit 1
    fi
fi
export PATH="$PATH:/usr/sbin"

unformatted=$(gofmt -l . 2>/dev/null || true)
if [ -n "$unformatted" ]; then
    echo "test/run.sh: not gofmt'ed: $unformatted" >&2
    exit 1
fi
go vet ./...
go test -count=1 ./...
