#!/usr/bin/env bash
# CPU seconds (user + system, /usr/bin/time) of netconsole's file server and sender for one upload, and of nc's
# on both ends for the same file: the figures in BENCHMARKS.md's session 4 ("Files ... against nc"). CPU time is less
# sensitive to a busy machine than wall time. Usage: file-cpu.sh NETCONSOLE FILE [extra serve flags, e.g. --read-size 65536]
set -euo pipefail
netconsole=$1; file=$2; shift 2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
port() { python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1])"; }
p=$(port)
/usr/bin/time -o "$work/server.time" -f "netconsole serve: user %U s, system %S s" \
    "$netconsole" serve --files "$work/in" --no-fsync --max-size 8G --port "$p" --quiet "$@" &
server=$!
sleep 0.7
/usr/bin/time -f "netconsole send: user %U s, system %S s, wall %e s" "$netconsole" send "$file" --to "127.0.0.1:$p" 2>&1 | tail -1
pkill -INT -P "$server"; wait "$server" || true  # the signal goes to serve, so time(1) still reports
cat "$work/server.time"
p=$(port)
/usr/bin/time -o "$work/nc.time" -f "nc -l: user %U s, system %S s" nc -l 127.0.0.1 "$p" > "$work/copy" &
listener=$!
sleep 0.3
/usr/bin/time -f "nc -N: user %U s, system %S s, wall %e s" nc -N 127.0.0.1 "$p" < "$file"
wait "$listener" || true
cat "$work/nc.time"
