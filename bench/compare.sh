#!/usr/bin/env bash
# Whole-process comparison on one capture, in one run: netpeek's views
# against tcpdump, tshark and the libpcap read floor. Several runs each
# (hyperfine), medians, packets/s, MB/s and peak RSS, as a table.
#
#   bench/compare.sh [CAPTURE] [RUNS]
#
# Without CAPTURE it generates bench-data/gen.pcap (2 million packets,
# seeded) with examples/gen_capture.rs. Generated files are not committed.
set -euo pipefail
cd "$(dirname "$0")/.."

cap=${1:-bench-data/gen.pcap}
runs=${2:-5}
netpeek=./target/release/netpeek
floor=target/bench/readfloor

mkdir -p bench-data target/bench
if [ ! -f "$cap" ]; then
	cargo run --release --quiet --example gen_capture -- --packets 2000000 --seed 1 "$cap"
fi
cargo build --release --quiet
gcc -O2 -o "$floor" bench/readfloor.c -lpcap

packets=$("$floor" "$cap" | awk '{print $1}')
bytes=$(stat -c %s "$cap")
# Warm the page cache so every command reads from memory.
cat "$cap" > /dev/null

declare -a names cmds
add() { names+=("$1"); cmds+=("$2"); }
add "read floor (libpcap, count only)" "$floor $cap"
add "tcpdump -n -r" "tcpdump -n -r $cap"
add "netpeek (timeline)" "$netpeek -r $cap --color never"
add "netpeek --plain" "$netpeek -r $cap --plain"
add "netpeek --json" "$netpeek -r $cap --json"
add "netpeek -q --stats" "$netpeek -r $cap -q --stats"
if [ -z "${SKIP_TSHARK:-}" ]; then
	add "tshark -n -r" "tshark -n -r $cap"
	add "tshark HTTP analysis" "tshark -n -r $cap -Y http -T fields -e frame.number -e http.request.method -e http.response.code -e http.time"
fi

export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '\ncapture: %s (%s packets, %s MB)\nmachine: %s, %s cores\n\n' \
	"$cap" "$packets" "$((bytes / 1000000))" "$(uname -srm)" "$(nproc)"
printf '%-34s %10s %12s %9s %10s\n' "command" "median s" "packets/s" "MB/s" "peak RSS"
for i in "${!names[@]}"; do
	json="$tmp/$i.json"
	hyperfine --style none --runs "$runs" --warmup 1 --export-json "$json" \
		--output null "${cmds[$i]}" > /dev/null 2>&1 || true
	median=$(python3 -c "import json,sys; r=json.load(open('$json'))['results'][0]; print('%.3f' % r['median'])")
	rss=$( { /usr/bin/time -f '%M' sh -c "${cmds[$i]} >/dev/null 2>&1" ; } 2>&1 | tail -1 )
	pps=$(python3 -c "print('%.0f' % ($packets / $median))")
	mbs=$(python3 -c "print('%.0f' % ($bytes / 1e6 / $median))")
	printf '%-34s %10s %12s %9s %8s MB\n' "${names[$i]}" "$median" "$pps" "$mbs" "$((rss / 1024))"
done
