#!/usr/bin/env bash
# Records the lecture scenario with netpeek itself: python3's http.server on
# 127.0.0.1:8000 serving a small directory, and one `curl` of "/".
# Usage: scripts/record-lecture.sh OUT.pcapng   (needs root or capture capabilities)
set -euo pipefail
out=${1:?usage: $0 OUT.pcapng}
netpeek=${NETPEEK:-./target/release/netpeek}
port=${PORT:-8000}
dir=$(mktemp -d)
trap 'kill "$server" "$cap" 2>/dev/null || true; rm -rf "$dir"' EXIT

printf '<!doctype html>\n<title>netpeek</title>\n<p>Hello from the lecture server.</p>\n' > "$dir/index.html"
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$dir" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

"$netpeek" -i lo -q -w "$out" "tcp port $port" &
cap=$!
sleep 1
curl -s -o /dev/null "http://127.0.0.1:$port/"
sleep 0.5
kill -INT "$cap"
wait "$cap"
echo "recorded $out"
