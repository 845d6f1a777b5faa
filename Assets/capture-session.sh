#!/usr/bin/env bash
# Makes Assets/screen-session.txt from a real netconsole session in tmux (160x40, the client pane's half): a session
# to the console's own echo server (round-trip times), then one to Python's HTTP server with CR LF line ends, where
# `GET / HTTP/1.0` and an empty line bring the response headers and body as they arrive.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build >/dev/null
binary="$PWD/.build/debug/netconsole"
work=$(mktemp -d)
http_pid=
trap 'tmux -L netconsole-session kill-server 2>/dev/null || true; [ -n "$http_pid" ] && kill "$http_pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/site"
printf 'hello from http\n' > "$work/site/index.txt"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$work/site" > "$work/http.out" 2>/dev/null &
http_pid=$!
for _ in $(seq 50); do grep -q 'port ' "$work/http.out" 2>/dev/null && break; sleep 0.1; done
http_port=$(grep -o 'port [0-9]*' "$work/http.out" | head -1 | cut -d' ' -f2)

tmux -L netconsole-session new-session -d -x 160 -y 40 -c "$work" \
    "env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME='$work/state' '$binary' --port 0 --dir '$work/received'"
sleep 1
keys() { tmux -L netconsole-session send-keys "$@"; sleep 0.3; }
keys -l 'ping'
keys Enter
keys -l 'Привіт, сервере!'
keys Enter
keys BTab C-u
keys -l "127.0.0.1:$http_port"
keys Enter
keys C-t
keys -l 'GET /index.txt HTTP/1.0'
keys Enter
keys Enter
sleep 1
# The client pane is the right part of the side-by-side layout: its columns only, counted in characters.
tmux -L netconsole-session capture-pane -p | python3 -c '
import sys
rows = sys.stdin.read().split("\n")
start = rows[0].index("CLIENT") - 1
print("\n".join(row[start:].rstrip() for row in rows[:-1]).rstrip("\n"))
' > Assets/screen-session.txt
echo "wrote Assets/screen-session.txt"
