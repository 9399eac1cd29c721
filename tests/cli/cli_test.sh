#!/usr/bin/env bash
# Bad flags and configuration stop with one line on stderr and exit status
# 2, before anything is loaded, attached or pinned. A foreign XDP program
# is never replaced silently. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh

# expect_usage_error "description" args...: exit 2, exactly one stderr line
expect_usage_error() {
	local what=$1 err rc lines
	shift
	err=$("$HS" "$@" 2>&1 >/dev/null)
	rc=$?
	lines=$(printf '%s\n' "$err" | grep -c .)
	if [ "$rc" -eq 2 ] && [ "$lines" -eq 1 ] && [ ! -e /sys/fs/bpf/hydrascope ]; then
		ok
	else
		flunk "$what: rc=$rc stderr=[$err]"
	fi
}

expect_usage_error "unknown command" frobnicate
expect_usage_error "run without --iface" run
expect_usage_error "missing interface" run --iface hs-no-such-if0
expect_usage_error "bad xdp mode" run --iface lo --xdp-mode turbo
expect_usage_error "flows not a number" run --iface lo --flows many
expect_usage_error "flows too small" run --iface lo --flows 1
expect_usage_error "negative idle gap" replay x.pcap --idle-gap -5
expect_usage_error "bad local net" replay x.pcap --local-net 10.0.0.0/40
expect_usage_error "bad format" replay x.pcap --format yaml
expect_usage_error "missing p0f file" replay x.pcap --p0f-db /nonexistent.fp
expect_usage_error "replay of a missing file" replay /nonexistent.pcap
expect_usage_error "unknown replay option" replay x.pcap --bogus
expect_usage_error "fingerprint budget of zero" replay x.pcap --fp-budget 0
expect_usage_error "detach with arguments" detach now
expect_usage_error "unwritable record log" run --iface lo --log /nonexistent/dir/log
expect_usage_error "missing network database" replay tests/data/demo.pcap --asn-db /nonexistent.mmdb
expect_usage_error "bad allowlist prefix" replay tests/data/demo.pcap --allow 10.0.0.0/33
expect_usage_error "bad replay block" replay tests/data/demo.pcap --block 10.0.0.0/33
expect_usage_error "bad replay tuple rule" replay tests/data/demo.pcap --tuple-rule tls:12
expect_usage_error "unknown decap kind" replay tests/data/demo.pcap --decap ipip,vxlan
expect_usage_error "decap port out of range" run --iface lo --decap gue:70000
expect_usage_error "not a network database" replay tests/data/demo.pcap --asn-db /etc/hostname
expect_usage_error "bad decide interval" run --iface lo --decide-interval 0
expect_usage_error "bad metrics address" run --iface lo --metrics nowhere
expect_usage_error "tuple id not hex" tuple add xyz
expect_usage_error "block without CIDR" block add

# A foreign XDP program on the interface: refused, named, nothing changed.
ns=hs-cli-$$
# iproute2 creates its pin directories on bpffs when it loads an object;
# remove the ones this test made
made=()
for d in ip xdp tc; do [ -e /sys/fs/bpf/$d ] || [ -L /sys/fs/bpf/$d ] || made+=("/sys/fs/bpf/$d"); done
cleanup() {
	ip netns del "$ns" 2>/dev/null
	for d in "${made[@]}"; do
		if [ -L "$d" ]; then rm -f "$d"; else rmdir "$d/globals" "$d" 2>/dev/null; fi
	done
}
clean_up_on_exit cleanup
ip netns add "$ns"
ip -n "$ns" link add hs-a type veth peer name hs-b
ip -n "$ns" link set hs-a up
ip -n "$ns" link set hs-b up
ip -n "$ns" link set dev hs-a xdpgeneric obj build/hydrascope.bpf.o sec xdp.frags 2>/dev/null
before=$(ip -n "$ns" -d link show hs-a | grep -o 'prog/xdp id [0-9]*')
out=$(ip netns exec "$ns" "$HS" run --iface hs-a --duration 1 2>&1 >/dev/null)
rc=$?
after=$(ip -n "$ns" -d link show hs-a | grep -o 'prog/xdp id [0-9]*')
if [ -n "$before" ] && [ "$rc" -ne 0 ] && [ "$before" = "$after" ] &&
	printf '%s' "$out" | grep -q "already has an XDP program (xdp_ingress)"; then
	ok
else
	flunk "foreign XDP program: rc=$rc before=[$before] after=[$after] out=[$out]"
fi
if ip netns exec "$ns" bash -c "ls /sys/fs/bpf/hydrascope" >/dev/null 2>&1; then
	flunk "pins left after a refused attach"
else
	ok
fi

summary
