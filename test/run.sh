#!/bin/sh
# Runs every test of the repository: vet, unit tests, fuzz seed corpora, and the
# end-to-end tests that start the real server and query it with dig on loopback.
set -eu
cd "$(dirname "$0")/.."

if ! command -v dig >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "test/run.sh: installing dig (bind9-dnsutils)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bind9-dnsutils >/dev/null
    else
        echo "test/run.sh: the tests need dig: run 'sudo apt-get install bind9-dnsutils' and try again" >&2
        exit 1
    fi
fi

unformatted=$(gofmt -l cmd plugin test diagnose 2>/dev/null || true)
if [ -n "$unformatted" ]; then
    echo "test/run.sh: not gofmt'ed: $unformatted" >&2
    exit 1
fi
go vet ./...
go test -count=1 ./...
