#!/usr/bin/env bash
# Instructions per echoed request (callgrind counts instructions, not seconds, so a busy machine does not change
# them): the difference between a 6 s and a 2 s run of `bench echo -c 10 -s 1K`, divided by the difference in
# requests. `server BIN`: BIN's `serve --threads 1` under valgrind, driven by a native GENERATOR (default: BIN).
# `client BIN`: BIN's `bench echo` under valgrind against the C epoll server. Binaries are stripped of debug info
# first (this valgrind cannot read DWARF 5). The figures in BENCHMARKS.md's sessions 3 and 4.
set -euo pipefail
mode=$1; bin=$2; generator=${3:-$2}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
strip --strip-debug -o "$work/bin" "$bin"
gcc -O2 -o "$work/epoll_echo" "$root/Benchmarks/peers/epoll_echo.c"
port() { python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])"; }
run() {
    local seconds=$1 p requests
    p=$(port)
    if [ "$mode" = server ]; then
        valgrind --tool=callgrind --callgrind-out-file="$work/out" "$work/bin" serve --port "$p" --quiet --threads 1 >/dev/null 2>&1 &
        local pid=$!
        for _ in $(seq 100); do ss -ltn "sport = :$p" | grep -q LISTEN && break; sleep 0.1; done
        requests=$("$generator" bench echo "127.0.0.1:$p" -c 10 -s 1K -d "$seconds" 2>/dev/null | sed -n 's/^result.*requests=\([0-9]*\).*/\1/p')
        kill -INT "$pid"; wait "$pid" 2>/dev/null || true
    else
        "$work/epoll_echo" 127.0.0.1 "$p" >/dev/null 2>&1 &
        local pid=$!
        sleep 0.3
        requests=$(valgrind --tool=callgrind --callgrind-out-file="$work/out" "$work/bin" bench echo "127.0.0.1:$p" -c 10 -s 1K \
            -d "$seconds" --warmup 0 2>/dev/null | sed -n 's/^result.*requests=\([0-9]*\).*/\1/p')
        kill "$pid"; wait "$pid" 2>/dev/null || true
    fi
    echo "$requests $(grep -m1 '^summary:' "$work/out" | awk '{print $2}')"
}
read -r r1 i1 < <(run 2)
read -r r2 i2 < <(run 6)
echo "$mode: requests $r1 -> $r2, instructions $i1 -> $i2, per request $(( (i2 - i1) / (r2 - r1) ))"
