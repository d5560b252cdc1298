# Shared by run.sh and reload.sh; sourced, not run. Expects say and die to be defined.

# need_dnsperf installs dnsperf when it is missing and this is root with apt-get, or stops
# with the command that installs it.
need_dnsperf() {
    command -v dnsperf >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing dnsperf"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dnsperf >/dev/null; } ||
            die "could not install dnsperf: run 'sudo apt-get install dnsperf' and try again"
    else
        die "this needs dnsperf: run 'sudo apt-get install dnsperf' (Debian/Ubuntu) and try again"
    fi
}

# stop PID: TERM, up to 10 s to exit, then KILL.
stop() {
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# write_zones DIR: the three companies' zone files, the pass-through backend. Their
# autodiscover records are what the plugin hides; their MX records what it passes through.
write_zones() {
    for company in companya companyb companyc; do
        cat >"$1/db.$company.example" <<ZONE
\$ORIGIN $company.example.
\$TTL 3600
@             SOA   ns1.companya.example. hostmaster.companya.example. 2026112401 7200 1800 1209600 300
@             NS    ns1.companya.example.
@             MX    10 webmail.companya.example.
@             TXT   "v=spf1 include:companya.example -all"
@             A     198.51.100.20
www           A     198.51.100.20
autodiscover  A     198.51.100.20
ZONE
    done
}
