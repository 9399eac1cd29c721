#!/usr/bin/env bash
# Install every Debian package hydrascope needs to build, test, demo and
# benchmark. Idempotent and quiet when everything is already present.
set -euo pipefail

PKGS=(
	# build: BPF compiler pinned to clang-19 (better BTF/CO-RE than 14),
	# bpftool for vmlinux.h + skeleton, libbpf, and userspace libraries.
	make pkg-config clang-19 llvm-19 lld-19 libclang-rt-19-dev
	bpftool libbpf-dev libelf-dev zlib1g-dev libpcap-dev
	libmicrohttpd-dev libjson-c-dev libcmocka-dev libssl-dev libmaxminddb-dev
	# tests: netns/tc, real TLS peers, peer fingerprinters, prometheus
	iproute2 ethtool procps openssl curl gnutls-bin tshark p0f tcpdump
	python3 prometheus
	# tests: MaxMind-format network databases are built with the
	# Perl writer; mmdblookup cross-checks them
	libmaxmind-db-writer-perl mmdb-bin
	# tests: a concurrent TLS server and real relays
	nginx-light microsocks dante-server squid tinyproxy
	# benchmarks: xdp-filter as a reference, bc for the live figures
	xdp-tools bc
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The test servers and relays run inside the tests' own namespaces: keep
# apt from starting their system services (and binding host ports).
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# tshark asks whether non-root users may capture; answer no up front.
echo 'wireshark-common wireshark-common/install-setuid boolean false' |
	debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
