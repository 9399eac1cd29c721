#!/usr/bin/env bash
# Live packets/s through a veth pair between two namespaces (offloads off):
# 64-byte UDP datagrams and a TCP upload (server ingress: mid-flow data
# segments), with no XDP program, hydrascope (native and generic XDP, dry
# run) and xdp-filter (xdp-tools) attached to the server side. Bounded:
# 5 s per measurement; the namespaces go on exit. Prints one JSON object.
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
NB=$PWD/build/netblast
SECS=5
. tools/testbed.sh
testbed_up > /dev/null || { echo '{"error":"test bed did not come up"}'; exit 1; }
clean_up_on_exit testbed_down

measure() {
	local udp tcp
	tb_srv "$NB" udp-recv 9000 $((SECS + 2)) > "$TB_DIR/udp" &
	sleep 0.3
	tb_cli "$NB" udp-send "$TB_SRV4" 9000 "$SECS" 64 > /dev/null
	wait $!
	udp=$(cat "$TB_DIR/udp")
	tb_srv "$NB" tcp-recv 9001 $((SECS + 3)) > "$TB_DIR/tcp" &
	sleep 0.3
	tb_cli "$NB" tcp-send "$TB_SRV4" 9001 "$SECS" > /dev/null
	wait $!
	tcp=$(cat "$TB_DIR/tcp")
	printf '"%s":{"udp_pps":%d,"tcp_mbytes_per_s":%.1f,"tcp_segments_per_s":%d}' \
		"$1" $((udp / SECS)) "$(echo "$tcp / $SECS / 1000000" | bc -l)" $((tcp / 1448 / SECS))
}

hs_on() {
	tb_srv "$HS" run --iface "$TB_SIF" --xdp-mode "$1" --duration 60 > /dev/null 2> "$TB_DIR/hs.err" &
	HS_PID=$!
	for i in $(seq 100); do grep -q attached "$TB_DIR/hs.err" && return 0; sleep 0.1; done
	return 1
}
hs_off() { kill -INT "$HS_PID"; wait "$HS_PID"; }

printf '{'
measure none
printf ','
hs_on native && { measure hydrascope_native; hs_off; } || printf '"hydrascope_native":null'
printf ','
hs_on generic && { measure hydrascope_generic; hs_off; } || printf '"hydrascope_generic":null'
printf ','
# xdp-filter (libxdp) keeps its state in bpffs; `ip netns exec` starts
# without one. It attaches through netlink, so `xdp off` removes it.
if tb_srv bash -c "mount -t bpf bpf /sys/fs/bpf && xdp-filter load --mode native $TB_SIF" > /dev/null 2>&1; then
	measure xdp_filter_native
	tb_srv ip link set dev "$TB_SIF" xdp off
else
	printf '"xdp_filter_native":null'
fi
printf '}\n'
