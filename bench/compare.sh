#!/usr/bin/env bash
# Whole-process comparison on one capture, in one run: netpeek's views
# against tcpdump, tshark and the libpcap read floor. Several rounds, each
# running every command once in turn (bench/rounds.py), medians, packets/s,
# MB/s and peak RSS, as a table; then the targets, and exit status 1 when
# one is missed.
#
#   bench/compare.sh [CAPTURE] [RUNS]
#
# With BASELINE=/path/to/an/older/netpeek the older build's timeline,
# --json and -q --stats run in the same rounds, and the script also fails
# when this build is more than 10 % slower (CPU time) than the older one.
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

declare -a names cmds keys
add() { keys+=("$1"); names+=("$2"); cmds+=("$3"); }
add floor "read floor (libpcap, count only)" "$floor $cap"
add tcpdump "tcpdump -n -r" "tcpdump -n -r $cap"
add timeline "netpeek (timeline)" "$netpeek -r $cap --color never"
add plain "netpeek --plain" "$netpeek -r $cap --plain"
add json "netpeek --json" "$netpeek -r $cap --json"
add stats "netpeek -q --stats" "$netpeek -r $cap -q --stats"
if [ -z "${SKIP_TSHARK:-}" ]; then
	add tshark "tshark -n -r" "tshark -n -r $cap"
	add tshark_http "tshark HTTP analysis" "tshark -n -r $cap -Y http -T fields -e frame.number -e http.request.method -e http.response.code -e http.time"
fi
if [ -n "${BASELINE:-}" ]; then
	add base_timeline "baseline netpeek (timeline)" "$BASELINE -r $cap --color never"
	add base_json "baseline netpeek --json" "$BASELINE -r $cap --json"
	add base_stats "baseline netpeek -q --stats" "$BASELINE -r $cap -q --stats"
fi

export LC_ALL=C TZ=UTC
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '\ncapture: %s (%s packets, %s MB)\nmachine: %s, %s cores\n\n' \
	"$cap" "$packets" "$((bytes / 1000000))" "$(uname -srm)" "$(nproc)"
declare -a medians rsss cpus
python3 -c 'import json, sys; json.dump(sys.argv[1:], sys.stdout)' "${cmds[@]}" \
	| python3 bench/rounds.py "$runs" > "$tmp/rounds.json"
# Per command: the median wall time, the CPU time (user + system, mean:
# steadier than wall time on a shared machine) and the peak RSS.
while read -r median cpu rss; do
	medians+=("$median")
	cpus+=("$cpu")
	rsss+=("$rss")
done < <(python3 -c "
import json
for r in json.load(open('$tmp/rounds.json')):
    print('%.3f %.3f %d' % (r['median'], r['cpu'], r['rss_mb']))")

# The table: time, rates, memory, each time as a multiple of the read
# floor's and of tcpdump's, and the CPU time (user + system) with its
# multiple of tcpdump's.
printf '%-34s %9s %11s %7s %9s %8s %9s %7s %9s\n' "command" "median s" "packets/s" "MB/s" "peak RSS" "x floor" "x tcpdump" "cpu s" "cpu x td"
for i in "${!names[@]}"; do
	python3 - "${names[$i]}" "${medians[$i]}" "${rsss[$i]}" "${medians[0]}" "${medians[1]}" "$packets" "$bytes" "${cpus[$i]}" "${cpus[1]}" <<'PY'
import sys
name, med, rss, floor, tcpdump, packets, nbytes, cpu, cpu_td = sys.argv[1], *map(float, sys.argv[2:])
print('%-34s %9.3f %11.0f %7.0f %6d MB %8.2f %9.2f %7.3f %9.2f' % (
    name, med, packets / med, nbytes / 1e6 / med, rss, med / floor, med / tcpdump, cpu, cpu / cpu_td))
PY
done

# The targets, from the same run. The script fails (exit status 1) when
# one is missed, naming it.
python3 - "$@" <<PY
import sys
keys = "${keys[*]}".split()
m = dict(zip(keys, [float(x) for x in "${medians[*]}".split()]))
cpu = dict(zip(keys, [float(x) for x in "${cpus[*]}".split()]))
rss = max(int(x) for x in "${rsss[*]}".split()[2:6])
checks = [
    ("timeline vs tcpdump -n -r:     %5.2fx faster (target >= 1.5x)", m["tcpdump"] / m["timeline"], lambda v: v >= 1.5),
    ("--json vs tcpdump -n -r:       %5.2fx faster (target >= 1.0x)", m["tcpdump"] / m["json"], lambda v: v >= 1.0),
    ("-q --stats vs the read floor:  %5.2fx its time (target <= 2x)", m["stats"] / m["floor"], lambda v: v <= 2.0),
]
if "tshark_http" in m:
    checks.append(("timeline vs tshark HTTP:       %5.1fx faster (target >= 20x)", m["tshark_http"] / m["timeline"], lambda v: v >= 20))
checks.append(("netpeek peak RSS:              %5d MB (target < 64 MB)", rss, lambda v: v < 64))
for mode in ["timeline", "json", "stats"]:
    if "base_" + mode in m:
        checks.append(("%-9s CPU vs baseline:    " % mode + "%5.2fx (target <= 1.10x)",
                       cpu[mode] / cpu["base_" + mode], lambda v: v <= 1.10))
print()
missed = 0
for text, value, ok in checks:
    met = ok(value)
    missed += not met
    print(text % value + ("" if met else "   MISSED"))
sys.exit(1 if missed else 0)
PY
