#!/usr/bin/env bash
# Makes Assets/screen-inspector-80x24.txt (the inspector in hex, then in text) and Assets/screen-ask-80x24.txt (an
# upload waiting for y or n under --ask) from a real netconsole session in tmux, with a python3 client that sent an
# HTTP request to the console's echo server and `netconsole send` uploading a file.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build >/dev/null
binary="$PWD/.build/debug/netconsole"
work=$(mktemp -d)
client_pid=
trap 'tmux -L netconsole-shot kill-server 2>/dev/null || true; [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/pick"
printf 'quarterly figures\n' > "$work/pick/report.csv"

tmux -L netconsole-shot kill-server 2>/dev/null || true
tmux -L netconsole-shot new-session -d -x 80 -y 24 -c "$work/pick" \
    "env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME='$work/state' '$binary' --port 0 --dir '$work/received' --ask"
sleep 1
screen=$(tmux -L netconsole-shot capture-pane -p)
port=$(grep -o 'echo 127.0.0.1:[0-9]*' <<< "$screen" | head -1 | cut -d: -f2)
files_port=$(grep -o 'files 127.0.0.1:[0-9]*' <<< "$screen" | head -1 | cut -d: -f2)
python3 -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /status HTTP/1.1\r\nHost: lab.example\r\nUser-Agent: curl/8.5\r\n\r\n")
s.recv(65536)
time.sleep(0.3)
s.sendall(b"\x1b[2Jbye\xff\n")
time.sleep(60)
' "$port" &
client_pid=$!
sleep 1
tmux -L netconsole-shot send-keys Escape
sleep 0.3
tmux -L netconsole-shot send-keys i
sleep 1.5
tmux -L netconsole-shot capture-pane -p > Assets/screen-inspector-80x24.txt
tmux -L netconsole-shot send-keys x
sleep 0.5
{ echo; tmux -L netconsole-shot capture-pane -p; } >> Assets/screen-inspector-80x24.txt
tmux -L netconsole-shot send-keys Escape
sleep 0.3
"$binary" send "$work/pick/report.csv" --to "127.0.0.1:$files_port" >/dev/null 2>&1 &
sleep 1.5
tmux -L netconsole-shot capture-pane -p > Assets/screen-ask-80x24.txt
tmux -L netconsole-shot send-keys n
wait "$!" 2>/dev/null || true
echo "wrote Assets/screen-inspector-80x24.txt Assets/screen-ask-80x24.txt"
