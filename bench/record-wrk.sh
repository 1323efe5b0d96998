#!/usr/bin/env bash
# Records real traffic for the benchmarks: wrk driving nginx across a veth
# pair (Ethernet frames, MTU 1500) between a network namespace this script
# creates and the host, captured by netpeek -w on the host side. Bounded in
# time; the namespace, the veth pair and nginx are removed on exit.
#
#   bench/record-wrk.sh OUT.pcap [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:?usage: $0 OUT.pcap [SECONDS]}
secs=${2:-4}
ns=npbench$$
host=npb$$h
peer=npb$$p
work=$(mktemp -d)
netpeek=./target/release/netpeek

cleanup() {
	[ -n "${cap:-}" ] && kill -INT "$cap" 2>/dev/null && wait "$cap" 2>/dev/null || true
	[ -n "${nginx_pid:-}" ] && kill "$nginx_pid" 2>/dev/null || true
	ip link del "$host" 2>/dev/null || true
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

cargo build --release --quiet
ip netns add "$ns"
ip link add "$host" type veth peer name "$peer"
ip link set "$peer" netns "$ns"
ip addr add 192.168.251.1/24 dev "$host"
ip link set "$host" up mtu 1500
ip netns exec "$ns" ip addr add 192.168.251.2/24 dev "$peer"
ip netns exec "$ns" ip link set "$peer" up mtu 1500
ip netns exec "$ns" ip link set lo up

. bench/nginx.sh
mkdir -p "$work/www"
# Mixed sizes: small pages and a larger object, as a site serves them.
head -c 612 /dev/zero | tr '\0' 'a' > "$work/www/index.html"
head -c 20000 /dev/zero | tr '\0' 'b' > "$work/www/big.html"
nginx_conf "$work" 192.168.251.2:80 100
ip netns exec "$ns" nginx -c "$work/nginx.conf" -p "$work" &
nginx_pid=$!
nginx_wait http://192.168.251.2/

"$netpeek" -i "$host" -q -w "$out.pcapng" tcp port 80 &
cap=$!
sleep 1
wrk -t2 -c32 -d"${secs}s" http://192.168.251.2/ > /dev/null 2>&1 &
small=$!
wrk -t1 -c4 -d"${secs}s" http://192.168.251.2/big.html > /dev/null 2>&1
wait "$small"
sleep 0.5
kill -INT "$cap"
wait "$cap" || true
cap=
# Keep a classic pcap too (what every reader reads).
tcpdump -r "$out.pcapng" -w "$out" 2>/dev/null
rm -f "$out.pcapng"
echo "recorded $out: $(tcpdump -r "$out" 2>/dev/null | wc -l) packets"
