#!/bin/sh
# Benchmark of the autodiscover plugin: queries per second with dnsperf, start-up time to
# ready, and resident memory, for CoreDNS's whoami alone and for the plugin with 3,
# 100,000 and 1,000,000 listed mail domains; and, with 3 domains, one run per path of the
# query mix (SRV, suppressed, certificate host, MX and NXDOMAIN pass-through), plus the
# pass-through queries against the file zones without the plugin. See test/bench/README.md.
#
#   sh test/bench/run.sh                                  full run, about 7 minutes on 2 cores
#   BENCH_SECONDS=3 BENCH_PATH_SECONDS=2 BENCH_ROUNDS=1 sh test/bench/run.sh   smoke run, under a minute
#
# Settings (environment):
#   BENCH_SECONDS        length of each dnsperf run in seconds (20)
#   BENCH_ROUNDS         rounds; each round runs every scenario once, in a rotated order, and
#                        the table gives the median round of each scenario (3)
#   BENCH_OUTSTANDING    dnsperf -q, queries in flight (200)
#   BENCH_CLIENTS        dnsperf -c, client sockets (4)
#   BENCH_TIMEOUT        dnsperf -t, seconds before a query counts as lost (1)
#   BENCH_QUERIES        lines in each query file (1000000)
#   BENCH_SIZES          generated domains of the large scenarios ("100000 1000000")
#   BENCH_SCENARIOS      which to run, of "whoami small paths large" (all)
#   BENCH_PATH_SECONDS   length of each dnsperf run of the paths scenario (8)
#   BENCH_PATH_ROUNDS    rounds the paths scenario takes part in, the first ones (BENCH_ROUNDS)
#   BENCH_SERVER_CPU     core of the server (0)
#   BENCH_CLIENT_CPU     core of dnsperf (1)
#   BENCH_READY_TIMEOUT  seconds a server may take to be ready (300)
#   BENCH_DOMAINS        how the large scenarios list their domains: file ('domains FILE',
#                        the default) or inline (one long autodiscover line)
#   BENCH_NICE           niceness of the server and dnsperf (-10 as root, else 0), so that other
#                        work on the machine disturbs them less
#   BENCH_OUT            where the results table goes (test/bench/results.md)
#   BENCH_KEEP           1 keeps the work directory (Corefiles, query files, logs, dnsperf output)
set -eu
cd "$(dirname "$0")/../.."

seconds=${BENCH_SECONDS:-20}
rounds=${BENCH_ROUNDS:-3}
outstanding=${BENCH_OUTSTANDING:-200}
clients=${BENCH_CLIENTS:-4}
qtimeout=${BENCH_TIMEOUT:-1}
nqueries=${BENCH_QUERIES:-1000000}
sizes=${BENCH_SIZES:-"100000 1000000"}
scenarios=${BENCH_SCENARIOS:-"whoami small paths large"}
path_seconds=${BENCH_PATH_SECONDS:-8}
path_rounds=${BENCH_PATH_ROUNDS:-$rounds}
server_cpu=${BENCH_SERVER_CPU:-0}
client_cpu=${BENCH_CLIENT_CPU:-1}
ready_timeout=${BENCH_READY_TIMEOUT:-300}
domains_mode=${BENCH_DOMAINS:-file}
out=${BENCH_OUT:-test/bench/results.md}
if [ "$(id -u)" = 0 ]; then niceness=${BENCH_NICE:--10}; else niceness=${BENCH_NICE:-0}; fi

load0=$(cut -d ' ' -f 1-3 /proc/loadavg)
start_s=$(date +%s)
say() { echo "bench: $*" >&2; }
die() { say "$*"; exit 1; }
. test/bench/lib.sh

for v in "$seconds" "$rounds" "$path_seconds" "$path_rounds" "$outstanding" "$clients" "$qtimeout" "$nqueries" "$server_cpu" "$client_cpu" "$ready_timeout" $sizes; do
    case $v in '' | *[!0-9]*) die "settings must be whole numbers, got '$v'" ;; esac
done
[ "$seconds" -ge 1 ] && [ "$rounds" -ge 1 ] && [ "$nqueries" -ge 1 ] && [ "$path_seconds" -ge 1 ] && [ "$path_rounds" -ge 1 ] ||
    die "BENCH_SECONDS, BENCH_ROUNDS, BENCH_PATH_SECONDS, BENCH_PATH_ROUNDS and BENCH_QUERIES must be at least 1"
case $niceness in '' | *[!0-9-]*) die "BENCH_NICE must be a number" ;; esac

# --- tools ------------------------------------------------------------------------------
need_dnsperf
for tool in taskset timeout nice getconf go awk date; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "the benchmark needs $tool (taskset: 'apt-get install util-linux'; timeout, nice: coreutils; getconf: libc-bin)"
done
cpus=$(nproc --all 2>/dev/null || nproc)
[ "$server_cpu" -ne "$client_cpu" ] || die "BENCH_SERVER_CPU and BENCH_CLIENT_CPU must differ"
[ "$server_cpu" -lt "$cpus" ] && [ "$client_cpu" -lt "$cpus" ] ||
    die "needs cores $server_cpu and $client_cpu, this machine has $cpus (set BENCH_SERVER_CPU/BENCH_CLIENT_CPU)"
clk_tck=$(getconf CLK_TCK)

# --- work directory and clean-up --------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/autodiscover-bench.XXXXXX")
server_pid=
perf_pid=
cleanup() {
    stop "$perf_pid"
    stop "$server_pid"
    perf_pid=
    server_pid=
    if [ "${BENCH_KEEP:-0}" = 1 ]; then say "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# --- build ------------------------------------------------------------------------------
say "building the server and the generator in $work"
go build -o "$work/autodiscover-dns" ./cmd/autodiscover-dns
go build -o "$work/gen" ./test/bench/gen
gen=$work/gen

case $domains_mode in file | inline) ;; *) die "BENCH_DOMAINS must be file or inline" ;; esac

# --- inputs -----------------------------------------------------------------------------
write_zones "$work"

say "generating the domains and $nqueries queries per scenario"
"$gen" queries -n 0 -count "$nqueries" -seed 1 -out "$work/queries-0.txt"
largest=0
for n in $sizes; do
    "$gen" domains -n "$n" -out "$work/domains-$n.txt"
    "$gen" queries -n "$n" -count "$nqueries" -seed 1 -out "$work/queries-$n.txt"
    [ "$n" -le "$largest" ] || largest=$n
done

# corefile FILE N PORT READYPORT: N = -1 for whoami alone, -2 for the three file zones
# alone (no plugin), else the plugin with the 3 companies and N generated domains.
corefile() {
    if [ "$2" -eq -1 ]; then
        printf '.:%s {\n    whoami\n    ready 127.0.0.1:%s\n}\n' "$3" "$4" >"$1"
        return
    fi
    if [ "$2" -eq -2 ]; then
        { echo "example.:$3 {"; zones "$4"; } >"$1"
        return
    fi
    {
        echo "example.:$3 {"
        if [ "$2" -gt 0 ] && [ "$domains_mode" = inline ]; then
            printf '    autodiscover companya.example companyb.example companyc.example'
            awk '!/^#/ { printf " %s", $0 }' "$work/domains-$2.txt"
            echo ' {'
        else
            echo '    autodiscover companya.example companyb.example companyc.example {'
        fi
        if [ "$2" -gt 0 ] && [ "$domains_mode" = file ]; then
            echo "        domains $work/domains-$2.txt"
        fi
        cat <<EOF
        target autodiscover.companya.example 443
        hosts webmail.companya.example
        external 203.0.113.10
        internal 192.168.1.10
        internal_networks 192.168.0.0/16 10.0.0.0/8
        hide_apex companyb.example companyc.example
    }
EOF
        zones "$4"
    } >"$1"
}
# zones READYPORT: the rest of a server block: the three file zones, ready, and the brace.
zones() {
    cat <<EOF
    file $work/db.companya.example companya.example
    file $work/db.companyb.example companyb.example
    file $work/db.companyc.example companyc.example
    ready 127.0.0.1:$1
}
EOF
}

# The paths scenario: (b)'s query file split by path, each in (b)'s order. The names are
# the generator's (gen/main.go): the SRV queries, the hidden autodiscover names of companyb
# and companyc, the certificate host, the companies' MX, and the nx<n> names. Each path's
# share of (b)'s file goes to queries-0.shares.
case " $scenarios " in *" paths "*)
    awk -v dir="$work" '
        $2 == "SRV"                          { f = "srv" }
        $1 ~ /^autodiscover\./ && $2 == "A"  { f = ($1 == "autodiscover.companya.example." ? "host" : "suppressed") }
        $2 == "MX"                           { f = "mx" }
        $1 ~ /^nx[0-9]+\./ && $2 == "A"      { f = "nx" }
        {
            if (f == "") { print "unexpected query in the mix: " $0 > "/dev/stderr"; exit 1 }
            print > (dir "/queries-0-" f ".txt"); count[f]++; f = ""
        }
        END { for (f in count) printf "%s %.6f\n", f, count[f] / NR > (dir "/queries-0.shares") }' "$work/queries-0.txt" ||
        die "could not split $work/queries-0.txt by path"
    for p in srv suppressed host mx nx; do
        [ -s "$work/queries-0-$p.txt" ] || die "no $p queries in $work/queries-0.txt"
    done ;;
esac

# The scenarios, one per line: letter, name, generated domains (-1: whoami, -2: the file
# zones alone), seconds per run, rounds it takes part in (the first ones), query file.
: >"$work/scenarios"
for s in $scenarios; do
    case $s in
    whoami) # whoami answers anything; it gets the query file of the largest scenario.
        echo "a whoami -1 $seconds $rounds $work/queries-$largest.txt" >>"$work/scenarios" ;;
    small)
        echo "b autodiscover-3 0 $seconds $rounds $work/queries-0.txt" >>"$work/scenarios" ;;
    paths) # (b) one path at a time, then the pass-through paths on the file zones alone.
        i=1
        for p in srv suppressed host mx nx; do
            echo "b$i autodiscover-3-$p 0 $path_seconds $path_rounds $work/queries-0-$p.txt" >>"$work/scenarios"
            i=$((i + 1))
        done
        echo "b6 file-alone-mx -2 $path_seconds $path_rounds $work/queries-0-mx.txt" >>"$work/scenarios"
        echo "b7 file-alone-nx -2 $path_seconds $path_rounds $work/queries-0-nx.txt" >>"$work/scenarios" ;;
    large)
        letters=cdefghijklmnopqrstuvwxyz
        for n in $sizes; do
            echo "$(echo "$letters" | cut -c1) autodiscover-$((n + 3)) $n $seconds $rounds $work/queries-$n.txt" >>"$work/scenarios"
            letters=$(echo "$letters" | cut -c2-)
        done ;;
    *) die "unknown scenario '$s' in BENCH_SCENARIOS (whoami, small, paths, large)" ;;
    esac
done

# --- one run ------------------------------------------------------------------------------
rss() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# cputicks PID: user + system CPU time of a process in clock ticks (fields 14 and 15 of
# /proc/PID/stat; the command name, field 2, has no spaces here).
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run ROUND LETTER NAME N SECONDS QUERYFILE: start the server, time it to ready, run dnsperf
# for SECONDS, stop it, and add a line to $work/runs.
: >"$work/runs"
run() {
    round=$1 letter=$2 name=$3 n=$4 secs=$5 queries=$6
    tag=$name.$round
    port=$("$gen" port)
    rport=$("$gen" port)
    corefile "$work/Corefile.$tag" "$n" "$port" "$rport"
    log=$work/$tag.server.log
    say "round $round, $name: starting the server on core $server_cpu"
    t0=$(date +%s%N)
    GOMAXPROCS=1 nice -n "$niceness" taskset -c "$server_cpu" "$work/autodiscover-dns" -conf "$work/Corefile.$tag" -quiet >"$log" 2>&1 &
    server_pid=$!
    if ! ready_ms=$(timeout $((ready_timeout + 5)) "$gen" wait -url "http://127.0.0.1:$rport/ready" \
        -since "$t0" -timeout "${ready_timeout}s" -pid "$server_pid"); then
        tail -n 20 "$log" >&2
        die "$name: the server was not ready within ${ready_timeout}s (its log is above)"
    fi
    rss_ready=$(rss "$server_pid")

    cpu0=$(cputicks "$server_pid")
    timeout $((secs + qtimeout + 60)) nice -n "$niceness" taskset -c "$client_cpu" dnsperf -m udp -s 127.0.0.1 -p "$port" \
        -d "$queries" -l "$secs" -q "$outstanding" -c "$clients" -T 1 -t "$qtimeout" \
        >"$work/$tag.dnsperf.txt" 2>&1 &
    perf_pid=$!
    wait "$perf_pid" || { cat "$work/$tag.dnsperf.txt" >&2; die "$name: dnsperf failed"; }
    perf_pid=
    kill -0 "$server_pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "$name: the server died during the run"; }
    cpu1=$(cputicks "$server_pid")
    rss_after=$(rss "$server_pid")
    stop "$server_pid"
    server_pid=

    # name, domains, round, qps, latency ms, lost, sent, ready ms, RSS ready, RSS after,
    # server CPU %, queries per server CPU-second, response codes
    awk -v name="($letter) $name" -v n="$n" -v round="$round" -v ready="$ready_ms" -v r1="$rss_ready" -v r2="$rss_after" \
        -v ticks=$((cpu1 - cpu0)) -v hz="$clk_tck" '
        /Queries sent:/       { sent = $3 }
        /Queries completed:/  { done = $3 }
        /Queries lost:/       { lost = $3 }
        /Run time \(s\):/     { secs = $4 }
        /Queries per second:/ { qps = $4 }
        /Average Latency/     { lat = $4 * 1000 }
        /Response codes:/     { sub(/^ *Response codes: */, ""); codes = $0 }
        END {
            if (qps == "" || secs <= 0) exit 1
            cpu = ticks / hz
            printf "%s\t%s\t%s\t%.0f\t%.3f\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.0f\t%s\n", name, (n < 0 ? "-" : n + 3), round, qps, lat, lost,
                sent, ready, r1, r2, 100 * cpu / secs, (cpu > 0 ? done / cpu : 0), codes
        }' "$work/$tag.dnsperf.txt" >>"$work/runs" || { cat "$work/$tag.dnsperf.txt" >&2; die "$name: no statistics from dnsperf"; }
    say "round $round, $name: $(tail -n 1 "$work/runs" | awk -F '\t' '{ printf "ready %s ms, %s qps, %s ms average, %s lost, server CPU %s %%, %s queries per CPU-second, RSS %s -> %s MiB",
        $8, $4, $5, $6, $11, $12, $9, $10 }')"
}

# --- the rounds: every scenario once per round, the order rotated by one each round ----------
cp "$work/scenarios" "$work/order"
r=1
while [ "$r" -le "$rounds" ]; do
    while read -r letter name n secs runs queries <&3; do
        [ "$r" -gt "$runs" ] || run "$r" "$letter" "$name" "$n" "$secs" "$queries" 3<&-
    done 3<"$work/order"
    { tail -n +2 "$work/order"; head -n 1 "$work/order"; } >"$work/order.next"
    mv "$work/order.next" "$work/order"
    r=$((r + 1))
done

# --- the table: per scenario, the median of its rounds ---------------------------------------
cpu_model=$(awk -F ': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
elapsed=$(($(date +%s) - start_s))
paths_note=
case " $scenarios " in *" paths "*) paths_note=" The per-path rows (b1) to (b7): $path_rounds round(s) of ${path_seconds} s." ;; esac
{
    echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -m), nproc $(nproc), ${cpu_model:-unknown CPU}; $(go version | awk '{ print $3 }'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- plugin cmd 2>/dev/null || echo ' + local changes in plugin/ or cmd/')."
    echo "Server on core $server_cpu with GOMAXPROCS=1, dnsperf on core $client_cpu, both at nice $niceness; UDP, $rounds round(s) of ${seconds} s per scenario, dnsperf -q $outstanding -c $clients -t $qtimeout, $nqueries queries per file; the large scenarios list their domains: $domains_mode.$paths_note Load average before the run: $load0. Total time $((elapsed / 60)) min $((elapsed % 60)) s."
    echo "Each cell is the median over the rounds (QPS range: lowest and highest round); Lost is the total."
    echo
    echo "| Scenario | Listed domains | QPS | QPS range | % of whoami | Avg latency (ms) | Lost | Server CPU | Queries per CPU-second | % of whoami per CPU-second | Ready (ms) | RSS ready (MiB) | RSS after run (MiB) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F '\t' '
        function median(key, col,    v, k, i, j, t) {
            k = 0
            for (i = 1; i <= cnt[key]; i++) v[++k] = val[key, i, col] + 0
            for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
            return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
        }
        {
            if (!($1 in cnt)) { order[++names] = $1; domains[$1] = $2; lo[$1] = $4; hi[$1] = $4 }
            cnt[$1]++
            for (c = 4; c <= 12; c++) val[$1, cnt[$1], c] = $c
            lost[$1] += $6; sent[$1] += $7
            if ($4 + 0 < lo[$1] + 0) lo[$1] = $4
            if ($4 + 0 > hi[$1] + 0) hi[$1] = $4
        }
        END {
            for (i = 1; i <= names; i++) if (order[i] ~ /whoami$/) { floor = median(order[i], 4); floorcpu = median(order[i], 12) }
            for (i = 1; i <= names; i++) {
                s = order[i]
                qps = median(s, 4); qpc = median(s, 12)
                printf "| %s | %s | %.0f | %s-%s | %s | %.3f | %s | %.0f %% | %.0f | %s | %.0f | %.1f | %.1f |\n",
                    s, domains[s], qps, lo[s], hi[s], (floor > 0 ? sprintf("%.0f %%", 100 * qps / floor) : "-"),
                    median(s, 5), (sent[s] > 0 ? sprintf("%d (%.3f %%)", lost[s], 100 * lost[s] / sent[s]) : lost[s]),
                    median(s, 11), qpc, (floorcpu > 0 ? sprintf("%.0f %%", 100 * qpc / floorcpu) : "-"),
                    median(s, 8), median(s, 9), median(s, 10)
            }
        }' "$work/runs"
    # The per-path rows put back together: with the share s of each path in (b)'s query file
    # and its cost 1/rate, (b) should cost the sum of s/rate per query.
    [ ! -f "$work/queries-0.shares" ] || awk -F '\t' '
        function median(key, col,    v, k, i, j, t) {
            k = 0
            for (i = 1; i <= cnt[key]; i++) v[++k] = val[key, i, col] + 0
            for (i = 2; i <= k; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
            return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
        }
        FILENAME ~ /shares$/ { split($0, f, " "); share[f[1]] = f[2]; next }
        { cnt[$1]++; val[$1, cnt[$1], 4] = $4; val[$1, cnt[$1], 12] = $12 }
        function find(re,    k) { for (k in cnt) if (k ~ re) return k; return "" }
        END {
            # The pass-through paths with the plugin in front of file, and without it.
            for (p = 1; p <= split("mx nx", pt, " "); p++) {
                a = find("^[(]b[0-9][)] autodiscover-3-" pt[p] "$"); b = find("^[(]b[0-9][)] file-alone-" pt[p] "$")
                if (a != "" && b != "" && median(b, 4) > 0 && median(b, 12) > 0)
                    pass = sprintf("%s %s at %.0f %% of %s (%.0f %% per CPU-second)", (pass ? pass ";" : ""), a, 100 * median(a, 4) / median(b, 4), b,
                        100 * median(a, 12) / median(b, 12))
            }
            if (pass) printf "\nPass-through with and without the plugin in front of the file zones:%s.\n", pass
            if (!(("(b) autodiscover-3") in cnt)) exit
            np = split("srv suppressed host mx nx", paths, " ")
            for (i = 1; i <= np; i++) {
                p = paths[i]; key = ""
                for (k in cnt) if (k ~ ("^[(]b[0-9][)] autodiscover-3-" p "$")) key = k
                if (key == "" || median(key, 4) <= 0 || median(key, 12) <= 0) exit
                cost += share[p] / median(key, 4); cpu += share[p] / median(key, 12)
                list = list sprintf("%s%.1f %% %s", (list ? ", " : ""), 100 * share[p], p)
            }
            if (cost <= 0) exit
            printf "\n(b1) to (b5) weighted by their shares of (b)'"'"'s query file (%s) predict (b) at %.0f QPS and %.0f queries per CPU-second; (b) measured %.0f and %.0f.\n",
                list, 1 / cost, 1 / cpu, median("(b) autodiscover-3", 4), median("(b) autodiscover-3", 12)
        }' "$work/queries-0.shares" "$work/runs"
    echo
    echo "Response codes (round 1):"
    echo
    awk -F '\t' '$3 == 1 { printf "- %s: %s\n", $1, $13 }' "$work/runs"
    # The mix asks for names that exist or are hidden: only NOERROR and NXDOMAIN are expected;
    # each single path has one code.
    awk -F '\t' '
        { want = "NOERROR|NXDOMAIN" }
        $1 ~ /-(srv|host|mx)$/     { want = "NOERROR" }
        $1 ~ /-(suppressed|nx)$/   { want = "NXDOMAIN" }
        {
            codes = $13; gsub(/ [0-9]+ \([0-9.]+%\)/, "", codes); n = split(codes, c, /, */)
            for (i = 1; i <= n; i++)
                if (c[i] !~ ("^(" want ")$") && !seen[$1]++) bad = bad (bad ? ", " : "") $1 " (" c[i] ", expected " want ")"
        }
        END { if (bad) printf "\nUnexpected response codes in: %s.\n", bad }' "$work/runs"
} >"$work/table.md"

mkdir -p "$(dirname "$out")"
cp "$work/table.md" "$out"
echo
cat "$out"
say "table written to $out"
