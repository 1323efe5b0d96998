#!/usr/bin/env bash
# Instructions per thread (callgrind), for comparing two builds of netpeek
# side by side where wall time is too noisy (a shared machine). Counts are
# repeatable for the same binary, input and environment.
#
#   bench/instructions.sh CAPTURE BINARY [BINARY ...]
#
# For each binary and mode (timeline, --json, -q --stats) prints the
# instructions of each stage's thread in millions: read, dissect, output
# (the main thread runs the output stage; it starts the read thread, then
# the dissect thread). Use a slice of a capture (e.g. the
# first 40,000 packets of bench-data/wrk.pcap: editcap -r wrk.pcap
# wrk40k.pcap 1-40000): callgrind runs ~50x slower than native.
set -euo pipefail
cap=${1:?usage: $0 CAPTURE BINARY [BINARY ...]}
shift
command -v valgrind >/dev/null || { echo "valgrind is needed" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
modes=("timeline:" "json:--json" "stats:-q --stats")
printf '%-40s %-10s %s\n' binary mode "read dissect output (M instructions) = total"
for bin in "$@"; do
	for m in "${modes[@]}"; do
		name=${m%%:*}
		args=${m#*:}
		rm -f "$work"/cg.*
		# shellcheck disable=SC2086
		LC_ALL=C TZ=UTC valgrind --tool=callgrind --separate-threads=yes \
			--callgrind-out-file="$work/cg.%p" "$bin" -r "$cap" $args >/dev/null 2>"$work/log" ||
			{ cat "$work/log" >&2; exit 1; }
		# Files are cg.PID-01 (main: output), -02 (read), -03 (dissect).
		counts=$(for t in 02 03 01; do
			awk '/^summary:/ { print $2 }' "$work"/cg.*-$t
		done | awk '{ printf "%.1f ", $1 / 1e6; t += $1 } END { printf "= %.1f", t / 1e6 }')
		printf '%-40s %-10s %s\n' "$bin" "$name" "$counts"
	done
done
