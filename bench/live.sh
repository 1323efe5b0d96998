#!/usr/bin/env bash
# Live capture under load: a bounded wrk run against nginx on loopback,
# captured by netpeek and by tcpdump, each with its default settings,
# alternated over several rounds. Prints packets captured, kernel drops
# and packets/s for each, plus a round with -w to a file (writing must not
# stall capture). Needs root (or capture capabilities), nginx and wrk.
#
#   bench/live.sh [ROUNDS] [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-3}
secs=${2:-10}
conns=${3:-50}
netpeek=./target/release/netpeek
port=${PORT:-18080}

cargo build --release --quiet
work=$(mktemp -d)
cleanup() {
	[ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# A small static site served by nginx on 127.0.0.1, keep-alive on.
. bench/nginx.sh
mkdir -p "$work/www"
head -c 612 /dev/zero | tr '\0' 'x' > "$work/www/index.html"
nginx_conf "$work" "127.0.0.1:$port" 1000000
nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
nginx_wait "http://127.0.0.1:$port/"

# One capture: start the capturer, run wrk for $secs seconds, stop it with
# SIGINT, read its final counters from stderr.
capture() {
	local name=$1; shift
	local err="$work/$name.err"
	"$@" > /dev/null 2> "$err" &
	local pid=$!
	sleep 1
	wrk -t2 -c"$conns" -d"${secs}s" "${wrk_extra[@]}" "http://127.0.0.1:$port/" > "$work/wrk.txt" 2>&1 || true
	sleep 0.5
	kill -INT "$pid"
	wait "$pid" || true
	local captured dropped
	captured=$(grep -Eo '^[0-9]+ packets? captured' "$err" | awk '{print $1}')
	dropped=$(grep -Eo '^[0-9]+ packets? dropped by kernel' "$err" | awk '{print $1}')
	local received=$((captured + dropped))
	case "$name" in netpeek*) [ "$dropped" = 0 ] || netpeek_dropped=1 ;; esac
	printf '%-28s %12s %10s %8.2f%% %12.0f\n' "$name" "$captured" "$dropped" \
		"$(python3 -c "print(100*$dropped/max(1,$received))")" \
		"$(python3 -c "print($received/$secs)")"
}

printf 'wrk: %s connections, %s s per run, %s rounds; machine: %s, %s cores\n\n' \
	"$conns" "$secs" "$rounds" "$(uname -srm)" "$(nproc)"
printf '%-28s %12s %10s %9s %12s\n' "capturer" "captured" "dropped" "drop %" "packets/s"
wrk_extra=()
for mode in keep-alive close; do
	if [ "$mode" = close ]; then
		# A new connection per request: more packets per request, and the
		# load under which tcpdump's defaults lose packets.
		wrk_extra=(-H "Connection: close")
	fi
	printf -- '-- wrk %s\n' "$mode"
	for r in $(seq "$rounds"); do
		capture "netpeek (timeline)" "$netpeek" -i lo --color never tcp port "$port"
		capture "tcpdump -n" tcpdump -n -i lo tcp port "$port"
	done
done
capture "netpeek -w (to disk)" "$netpeek" -i lo -q -w "$work/load.pcapng" tcp port "$port"
capture "tcpdump -w (to disk)" tcpdump -n -i lo -w "$work/load.pcap" tcp port "$port"

# The target: netpeek, with its defaults, drops nothing at these loads
# (the script fails when it did).
if [ -n "${netpeek_dropped:-}" ]; then
	echo "netpeek dropped packets: target missed" >&2
	exit 1
fi
