#!/usr/bin/env bash
# Makes Assets/screen-80x24.txt, Assets/screen-160x45.txt and Assets/screen-help-80x24.txt from a real netconsole
# session in tmux: an nc client, a typed echo message with its round-trip time, a file being sent to a server that
# has stopped reading (so the progress line is caught in flight), the connection list walked (its position shows),
# then the help (F1).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build >/dev/null
binary="$PWD/.build/debug/netconsole"
work=$(mktemp -d)
stall_pid=
trap 'tmux -L netconsole-shot kill-server 2>/dev/null || true; [ -n "$stall_pid" ] && kill "$stall_pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/pick/photos"
printf 'lab notes\n' > "$work/pick/notes.txt"
truncate -s 48M "$work/pick/capture.pcap"

# A file server that says READY, takes about 2 MiB slowly, then stops reading: the transfer stays in flight.
stall_server='
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
while True:
    conn, _ = s.accept()
    conn.recv(8192); conn.sendall(b"READY\n")
    for _ in range(30):
        conn.recv(65536); time.sleep(0.05)
    time.sleep(30); conn.close()
'

for size in 80x24 160x45; do
    tmux -L netconsole-shot kill-server 2>/dev/null || true
    [ -n "$stall_pid" ] && kill "$stall_pid" 2>/dev/null || true
    sleep 0.5  # let the previous tmux server go before starting the next
    python3 -c "$stall_server" > "$work/stall-port" &
    stall_pid=$!
    tmux -L netconsole-shot new-session -d -x "${size%x*}" -y "${size#*x}" -c "$work/pick" \
        "env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME='$work/state' '$binary' --port 0 --dir '$work/received'"
    sleep 1
    port=$(tmux -L netconsole-shot capture-pane -p | grep -o 'echo 127.0.0.1:[0-9]*' | head -1 | cut -d: -f2)
    stall_port=$(cat "$work/stall-port")
    (printf 'hello from nc\n'; sleep 8) | nc -N 127.0.0.1 "$port" >/dev/null &
    sleep 0.5
    tmux -L netconsole-shot send-keys -l 'Привіт, сервере!'
    tmux -L netconsole-shot send-keys Enter
    sleep 0.5
    tmux -L netconsole-shot send-keys Tab C-u
    tmux -L netconsole-shot send-keys -l "127.0.0.1:$stall_port"
    tmux -L netconsole-shot send-keys Enter
    tmux -L netconsole-shot send-keys -l 'capt'
    tmux -L netconsole-shot send-keys Enter
    sleep 2.5
    # Esc clears the picker's filter, the next goes to the connection list; Down selects the first connection.
    tmux -L netconsole-shot send-keys Escape
    sleep 0.2
    tmux -L netconsole-shot send-keys Escape
    sleep 0.2
    tmux -L netconsole-shot send-keys Down
    sleep 1
    tmux -L netconsole-shot capture-pane -p > "Assets/screen-$size.txt"
    if [ "$size" = 80x24 ]; then
        tmux -L netconsole-shot send-keys F1
        sleep 0.5
        tmux -L netconsole-shot capture-pane -p > "Assets/screen-help-$size.txt"
    fi
    wait "$!" 2>/dev/null || true
done
echo "wrote Assets/screen-80x24.txt Assets/screen-160x45.txt Assets/screen-help-80x24.txt"
