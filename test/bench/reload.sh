#!/bin/sh
# Reloads under load: dnsperf sends the benchmark's query mix at a fixed rate while the
# domains file is replaced every 2 s (a few hundred domains join and leave) and the
# Corefile's content changes every 5 s (the reload plugin restarts the server).
# Passes when no query is lost, none is answered other than NOERROR or NXDOMAIN, and the
# server logged the reloads the script caused. See test/bench/README.md.
#
#   sh test/bench/reload.sh                          30 s at 10,000 queries per second
#   RELOAD_SECONDS=12 RELOAD_DOMAINS=1000 sh test/bench/reload.sh   quick check, about 20 s
#
# Settings (environment):
#   RELOAD_DOMAINS         generated domains in the domains file, all queried (100000)
#   RELOAD_SECONDS         length of the dnsperf run (30)
#   RELOAD_QPS             dnsperf -Q, queries per second (10000)
#   RELOAD_TIMEOUT         dnsperf -t, seconds before a query counts as lost (1)
#   RELOAD_OUTSTANDING     dnsperf -q, the most queries in flight (2000: dnsperf keeps its
#                          rate through a stall of the server of up to 0.2 s at 10,000 qps)
#   RELOAD_CLIENTS         dnsperf -c, client sockets (4)
#   RELOAD_CHURN           domains that join, and as many that leave, per new domains file (300)
#   RELOAD_DOMAINS_EVERY   seconds between two domains files (2)
#   RELOAD_COREFILE_EVERY  seconds between two Corefile changes (5)
#   RELOAD_SETTLE          seconds at the end of the run without changes, so that the last
#                          ones are applied under load (5)
#   RELOAD_READY_TIMEOUT   seconds the server may take to be ready (120)
#   RELOAD_NICE            niceness of the server and dnsperf (-10 as root, else 0)
#   RELOAD_OUT             where the results go (test/bench/reload-results.md)
#   RELOAD_KEEP            1 keeps the work directory (Corefile, domains, query file, dnsperf's
#                          output with every answer, the server's log with times)
set -eu
cd "$(dirname "$0")/../.."

ndomains=${RELOAD_DOMAINS:-100000}
seconds=${RELOAD_SECONDS:-30}
qps=${RELOAD_QPS:-10000}
qtimeout=${RELOAD_TIMEOUT:-1}
outstanding=${RELOAD_OUTSTANDING:-2000}
clients=${RELOAD_CLIENTS:-4}
churn=${RELOAD_CHURN:-300}
domains_every=${RELOAD_DOMAINS_EVERY:-2}
corefile_every=${RELOAD_COREFILE_EVERY:-5}
settle=${RELOAD_SETTLE:-5}
ready_timeout=${RELOAD_READY_TIMEOUT:-120}
out=${RELOAD_OUT:-test/bench/reload-results.md}
if [ "$(id -u)" = 0 ]; then niceness=${RELOAD_NICE:--10}; else niceness=${RELOAD_NICE:-0}; fi

say() { echo "reload: $*" >&2; }
die() { say "$*"; exit 1; }
. test/bench/lib.sh

for v in "$ndomains" "$seconds" "$qps" "$qtimeout" "$outstanding" "$clients" "$churn" "$domains_every" "$corefile_every" "$settle" "$ready_timeout"; do
    case $v in '' | *[!0-9]*) die "settings must be whole numbers, got '$v'" ;; esac
done
[ "$ndomains" -ge 1 ] && [ "$qps" -ge 1 ] && [ "$qtimeout" -ge 1 ] && [ "$churn" -ge 1 ] && [ "$domains_every" -ge 1 ] && [ "$corefile_every" -ge 1 ] ||
    die "RELOAD_DOMAINS, RELOAD_QPS, RELOAD_TIMEOUT, RELOAD_CHURN and the intervals must be at least 1"
[ "$ndomains" -le 9000000 ] || die "RELOAD_DOMAINS must be at most 9000000 (the names have 7 digits)"
changing=$((seconds - settle))
[ "$changing" -ge "$corefile_every" ] && [ "$changing" -ge "$domains_every" ] ||
    die "RELOAD_SECONDS must leave, after RELOAD_SETTLE, time for at least one change of each kind"
case $niceness in '' | *[!0-9-]*) die "RELOAD_NICE must be a number" ;; esac
nqueries=$((qps * seconds))

# --- tools ------------------------------------------------------------------------------
need_dnsperf
for tool in timeout nice mkfifo go awk date; do
    command -v "$tool" >/dev/null 2>&1 || die "the test needs $tool (timeout, nice, mkfifo: coreutils)"
done

# --- work directory and clean-up --------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/autodiscover-reload.XXXXXX")
server_pid=
stamp_pid=
perf_pid=
changer_pid=
cleanup() {
    stop "$changer_pid"
    stop "$perf_pid"
    stop "$server_pid"
    stop "$stamp_pid" # ends by itself once the server has gone
    changer_pid= perf_pid= server_pid= stamp_pid=
    if [ "${RELOAD_KEEP:-0}" = 1 ]; then say "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
now() { date +%s.%N | cut -c1-17; } # seconds.microseconds

# --- build and inputs -------------------------------------------------------------------
say "building the server and the generator in $work"
go build -o "$work/autodiscover-dns" ./cmd/autodiscover-dns
go build -o "$work/gen" ./test/bench/gen
gen=$work/gen

write_zones "$work"

say "generating $ndomains domains and $nqueries queries"
# The queried domains d0000001 ... are in every version of the domains file; the churn is
# a window of 2 x RELOAD_CHURN more, above them, that moves by RELOAD_CHURN per version.
"$gen" domains -n "$ndomains" -out "$work/domains-base.txt"
"$gen" queries -n "$ndomains" -count "$nqueries" -seed 1 -out "$work/queries.txt"
pool=$((2 * churn))
dfile=$work/domains.txt
# domains_version K: write version K of the domains file, and rename it into place.
domains_version() {
    "$gen" domains -n "$pool" -from $((ndomains + 1 + $1 * churn)) -out "$work/domains-extra.txt"
    cat "$work/domains-base.txt" "$work/domains-extra.txt" >"$dfile.new"
    mv "$dfile.new" "$dfile"
}
domains_version 0

port=$("$gen" port)
rport=$("$gen" port)
conf=$work/Corefile
# corefile TTL: write the Corefile with the plugin's ttl TTL, and rename it into place.
corefile() {
    cat >"$conf.new" <<EOF
example.:$port {
    reload 2s
    errors
    autodiscover companya.example companyb.example companyc.example {
        domains $dfile
        reload 1s
        target autodiscover.companya.example 443
        hosts webmail.companya.example
        external 203.0.113.10
        internal 192.168.1.10
        internal_networks 192.168.0.0/16 10.0.0.0/8
        hide_apex companyb.example companyc.example
        ttl $1
    }
    file $work/db.companya.example companya.example
    file $work/db.companyb.example companyb.example
    file $work/db.companyc.example companyc.example
    ready 127.0.0.1:$rport
}
EOF
    mv "$conf.new" "$conf"
}
corefile 3600

# --- the server, its log stamped with the time of each line ----------------------------------
log=$work/server.log
mkfifo "$work/server.fifo"
nice -n "$niceness" "$gen" stamp <"$work/server.fifo" >"$log" &
stamp_pid=$!
say "starting the server on 127.0.0.1:$port"
t0=$(date +%s%N)
nice -n "$niceness" "$work/autodiscover-dns" -conf "$conf" -quiet >"$work/server.fifo" 2>&1 &
server_pid=$!
if ! ready_ms=$(timeout $((ready_timeout + 5)) "$gen" wait -url "http://127.0.0.1:$rport/ready" \
    -since "$t0" -timeout "${ready_timeout}s" -pid "$server_pid"); then
    tail -n 20 "$log" >&2
    die "the server was not ready within ${ready_timeout}s (its log is above)"
fi
say "ready after $ready_ms ms"

# --- the load, and the changes under it ------------------------------------------------------
events=$work/events
: >"$events"
# changer: every second for $changing seconds, a new domains file every $domains_every
# seconds and a changed Corefile every $corefile_every; each change goes to $events.
changer() {
    t=0 k=0 ttl=3600
    while [ "$t" -lt "$changing" ]; do
        sleep 1
        t=$((t + 1))
        if [ $((t % domains_every)) -eq 0 ]; then
            k=$((k + 1))
            domains_version "$k"
            echo "$(now) domains $k" >>"$events"
        fi
        if [ $((t % corefile_every)) -eq 0 ]; then
            if [ "$ttl" = 3600 ]; then ttl=3601; else ttl=3600; fi
            corefile "$ttl"
            echo "$(now) corefile $ttl" >>"$events"
        fi
    done
}

say "dnsperf: $qps queries per second for $seconds s; changes during the first $changing s"
perf=$work/dnsperf.txt
perf_start=$(now)
timeout $((seconds + qtimeout + 60)) nice -n "$niceness" dnsperf -m udp -s 127.0.0.1 -p "$port" -d "$work/queries.txt" \
    -l "$seconds" -Q "$qps" -q "$outstanding" -c "$clients" -T 1 -t "$qtimeout" -S 1 -v >"$perf" 2>&1 &
perf_pid=$!
changer &
changer_pid=$!
perf_ok=1
wait "$perf_pid" || perf_ok=0
perf_pid=
wait "$changer_pid" || die "changing the domains file or the Corefile failed"
changer_pid=
[ "$perf_ok" = 1 ] || { grep -v '^> ' "$perf" | tail -n 30 >&2; die "dnsperf failed"; }
server_alive=1
kill -0 "$server_pid" 2>/dev/null || server_alive=0

# The last Corefile and the last version of the domains file serve: the newest domain has
# its SRV record with the last Corefile's TTL, and the first domain that left has none.
versions=$(awk '$2 == "domains"' "$events" | wc -l)
last_ttl=$(awk '$2 == "corefile" { ttl = $3 } END { print ttl }' "$events")
newest=$(printf 'd%07d.example' $((ndomains + versions * churn + pool)))
gone=$(printf 'd%07d.example' $((ndomains + 1)))
final="server not running (FAIL)"
if [ "$server_alive" = 1 ]; then
    a=$(timeout 10 "$gen" ask -server "127.0.0.1:$port" -name "_autodiscover._tcp.$newest" -type SRV 2>&1) || a="no answer: $a"
    b=$(timeout 10 "$gen" ask -server "127.0.0.1:$port" -name "_autodiscover._tcp.$gone" -type SRV 2>&1) || b="no answer: $b"
    final=$(echo "$a|$b" | awk -F '|' -v ttl="$last_ttl" -v n="$newest" -v g="$gone" '{
        split($1, x, " "); split($2, y, " ")
        printf "%s: %s, %s SRV, TTL %s (the last Corefile: %s); %s: %s, %s SRV", n, x[1], x[2] + 0, x[3] + 0, ttl, g, y[1], y[2] + 0
        if (x[1] != "NOERROR" || x[2] != 1 || x[3] != ttl || y[2] != 0 || y[1] !~ /^[A-Z]+$/) printf " (FAIL)" }')
fi
stop "$server_pid"
server_pid=
stop "$stamp_pid"
stamp_pid=

# --- the report ----------------------------------------------------------------------------
cpu_model=$(awk -F ': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
{
    echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -m), nproc $(nproc), ${cpu_model:-unknown CPU}; $(go version | awk '{ print $3 }'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- plugin cmd 2>/dev/null || echo ' + local changes in plugin/ or cmd/')."
    echo "dnsperf -Q $qps -l $seconds -q $outstanding -c $clients -t $qtimeout over UDP, the benchmark's query mix over $ndomains generated domains and the 3 companies; a new domains file every $domains_every s ($churn domains join, $churn leave) and a changed Corefile every $corefile_every s during the first $changing s; server ready after $ready_ms ms."
    echo
    awk -v final="$final" -v alive="$server_alive" -v versions="$versions" '
        FILENAME ~ /events$/ { if ($2 == "domains") written++; else if ($2 == "corefile") changes++; next }
        FILENAME ~ /server.log$/ {
            if ($0 ~ /Loaded [0-9]+ mail domains/) loaded++
            else if ($0 ~ /Reloading complete/) reloaded++
            else if ($0 ~ /Keeping the [0-9]+ domains/) rejected++
            else if ($0 ~ /reload failed|Restart failed|\[ERROR\]|\[PANIC\]/) errors++
            next
        }
        /Queries sent:/       { sent = $3 }
        /Queries completed:/  { done = $3 }
        /Queries lost:/       { lost = $3 }
        /Response codes:/     { sub(/^ *Response codes: */, ""); codes = $0 }
        /Queries per second:/ { rate = $4 }
        /Average Latency/     { avg = $4 * 1000; gsub(/[(),]/, ""); worst = $8 * 1000 }
        /Latency StdDev/      { sd = $4 * 1000 }
        $1 == ">" && $2 != "NOERROR" && $2 != "NXDOMAIN" && $2 != "T" { bad[$2]++ }
        END {
            badlist = ""
            for (c in bad) badlist = badlist (badlist ? ", " : "") c " " bad[c]
            # With every reload of the Corefile the new server block reads the domains file at
            # start-up, without logging it: a version it picks up that way is not logged.
            if (lost > 0) fail = fail "; " lost " queries lost"
            if (sent == "" || done != sent) fail = fail "; " (done + 0) " of " (sent + 0) " queries completed"
            if (badlist != "") fail = fail "; answers other than NOERROR and NXDOMAIN: " badlist
            if (reloaded < changes) fail = fail "; " (reloaded + 0) " Corefile reloads for " changes " changes"
            if (loaded < written - reloaded) fail = fail "; " (loaded + 0) " domains file loads for " written " versions and " (reloaded + 0) " Corefile reloads"
            if (rejected > 0) fail = fail "; " rejected " domains file versions rejected"
            if (errors > 0) fail = fail "; " errors " errors in the server log"
            if (final ~ /FAIL/) fail = fail "; final check: " final
            if (!alive) fail = fail "; the server died"
            print "| Measure | Value |"
            print "|---|---:|"
            printf "| Queries sent | %s |\n", sent
            printf "| Queries completed | %s |\n", done
            printf "| Queries lost | %s |\n", lost
            printf "| Response codes | %s |\n", codes
            printf "| SERVFAIL, REFUSED and other codes | %s |\n", (badlist != "" ? badlist : 0)
            printf "| Queries per second | %.0f |\n", rate
            printf "| Average latency (ms) | %.3f (standard deviation %.3f) |\n", avg, sd
            printf "| Worst latency (ms) | %.3f |\n", worst
            printf "| Domains file versions written | %d |\n", written
            printf "| Domains file loads logged (`Loaded N mail domains`) | %d |\n", loaded
            printf "| Domains file versions rejected (`Keeping the N domains`) | %d |\n", rejected
            printf "| Corefile changes written | %d |\n", changes
            printf "| Corefile reloads logged (`Reloading complete`) | %d |\n", reloaded
            printf "| Errors in the server log | %d |\n", errors
            printf "| After the run | %s |\n", final
            printf "| Result | %s |\n", (fail == "" ? "PASS" : "FAIL: " substr(fail, 3))
        }' "$events" "$log" "$perf"
    echo
    echo "Per second of the run (dnsperf -S 1 with -v: the answers received in each second; a query"
    echo "is counted lost when its $qtimeout s timeout ends, so a loss shows $qtimeout s after the query was sent):"
    echo
    echo "| Seconds | Answers | Lost | Other codes | Worst latency (ms) | Changes and reloads |"
    echo "|---:|---:|---:|---:|---:|---|"
    awk -v start="$perf_start" -v prev=0 '
        # The changes (from $events) and the reloads the server logged, each with its time.
        FILENAME ~ /events$/ { ev[++nev] = $1; what[nev] = ($2 == "domains" ? "domains file " $3 " written" : "Corefile written (ttl " $3 ")"); next }
        FILENAME ~ /server.log$/ {
            if ($0 ~ /Loaded [0-9]+ mail domains/) { match($0, /Loaded [0-9]+/); w = "loaded " substr($0, RSTART + 7, RLENGTH - 7) " domains" }
            else if ($0 ~ /Reloading complete/) w = "Corefile reloaded"
            else if ($0 ~ /\[(ERROR|WARNING|PANIC)\]|Keeping the/) { w = $0; sub(/^[0-9.]+ /, "", w) }
            else next
            ev[++nev] = $1; what[nev] = w
            next
        }
        function row(label, t,    i, list) {
            list = ""
            for (i = 1; i <= nev; i++) if (!used[i] && ev[i] <= t) { list = list (list ? "; " : "") what[i]; used[i] = 1 }
            printf "| %s-%s | %d | %d | %d | %.3f | %s |\n", prev, label, answers, lost, other, worst * 1000, list
            prev = label
            answers = lost = other = worst = 0
        }
        $1 == ">" && $2 == "T" { lost++; next }
        $1 == ">" { answers++; if ($2 != "NOERROR" && $2 != "NXDOMAIN") other++; if ($NF + 0 > worst) worst = $NF + 0; next }
        /^[0-9]+\.[0-9]+: [0-9.]+$/ { t = $1 + 0; row(sprintf("%.0f", t - start), t); next }
        /^\[Status\] Testing complete/ { row("end", 1e12) }
        END { if (answers || lost) row("after", 1e12) }' "$events" "$log" "$perf"
} >"$work/report.md"

mkdir -p "$(dirname "$out")"
cp "$work/report.md" "$out"
echo
cat "$out"
say "report written to $out"
grep -q '^| Result | PASS |$' "$out" || die "$(awk -F '[|]' '/^[|] Result/ { gsub(/^ +| +$/, "", $3); print $3 }' "$out")"
