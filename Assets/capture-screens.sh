#!/usr/bin/env bash
# Makes Assets/screen-80x24.txt and Assets/screen-160x45.txt from a real netconsole session in tmux:
# an nc client and a typed echo message, then a file sent from the picker.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build >/dev/null
binary="$PWD/.build/debug/netconsole"
work=$(mktemp -d)
trap 'tmux -L netconsole-shot kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/pick/photos"
printf 'lab notes\n' > "$work/pick/notes.txt"
head -c 3000000 /dev/urandom > "$work/pick/capture.pcap"

for size in 80x24 160x45; do
    tmux -L netconsole-shot kill-server 2>/dev/null || true
    sleep 0.5  # let the previous tmux server go before starting the next
    tmux -L netconsole-shot new-session -d -x "${size%x*}" -y "${size#*x}" -c "$work/pick" \
        "env TERM=xterm-256color LANG=C.UTF-8 XDG_STATE_HOME='$work/state' '$binary' --port 0 --dir '$work/received'"
    sleep 1
    port=$(tmux -L netconsole-shot capture-pane -p | grep -o 'echo 127.0.0.1:[0-9]*' | head -1 | cut -d: -f2)
    (printf 'hello from nc\n'; sleep 3) | nc -N 127.0.0.1 "$port" >/dev/null &
    sleep 0.5
    tmux -L netconsole-shot send-keys Enter
    tmux -L netconsole-shot send-keys -l 'Привіт, сервере!'
    tmux -L netconsole-shot send-keys Enter
    sleep 0.5
    tmux -L netconsole-shot send-keys Tab Tab
    tmux -L netconsole-shot send-keys -l 'capt'
    tmux -L netconsole-shot send-keys Enter
    sleep 1.5
    tmux -L netconsole-shot capture-pane -p > "Assets/screen-$size.txt"
    wait
done
echo "wrote Assets/screen-80x24.txt Assets/screen-160x45.txt"
