#!/usr/bin/env bash
# Side-by-side benchmarks of netconsole's engine against what a user would otherwise pick, on loopback.
# Servers run pinned to CPU 0, the load generator to CPU 1 (unless --unpinned), every server driven by the same
# generator (`netconsole bench echo`). Prints one table per case with ratios against ours.
#
# Usage: Benchmarks/run.sh [--quick] [--unpinned] [--runs N] [--duration S] [--only echo,udp,files,tree,memory,tls,rings]
#   --quick      1 run of 2 s per case (smoke test of the whole script)
#   --unpinned   no taskset; ours runs with --threads 1 and (netconsole-t2) --threads 2, NIO uses both cores too
#   --runs N     runs per case and server (median reported; default 5)
#   --duration S seconds measured per run (default 5; 0.5 s warmup before each)
#   --only LIST  sections to run: echo, udp, files, tree, memory, tls, rings (default all)
#   --servers L  echo servers to run, comma-separated (default: all of ECHO_SERVERS below)
#   --cases L    echo cases, comma-separated CONNSxSIZE (default: 1x64,100x1K,10x64K)
# Environment: SCRATCH=.build-xyz builds netconsole in that scratch path (default .build);
#              BASELINE=REV also builds netconsole as of git revision REV and runs it as echo server
#              "netconsole-base" beside today's (before/after a change to the hot path, in one run);
#              NETCONSOLE=path uses that netconsole binary instead of building one (for trying the script out);
#              FILE_SIZE=1G size of the file-transfer test file.
# It installs missing Debian packages (apt-get) and builds SwiftNIO's NIOEchoServer from the machine's local
# swift-nio copy into Benchmarks/.work/ (git-ignored); nothing of NIO is part of the product.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK="$ROOT/Benchmarks/.work"
PEERS="$ROOT/Benchmarks/peers"
RUNS=5
DURATION=5
WARMUP=0.5
PINNED=1
SECTIONS="echo,udp,files,tree,memory,tls,rings"
SERVERS_OPT=""
CASES_OPT=""
FILE_SIZE=${FILE_SIZE:-1G}
NIO_SOURCE=${NIO_SOURCE:-/opt/swift-packages/apple/swift-nio.git}
NIO_TAG=${NIO_TAG:-2.101.3}

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) RUNS=1; DURATION=2; WARMUP=0.3 ;;
        --unpinned) PINNED=0 ;;
        --runs) RUNS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --only) SECTIONS=$2; shift ;;
        --servers) SERVERS_OPT=$2; shift ;;
        --cases) CASES_OPT=$2; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
    shift
done

mkdir -p "$WORK"
RESULTS="$WORK/results-$(date -u +%Y%m%dT%H%M%SZ).tsv"
: > "$RESULTS"
ulimit -n 20000 2>/dev/null || true

STARTED_PIDS=()
cleanup() {
    for pid in "${STARTED_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT

log() { echo "== $*" >&2; }
section() { [[ ",$SECTIONS," == *",$1,"* ]]; }

# CPU placement: servers on CPU 0, load on CPU 1.
server_cpu() { if [ "$PINNED" = 1 ]; then echo "taskset -c 0"; fi; }
load_cpu() { if [ "$PINNED" = 1 ]; then echo "taskset -c 1"; fi; }

# MARK: Tools

ensure_packages() {
    local missing=()
    command -v ncat >/dev/null || missing+=(ncat)
    command -v socat >/dev/null || missing+=(socat)
    nc -h 2>&1 | grep -q -- '-N' || missing+=(netcat-openbsd)
    command -v taskset >/dev/null || missing+=(util-linux)
    command -v ss >/dev/null || missing+=(iproute2)
    command -v gcc >/dev/null || missing+=(gcc)
    command -v python3 >/dev/null || missing+=(python3)
    command -v openssl >/dev/null || missing+=(openssl)
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    fi
}

# The release build as the README ships it: the Swift runtime linked in (--static-swift-stdlib), so only the
# runtime code it touches becomes resident. Used for every table.
build_ours() {
    if [ -n "${NETCONSOLE:-}" ]; then
        log "using $NETCONSOLE (not built)"
        return
    fi
    local scratch=${SCRATCH:-.build}
    log "building netconsole (release, --static-swift-stdlib, $scratch)"
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product netconsole >&2)
    NETCONSOLE="$ROOT/$scratch/release/netconsole"
}

# netconsole as of revision $BASELINE (the same release build), from `git archive` into Benchmarks/.work.
build_baseline() {
    local dir="$WORK/baseline-$BASELINE"
    if [ ! -x "$dir/.build/release/netconsole" ]; then
        log "building netconsole as of $BASELINE (release, --static-swift-stdlib)"
        rm -rf "$dir" && mkdir -p "$dir"
        git -C "$ROOT" archive "$BASELINE" | tar -x -C "$dir"
        (cd "$dir" && swift build -c release --static-swift-stdlib --product netconsole >&2)
    fi
    NETCONSOLE_BASE="$dir/.build/release/netconsole"
}

# What plain `swift build -c release` makes (the runtime in shared libraries), for the memory comparison only.
build_ours_dynamic() {
    local scratch=${SCRATCH:-.build}-dynamic
    log "building netconsole (release, shared runtime, $scratch)"
    (cd "$ROOT" && swift build -c release --scratch-path "$scratch" --product netconsole >&2)
    NETCONSOLE_DYNAMIC="$ROOT/$scratch/release/netconsole"
}

build_nio() {
    local dir="$WORK/swift-nio"
    if [ ! -d "$dir/.git" ]; then
        log "cloning swift-nio $NIO_TAG from $NIO_SOURCE"
        git clone -q "$NIO_SOURCE" "$dir"
    fi
    if [ "$(git -C "$dir" describe --tags --exact-match 2>/dev/null)" != "$NIO_TAG" ]; then
        git -C "$dir" -c advice.detachedHead=false checkout -q "$NIO_TAG"
    fi
    log "building NIOEchoServer (release)"
    (cd "$dir" && swift build -c release --product NIOEchoServer >&2)
    NIO_ECHO="$dir/.build/release/NIOEchoServer"
}

build_c_echo() {
    C_ECHO="$WORK/epoll_echo"
    if [ ! -x "$C_ECHO" ] || [ "$PEERS/epoll_echo.c" -nt "$C_ECHO" ]; then
        gcc -O2 -o "$C_ECHO" "$PEERS/epoll_echo.c"
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_port() {
    for _ in $(seq 1 200); do
        # ss, not a probe connection: one-shot listeners (nc -l, socat without fork) would take it as the transfer.
        [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2
    return 1
}

# Starts server NAME (see start_echo_server) and sets SERVER_PID and SERVER_PORT.
start_echo_server() {
    local name=$1 port
    port=$(free_port)
    local cpu; cpu=$(server_cpu)
    case "$name" in
        netconsole-dynamic) $cpu "$NETCONSOLE_DYNAMIC" serve --host 127.0.0.1 --port "$port" --quiet >/dev/null & ;;
        netconsole) $cpu "$NETCONSOLE" serve --host 127.0.0.1 --port "$port" --quiet --threads 1 >/dev/null & ;;
        netconsole-t2) $cpu "$NETCONSOLE" serve --host 127.0.0.1 --port "$port" --quiet --threads 2 >/dev/null & ;;
        netconsole-base) $cpu "$NETCONSOLE_BASE" serve --host 127.0.0.1 --port "$port" --quiet --threads 1 >/dev/null & ;;
        nio) $cpu "$NIO_ECHO" 127.0.0.1 "$port" >/dev/null & ;;
        asyncio-protocol) $cpu python3 "$PEERS/asyncio_protocol_echo.py" 127.0.0.1 "$port" & ;;
        asyncio-streams) $cpu python3 "$PEERS/asyncio_streams_echo.py" 127.0.0.1 "$port" & ;;
        socat) $cpu socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,backlog=1024" PIPE & ;;
        ncat) $cpu ncat -k -m 2000 -l 127.0.0.1 "$port" -e /bin/cat & ;;
        c-epoll) $cpu "$C_ECHO" 127.0.0.1 "$port" & ;;
        *) echo "unknown server $name" >&2; return 1 ;;
    esac
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")
    SERVER_PORT=$port
    wait_for_port "$port"
}

# CPU time (clock ticks, all threads) of process PID so far; forked children (socat, ncat) are not included.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

stop_server() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# MARK: Echo

ECHO_SERVERS=(netconsole nio asyncio-protocol asyncio-streams socat ncat c-epoll)
# Unpinned, `serve --threads 2` (two loops, SO_REUSEPORT) runs beside the single loop.
[ "$PINNED" = 0 ] && ECHO_SERVERS=(netconsole netconsole-t2 "${ECHO_SERVERS[@]:1}")
ECHO_CASES=("1 64" "100 1K" "10 64K")
[ -n "${BASELINE:-}" ] && ECHO_SERVERS=(netconsole netconsole-base "${ECHO_SERVERS[@]:1}")
if [ -n "$SERVERS_OPT" ]; then IFS=, read -r -a ECHO_SERVERS <<< "$SERVERS_OPT"; fi
if [ -n "$CASES_OPT" ]; then
    ECHO_CASES=()
    for c in ${CASES_OPT//,/ }; do ECHO_CASES+=("${c%%x*} ${c#*x}"); done
fi

run_echo() {
    [ -n "${BASELINE:-}" ] && build_baseline
    [[ " ${ECHO_SERVERS[*]} " == *" nio "* ]] && build_nio
    [[ " ${ECHO_SERVERS[*]} " == *" c-epoll "* ]] && build_c_echo
    declare -A PORTS PIDS
    for name in "${ECHO_SERVERS[@]}"; do
        start_echo_server "$name"
        PORTS[$name]=$SERVER_PORT
        PIDS[$name]=$SERVER_PID
    done
    local load; load=$(load_cpu)
    for case in "${ECHO_CASES[@]}"; do
        set -- $case
        local conns=$1 size=$2
        for run in $(seq 1 "$RUNS"); do
            # Servers take turns within each run, so drift on the machine hits all of them alike.
            for name in "${ECHO_SERVERS[@]}"; do
                local cmd=($load "$NETCONSOLE" bench echo "127.0.0.1:${PORTS[$name]}" --connections "$conns" --size "$size" --duration "$DURATION" --warmup "$WARMUP")
                local line status=0 ticks_before ticks_after started ended
                ticks_before=$(cpu_ticks "${PIDS[$name]}"); started=$(now)
                line=$("${cmd[@]}" 2>"$WORK/bench-stderr" | grep '^result ') || status=$?
                ticks_after=$(cpu_ticks "${PIDS[$name]}"); ended=$(now)
                if [ $status -ne 0 ] || [ -z "$line" ]; then
                    log "$name ${conns}x$size run $run failed: $(tr '\n' ' ' < "$WORK/bench-stderr")"
                    line="result requests_per_s=nan mb_per_s=nan p50_us=nan p99_us=nan requests=0 mismatches=nan errors=nan cpu_pct=nan"
                fi
                # The server's CPU use over the whole bench command (connect, warmup and measured time).
                line="$line server_cpu_pct=$(python3 -c "print(round(($ticks_after - $ticks_before) / $(getconf CLK_TCK) / ($ended - $started) * 100))")"
                log "$name ${conns}x$size run $run: ${line#result }"
                echo -e "echo\t${conns} x $size\t$name\t$line" >> "$RESULTS"
            done
        done
    done
    for name in "${ECHO_SERVERS[@]}"; do stop_server "${PIDS[$name]}"; done
    echo "load command: ${load:+$load }netconsole bench echo 127.0.0.1:PORT --connections N --size S --duration $DURATION --warmup $WARMUP ($RUNS runs, median)"
    if [ "$PINNED" = 1 ]; then echo "servers: taskset -c 0 (NIOEchoServer and netconsole on one loop each)"; else echo "servers: unpinned; netconsole serve --threads 1 and (netconsole-t2) --threads 2, NIOEchoServer with its default System.coreCount loops"; fi
    echo "CPU columns: share of one core used by the server (all its threads; forked children of socat and ncat not counted) and by the generator"
    python3 - "$RESULTS" "$ROOT/Benchmarks" <<'PY'
import sys, statistics
sys.path.insert(0, sys.argv[2])
from results import Results
results = Results(sys.argv[1], "echo")
rows, order, med, cases = results.rows, results.order, results.med, results.cases
for case in cases:
    names = [n for c, n in order if c == case]
    print(f"\n### echo {case} B")
    print("| server | req/s | MB/s | p50 µs | p99 µs | mismatches | server CPU | generator CPU | ours ÷ theirs (req/s, medians) | per run | p50 theirs ÷ ours |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ours_rps = med("netconsole", case, "requests_per_s")
    ours_p50 = med("netconsole", case, "p50_us")
    for name in names:
        rps = med(name, case, "requests_per_s")
        mbs = med(name, case, "mb_per_s")
        p50 = med(name, case, "p50_us")
        p99 = med(name, case, "p99_us")
        mism = sum(float(r["mismatches"]) for r in rows[(case, name)] if r["mismatches"] != "nan")
        ratio = ours_rps / rps if rps and rps == rps else float("nan")
        lat = p50 / ours_p50 if ours_p50 else float("nan")
        # Servers take turns within each run, so run k of ours and run k of theirs were measured side by side.
        pairs = [float(a["requests_per_s"]) / float(b["requests_per_s"])
                 for a, b in zip(rows[(case, "netconsole")], rows[(case, name)])
                 if "nan" not in (a["requests_per_s"], b["requests_per_s"]) and float(b["requests_per_s"]) > 0]
        per_run = f"{statistics.median(pairs):.2f}×" if pairs else "–"
        scpu = med(name, case, "server_cpu_pct")
        gcpu = med(name, case, "cpu_pct")
        scpu_text = "–" if name in ("socat", "ncat") else f"{scpu:.0f} %"
        print(f"| {name} | {rps:,.0f} | {mbs:,.1f} | {p50:,.1f} | {p99:,.1f} | {mism:.0f} | {scpu_text} | {gcpu:.0f} % | {ratio:.2f}× | {per_run} | {lat:.2f}× |")
    if "netconsole-t2" in names and "nio" in names:
        t2 = [float(a["requests_per_s"]) / float(b["requests_per_s"])
              for a, b in zip(rows[(case, "netconsole-t2")], rows[(case, "nio")])
              if "nan" not in (a["requests_per_s"], b["requests_per_s"]) and float(b["requests_per_s"]) > 0]
        if t2:
            print(f"\nnetconsole-t2 ÷ nio: {med('netconsole-t2', case, 'requests_per_s') / med('nio', case, 'requests_per_s'):.2f}× "
                  f"(medians), {statistics.median(t2):.2f}× (per run)")
PY
}

# MARK: UDP echo

UDP_SERVERS=(netconsole socat c-udp)
# SOCKETS SIZE PIPELINE: one datagram at a time (latency), then datagrams in flight from one and from four sockets.
UDP_CASES=("1 64 1" "1 64 8" "4 64 8" "4 1K 8")

build_c_udp_echo() {
    C_UDP_ECHO="$WORK/udp_echo"
    if [ ! -x "$C_UDP_ECHO" ] || [ "$PEERS/udp_echo.c" -nt "$C_UDP_ECHO" ]; then
        gcc -O2 -o "$C_UDP_ECHO" "$PEERS/udp_echo.c"
    fi
}

free_udp_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for_udp_port() {
    for _ in $(seq 1 200); do
        [ -n "$(ss -lunH "sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    echo "nothing listens on UDP port $1" >&2
    return 1
}

start_udp_server() {
    local name=$1 port
    port=$(free_udp_port)
    local cpu; cpu=$(server_cpu)
    case "$name" in
        netconsole) $cpu "$NETCONSOLE" serve --udp-only --host 127.0.0.1 --port "$port" --quiet >/dev/null & ;;
        # fork: a child per source address (the generator's sockets); -T ends a child once its source is silent.
        socat) $cpu socat -T 3 "UDP-LISTEN:$port,bind=127.0.0.1,fork" PIPE & ;;
        c-udp) $cpu "$C_UDP_ECHO" 127.0.0.1 "$port" & ;;
        *) echo "unknown UDP server $name" >&2; return 1 ;;
    esac
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")
    SERVER_PORT=$port
    wait_for_udp_port "$port"
}

run_udp() {
    build_c_udp_echo
    local load; load=$(load_cpu)
    for case in "${UDP_CASES[@]}"; do
        set -- $case
        local sockets=$1 size=$2 pipeline=$3
        for run in $(seq 1 "$RUNS"); do
            for name in "${UDP_SERVERS[@]}"; do
                # socat's UDP-LISTEN forks a child for a peer's first datagram; datagrams that arrive meanwhile start
                # children of their own and come back twice or to the wrong socket: it is measured one at a time only.
                if [ "$name" = socat ] && { [ "$sockets" != 1 ] || [ "$pipeline" != 1 ]; }; then continue; fi
                # A fresh server per run: socat's children belong to the sockets of one generator.
                start_udp_server "$name"
                local cmd=($load "$NETCONSOLE" bench echo --udp "127.0.0.1:$SERVER_PORT" --connections "$sockets" --size "$size" --pipeline "$pipeline" --duration "$DURATION" --warmup "$WARMUP")
                local line status=0 ticks_before ticks_after started ended
                ticks_before=$(cpu_ticks "$SERVER_PID"); started=$(now)
                line=$("${cmd[@]}" 2>"$WORK/bench-stderr" | grep '^result ') || status=$?
                ticks_after=$(cpu_ticks "$SERVER_PID"); ended=$(now)
                if [ $status -ne 0 ] || [ -z "$line" ]; then
                    log "udp $name ${sockets}x${size}x$pipeline run $run failed: $(tr '\n' ' ' < "$WORK/bench-stderr")"
                    line="result datagrams_per_s=nan mb_per_s=nan p50_us=nan p99_us=nan sent=0 echoed=0 lost=nan loss_pct=nan late=nan mismatches=nan cpu_pct=nan"
                fi
                line="$line server_cpu_pct=$(python3 -c "print(round(($ticks_after - $ticks_before) / $(getconf CLK_TCK) / ($ended - $started) * 100))")"
                log "udp $name ${sockets}x${size}x$pipeline run $run: ${line#result }"
                echo -e "udp\t${sockets} x $size, pipeline $pipeline\t$name\t$line" >> "$RESULTS"
                pkill -P "$SERVER_PID" 2>/dev/null || true
                stop_server "$SERVER_PID"
            done
        done
    done
    echo "load command: ${load:+$load }netconsole bench echo --udp 127.0.0.1:PORT --connections N --size S --pipeline K --duration $DURATION --warmup $WARMUP ($RUNS runs, median)"
    echo "servers: netconsole serve --udp-only; socat -T 3 UDP-LISTEN:PORT,fork PIPE (one datagram in flight only; its forked children not in the CPU column); Benchmarks/peers/udp_echo.c (blocking recvfrom/sendto)"
    python3 - "$RESULTS" "$ROOT/Benchmarks" <<'PY'
import sys, statistics
sys.path.insert(0, sys.argv[2])
from results import Results
results = Results(sys.argv[1], "udp")
rows, order, med, cases = results.rows, results.order, results.med, results.cases
for case in cases:
    names = [n for c, n in order if c == case]
    print(f"\n### udp echo {case} B")
    print("| server | datagrams/s | p50 µs | p99 µs | loss % | mismatches | server CPU | generator CPU | ours ÷ theirs (datagrams/s) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ours = med("netconsole", case, "datagrams_per_s")
    for name in names:
        dps = med(name, case, "datagrams_per_s")
        mism = sum(float(r["mismatches"]) for r in rows[(case, name)] if r["mismatches"] != "nan")
        ratio = ours / dps if dps and dps == dps else float("nan")
        scpu_text = "–" if name == "socat" else f"{med(name, case, 'server_cpu_pct'):.0f} %"
        print(f"| {name} | {dps:,.0f} | {med(name, case, 'p50_us'):,.1f} | {med(name, case, 'p99_us'):,.1f} | "
              f"{med(name, case, 'loss_pct'):.2f} | {mism:.0f} | {scpu_text} | {med(name, case, 'cpu_pct'):.0f} % | {ratio:.2f}× |")
PY
}

# MARK: Files

FILE_RECEIVERS=(nc socat netconsole netconsole-fsync dd-fsync)

make_test_file() {
    TEST_FILE="$WORK/random-$FILE_SIZE.bin"
    if [ ! -f "$TEST_FILE" ]; then
        log "writing $FILE_SIZE of random bytes to $TEST_FILE"
        head -c "$FILE_SIZE" /dev/urandom > "$TEST_FILE.tmp" && mv "$TEST_FILE.tmp" "$TEST_FILE"
    fi
    TEST_FILE_BYTES=$(stat -c %s "$TEST_FILE")
    TEST_FILE_SHA=$(sha256sum "$TEST_FILE" | cut -d' ' -f1)
    cat "$TEST_FILE" > /dev/null  # into the page cache, so every run reads it from memory
}

now() { date +%s.%N; }

# One transfer of the test file to receiver NAME; prints seconds taken.
file_transfer() {
    local name=$1 port dest="$WORK/received"
    rm -rf "$dest" && mkdir -p "$dest"
    port=$(free_port)
    local scpu lcpu; scpu=$(server_cpu); lcpu=$(load_cpu)
    local start end pid
    case "$name" in
        nc)
            $scpu nc -l 127.0.0.1 "$port" > "$dest/file" & pid=$!
            wait_for_port "$port"
            start=$(now)
            $lcpu nc -N 127.0.0.1 "$port" < "$TEST_FILE"
            wait "$pid"; end=$(now)
            check_copy "$dest/file" ;;
        socat)
            $scpu socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" "OPEN:$dest/file,creat,trunc" & pid=$!
            wait_for_port "$port"
            start=$(now)
            $lcpu socat -u "OPEN:$TEST_FILE" "TCP:127.0.0.1:$port"
            wait "$pid"; end=$(now)
            check_copy "$dest/file" ;;
        netconsole|netconsole-fsync)
            local fsync_flag=--no-fsync; [ "$name" = netconsole-fsync ] && fsync_flag=
            $scpu "$NETCONSOLE" serve --files "$dest" $fsync_flag --max-size 2G --host 127.0.0.1 --port "$port" --quiet > "$WORK/files-server.out" & pid=$!
            STARTED_PIDS+=("$pid")
            wait_for_port "$port"
            start=$(now)
            $lcpu "$NETCONSOLE" send "$TEST_FILE" --to "127.0.0.1:$port" > "$WORK/send.out" 2>&1
            end=$(now)
            local hwm; hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
            echo -e "memory\tupload $FILE_SIZE ($name)\tnetconsole\t$hwm" >> "$RESULTS"
            stop_server "$pid"
            check_copy "$dest/$(basename "$TEST_FILE")" ;;
        dd-fsync)
            start=$(now)
            $scpu dd if="$TEST_FILE" of="$dest/file" bs=1M conv=fsync status=none
            end=$(now) ;;
    esac
    rm -rf "$dest"
    python3 -c "print($end - $start)"
}

check_copy() {
    local sum; sum=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$sum" != "$TEST_FILE_SHA" ]; then echo "copy $1 differs from the original" >&2; return 1; fi
}

run_files() {
    make_test_file
    for run in $(seq 1 "$RUNS"); do
        for name in "${FILE_RECEIVERS[@]}"; do
            local seconds; seconds=$(file_transfer "$name")
            local mbs; mbs=$(python3 -c "print(round($TEST_FILE_BYTES / $seconds / 1e6, 1))")
            log "$name run $run: $seconds s, $mbs MB/s"
            echo -e "files\t$FILE_SIZE\t$name\t$mbs" >> "$RESULTS"
        done
    done
    echo
    echo "### files: $FILE_SIZE of random bytes, $RUNS runs, median (ours: SHA-256 verified by the send command)"
    echo "| receiver | MB/s | ours (no fsync) ÷ it |"
    echo "|---|---:|---:|"
    python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
rates = collections.defaultdict(list)
for line in open(sys.argv[1]):
    section, case, name, value = line.rstrip("\n").split("\t")
    if section == "files":
        rates[name].append(float(value))
ours = statistics.median(rates["netconsole"]) if rates["netconsole"] else float("nan")
ours_fsync = statistics.median(rates["netconsole-fsync"]) if rates["netconsole-fsync"] else float("nan")
for name, values in rates.items():
    m = statistics.median(values)
    mine = ours_fsync if name in ("dd-fsync", "netconsole-fsync") else ours
    print(f"| {name} | {m:,.1f} | {mine / m:.2f}× |")
PY
    echo "(fsync rows compare netconsole-fsync with dd-fsync)"
}

# MARK: Folder trees

# 10,000 files of 4 KiB in 100 folders: what many small files cost, against tar piped through netcat.
TREE_RECEIVERS=(tar-nc netconsole netconsole-fsync)

make_test_tree() {
    TEST_TREE="$WORK/tree"
    if [ ! -d "$TEST_TREE" ]; then
        log "writing 10,000 files of 4 KiB to $TEST_TREE"
        python3 - "$TEST_TREE.tmp" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(100):
    os.makedirs(f"{root}/d{d:03}", exist_ok=True)
    for f in range(100):
        with open(f"{root}/d{d:03}/f{f:03}.bin", "wb") as out:
            out.write(os.urandom(4096))
PY
        mv "$TEST_TREE.tmp" "$TEST_TREE"
    fi
    TEST_TREE_SUM=$(cd "$TEST_TREE" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
    cat "$TEST_TREE"/*/* > /dev/null
}

check_tree() {
    local sum; sum=$(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
    if [ "$sum" != "$TEST_TREE_SUM" ]; then echo "tree $1 differs from the original" >&2; return 1; fi
}

# One transfer of the test tree to receiver NAME; prints seconds taken.
tree_transfer() {
    local name=$1 port dest="$WORK/received-tree"
    rm -rf "$dest" && mkdir -p "$dest"
    port=$(free_port)
    local scpu lcpu; scpu=$(server_cpu); lcpu=$(load_cpu)
    local start end pid
    case "$name" in
        tar-nc)
            (cd "$dest" && $scpu nc -l 127.0.0.1 "$port" | tar xf -) & pid=$!
            wait_for_port "$port"
            start=$(now)
            (cd "$WORK" && tar cf - tree | $lcpu nc -N 127.0.0.1 "$port")
            wait "$pid"; end=$(now) ;;
        netconsole|netconsole-fsync)
            local fsync_flag=--no-fsync; [ "$name" = netconsole-fsync ] && fsync_flag=
            $scpu "$NETCONSOLE" serve --files "$dest" $fsync_flag --host 127.0.0.1 --port "$port" --quiet > "$WORK/files-server.out" & pid=$!
            STARTED_PIDS+=("$pid")
            wait_for_port "$port"
            start=$(now)
            $lcpu "$NETCONSOLE" send "$TEST_TREE" --to "127.0.0.1:$port" > "$WORK/send.out" 2>&1
            end=$(now)
            stop_server "$pid" ;;
    esac
    check_tree "$dest/tree"
    rm -rf "$dest"
    python3 -c "print($end - $start)"
}

run_tree() {
    make_test_tree
    for run in $(seq 1 "$RUNS"); do
        for name in "${TREE_RECEIVERS[@]}"; do
            local seconds; seconds=$(tree_transfer "$name")
            log "$name run $run: $seconds s"
            echo -e "tree	10000x4K	$name	$seconds" >> "$RESULTS"
        done
    done
    echo
    echo "### tree: 10,000 files of 4 KiB in 100 folders, $RUNS runs, median (ours: each file SHA-256 verified)"
    echo "| receiver | seconds | files/s | it ÷ ours (no fsync) |"
    echo "|---|---:|---:|---:|"
    python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
times = collections.defaultdict(list)
for line in open(sys.argv[1]):
    section, case, name, value = line.rstrip("\n").split("\t")
    if section == "tree":
        times[name].append(float(value))
ours = statistics.median(times["netconsole"]) if times["netconsole"] else float("nan")
for name, values in times.items():
    m = statistics.median(values)
    print(f"| {name} | {m:.2f} | {10000 / m:,.0f} | {m / ours:.2f}× |")
PY
}

# MARK: Memory

# Peak RSS (VmHWM, KiB) of server NAME after it has held N idle connections.
idle_rss() {
    local name=$1 count=$2
    start_echo_server "$name"
    local pid=$SERVER_PID
    # python3 and ncat/socat are wrappers or forking servers: measure the process that serves.
    local rss_pid=$pid
    $(load_cpu) python3 - "$SERVER_PORT" "$count" <<'PY'
import socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
held = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    held.append(s)
# Make sure the server really serves each one: one byte echoed on every connection.
for s in held:
    s.sendall(b"x")
for s in held:
    assert s.recv(1) == b"x"
time.sleep(1)
PY
    local hwm; hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$rss_pid/status")
    stop_server "$pid"
    echo "$hwm"
}

run_memory() {
    build_nio
    build_c_echo
    build_ours_dynamic
    echo
    echo "### memory: peak RSS (VmHWM) holding 1000 idle connections (each echoed one byte)"
    echo "| server | MiB |"
    echo "|---|---:|"
    for name in netconsole netconsole-dynamic nio asyncio-protocol c-epoll; do
        local kib; kib=$(idle_rss "$name" 1000)
        echo -e "memory\tidle 1000\t$name\t$kib" >> "$RESULTS"
        echo "| $name | $(python3 -c "print(round($kib / 1024, 1))") |"
    done
}

# MARK: TLS

TLS_SERVERS=(netconsole socat ncat)
TLS_CASES=("100 1K" "10 64K")

# One ECDSA P-256 certificate for localhost, used by every TLS server; clients pin or trust it as their CA.
make_tls_certificate() {
    TLS_CERT="$WORK/tls-cert.pem"
    TLS_KEY="$WORK/tls-key.pem"
    if [ ! -f "$TLS_CERT" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
            -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null
    fi
    TLS_PIN=$(openssl x509 -in "$TLS_CERT" -noout -fingerprint -sha256 | cut -d= -f2)
}

start_tls_server() {
    local name=$1 port
    port=$(free_port)
    local cpu; cpu=$(server_cpu)
    case "$name" in
        netconsole) $cpu "$NETCONSOLE" serve --tls --cert "$TLS_CERT" --key "$TLS_KEY" --host 127.0.0.1 --port "$port" --quiet --threads 1 >/dev/null & ;;
        socat) $cpu socat "OPENSSL-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,backlog=1024,cert=$TLS_CERT,key=$TLS_KEY,verify=0" PIPE & ;;
        ncat) $cpu ncat -k -m 2000 --ssl --ssl-cert "$TLS_CERT" --ssl-key "$TLS_KEY" -l 127.0.0.1 "$port" -e /bin/cat & ;;
        *) echo "unknown TLS server $name" >&2; return 1 ;;
    esac
    SERVER_PID=$!
    STARTED_PIDS+=("$SERVER_PID")
    SERVER_PORT=$port
    wait_for_port "$port"
}

run_tls() {
    make_tls_certificate
    local load; load=$(load_cpu)
    declare -A PORTS PIDS
    for name in "${TLS_SERVERS[@]}"; do
        start_tls_server "$name"
        PORTS[$name]=$SERVER_PORT
        PIDS[$name]=$SERVER_PID
    done
    for case in "${TLS_CASES[@]}" "handshakes"; do
        set -- $case
        for run in $(seq 1 "$RUNS"); do
            for name in "${TLS_SERVERS[@]}"; do
                local cmd label
                if [ "$case" = handshakes ]; then
                    label="handshakes, 8 at a time"
                    cmd=($load "$NETCONSOLE" bench echo --tls --handshakes --fingerprint "$TLS_PIN" "127.0.0.1:${PORTS[$name]}" --connections 8 --duration "$DURATION" --warmup "$WARMUP")
                else
                    label="${1} x $2"
                    cmd=($load "$NETCONSOLE" bench echo --tls --fingerprint "$TLS_PIN" "127.0.0.1:${PORTS[$name]}" --connections "$1" --size "$2" --duration "$DURATION" --warmup "$WARMUP")
                fi
                local line status=0
                line=$("${cmd[@]}" 2>"$WORK/bench-stderr" | grep '^result ') || status=$?
                if [ $status -ne 0 ] || [ -z "$line" ]; then
                    log "tls $name $label run $run failed: $(tr '\n' ' ' < "$WORK/bench-stderr")"
                    line="result requests_per_s=nan handshakes_per_s=nan p50_us=nan p99_us=nan mismatches=nan errors=nan cpu_pct=nan"
                fi
                log "tls $name $label run $run: ${line#result }"
                echo -e "tls\t$label\t$name\t$line" >> "$RESULTS"
            done
        done
    done
    for name in "${TLS_SERVERS[@]}"; do pkill -P "${PIDS[$name]}" 2>/dev/null || true; stop_server "${PIDS[$name]}"; done
    echo
    echo "load command: ${load:+$load }netconsole bench echo --tls --fingerprint SHA256:... 127.0.0.1:PORT --connections N --size S (or --handshakes --connections 8) --duration $DURATION --warmup $WARMUP ($RUNS runs, median)"
    echo "servers: netconsole serve --tls --cert/--key --threads 1; socat OPENSSL-LISTEN:PORT,fork,...,verify=0 PIPE; ncat -k --ssl -l -e /bin/cat (one ECDSA P-256 certificate for all)"
    python3 - "$RESULTS" "$ROOT/Benchmarks" <<'PY'
import sys, statistics
sys.path.insert(0, sys.argv[2])
from results import Results
results = Results(sys.argv[1], "tls")
rows, order, med, cases = results.rows, results.order, results.med, results.cases
for case in cases:
    names = [n for c, n in order if c == case]
    key = "handshakes_per_s" if case.startswith("handshakes") else "requests_per_s"
    unit = "handshakes/s" if key == "handshakes_per_s" else "req/s"
    print(f"\n### tls echo {case}" + ("" if key == "handshakes_per_s" else " B"))
    print(f"| server | {unit} | p50 µs | p99 µs | errors | ours ÷ theirs |")
    print("|---|---:|---:|---:|---:|---:|")
    ours = med("netconsole", case, key)
    for name in names:
        rate = med(name, case, key)
        errors = sum(float(r.get("errors", "nan")) for r in rows[(case, name)] if r.get("errors", "nan") != "nan")
        ratio = ours / rate if rate and rate == rate else float("nan")
        print(f"| {name} | {rate:,.0f} | {med(name, case, 'p50_us'):,.1f} | {med(name, case, 'p99_us'):,.1f} | {errors:.0f} | {ratio:.2f}× |")
PY
    run_tls_upload
}

# One upload of the test file over TLS to receiver NAME (ours: send --tls into serve --files --tls; socat: OPENSSL
# into OPENSSL-LISTEN writing a file), SHA-256 checked; prints seconds taken.
tls_transfer() {
    local name=$1 port dest="$WORK/received-tls"
    rm -rf "$dest" && mkdir -p "$dest"
    port=$(free_port)
    local scpu lcpu; scpu=$(server_cpu); lcpu=$(load_cpu)
    local start end pid
    case "$name" in
        netconsole)
            $scpu "$NETCONSOLE" serve --files "$dest" --no-fsync --max-size 2G --tls --cert "$TLS_CERT" --key "$TLS_KEY" --host 127.0.0.1 --port "$port" --quiet > /dev/null & pid=$!
            STARTED_PIDS+=("$pid")
            wait_for_port "$port"
            start=$(now)
            $lcpu "$NETCONSOLE" send --tls --fingerprint "$TLS_PIN" "$TEST_FILE" --to "127.0.0.1:$port" > "$WORK/send.out" 2>&1
            end=$(now)
            stop_server "$pid"
            check_copy "$dest/$(basename "$TEST_FILE")" ;;
        socat)
            $scpu socat -u "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,cert=$TLS_CERT,key=$TLS_KEY,verify=0" "OPEN:$dest/file,creat,trunc" & pid=$!
            wait_for_port "$port"
            start=$(now)
            $lcpu socat -u "OPEN:$TEST_FILE" "OPENSSL:127.0.0.1:$port,cafile=$TLS_CERT,commonname=localhost"
            wait "$pid"; end=$(now)
            check_copy "$dest/file" ;;
    esac
    rm -rf "$dest"
    python3 -c "print($end - $start)"
}

run_tls_upload() {
    make_test_file
    for run in $(seq 1 "$RUNS"); do
        for name in netconsole socat; do
            local seconds; seconds=$(tls_transfer "$name")
            local mbs; mbs=$(python3 -c "print(round($TEST_FILE_BYTES / $seconds / 1e6, 1))")
            log "tls upload $name run $run: $seconds s, $mbs MB/s"
            echo -e "tls-files\t$FILE_SIZE\t$name\t$mbs" >> "$RESULTS"
        done
    done
    echo
    echo "### tls upload: $FILE_SIZE of random bytes over TLS, $RUNS runs, median, SHA-256 of the copy checked (ours: send --tls into serve --files --tls --no-fsync; socat: OPENSSL into OPENSSL-LISTEN writing a file)"
    echo "| receiver | MB/s | ours ÷ it |"
    echo "|---|---:|---:|"
    python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
rates = collections.defaultdict(list)
for line in open(sys.argv[1]):
    section, case, name, value = line.rstrip("\n").split("\t")
    if section == "tls-files":
        rates[name].append(float(value))
ours = statistics.median(rates["netconsole"]) if rates["netconsole"] else float("nan")
for name, values in rates.items():
    m = statistics.median(values)
    print(f"| {name} | {m:,.1f} | {ours / m:.2f}× |")
PY
}

# MARK: Payload rings

# Peak RSS (VmHWM, KiB) of `serve` (one loop) holding COUNT connections that each echoed BYTES bytes; EXTRA is
# --watch-all (every connection keeps the inspector's payload rings) or nothing.
rings_rss() {
    local count=$1 bytes=$2 extra=$3 port
    port=$(free_port)
    # shellcheck disable=SC2086
    $(server_cpu) "$NETCONSOLE" serve --host 127.0.0.1 --port "$port" --quiet --threads 1 --max-connections 20000 $extra >/dev/null &
    local pid=$!
    STARTED_PIDS+=("$pid")
    wait_for_port "$port"
    $(load_cpu) python3 - "$port" "$count" "$bytes" <<'PY'
import socket, sys, time
port, count, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
held = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    held.append(s)
    # Each connection echoes its payload once, so (with --watch-all) each ring holds it each way.
    s.sendall(payload)
    got = 0
    while got < size:
        got += len(s.recv(65536))
time.sleep(1)
PY
    local hwm; hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status")
    stop_server "$pid"
    echo "$hwm"
}

run_rings() {
    local count=10000
    echo
    echo "### memory: peak RSS (VmHWM) of serve holding $count connections, without and with payload rings (--watch-all)"
    echo "| payload echoed per connection | no rings (MiB) | rings (MiB) | rings cost per connection (KiB) |"
    echo "|---|---:|---:|---:|"
    for bytes in 64 1024 65536; do
        local without with
        without=$(rings_rss "$count" "$bytes" "")
        with=$(rings_rss "$count" "$bytes" "--watch-all")
        echo -e "rings\t$count x $bytes\tno rings\t$without" >> "$RESULTS"
        echo -e "rings\t$count x $bytes\trings\t$with" >> "$RESULTS"
        echo "| $bytes B | $(python3 -c "print(round($without / 1024, 1))") | $(python3 -c "print(round($with / 1024, 1))") | $(python3 -c "print(round(($with - $without) / $count, 1))") |"
    done
}

# MARK: Main

ensure_packages
build_ours
echo "# netconsole benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(uname -r)"
echo "# Benchmarks/run.sh $([ "$PINNED" = 1 ] && echo pinned || echo --unpinned) --runs $RUNS --duration $DURATION"
section echo && run_echo
section udp && run_udp
section files && run_files
section tree && run_tree
section memory && run_memory
section tls && run_tls
section rings && run_rings
if section files; then
    echo
    echo "### memory: peak RSS (VmHWM) of the file server during one $FILE_SIZE upload"
    echo "| run | highest VmHWM over the runs |"
    echo "|---|---:|"
    awk -F'\t' '$1 == "memory" && $2 ~ /^upload/ { if ($4 > peak[$2]) peak[$2] = $4 } END { for (k in peak) printf "| %s | %.1f MiB |\n", k, peak[k] / 1024 }' "$RESULTS" | sort
fi
echo
echo "raw results: $RESULTS"
