#!/usr/bin/env bash
# Install the Debian packages one use of hydrascope needs, and nothing more:
#   tools/install-deps.sh build   what `make` needs to build build/hydrascope
#   tools/install-deps.sh test    + what `make test` and `make demo` run
#   tools/install-deps.sh bench   + the references of `make bench`
# Idempotent and quiet when everything is already present. Test daemons
# (nginx, squid, dante, tinyproxy, prometheus, redis, crowdsec) are installed with
# their system services disabled and stopped: on an ingress host they must never
# start at boot or hold a port; the tests start them in their own netns.
set -euo pipefail

BUILD_PKGS=(
	# BPF compiler pinned to clang-19 (better BTF than 14), bpftool for the
	# skeleton, libbpf, the UAPI headers, and the userspace libraries
	make pkg-config clang-19 llvm-19 lld-19 bpftool linux-libc-dev
	libbpf-dev libelf-dev zlib1g-dev libpcap-dev libmicrohttpd-dev
	libjson-c-dev libssl-dev libmaxminddb-dev
	# the fleet transport (run --fleet redis://...)
	libhiredis-dev
	# the CrowdSec LAPI client (--crowdsec-push, --crowdsec-pull)
	libcurl4-openssl-dev
)
TEST_PKGS=(
	# unit tests (cmocka) with the sanitizer runtimes
	libcmocka-dev libclang-rt-19-dev
	# netns/tc, real TLS peers, peer fingerprinters, prometheus
	iproute2 ethtool procps openssl curl gnutls-bin tshark p0f tcpdump
	python3 prometheus
	# the records against their JSON Schemas (deploy/schema/); the alert
	# rules read by the dashboard check of the Prometheus test
	python3-jsonschema python3-yaml
	# MaxMind-format network databases are built with the Perl writer;
	# mmdblookup cross-checks them
	libmaxmind-db-writer-perl mmdb-bin
	# a concurrent TLS server and real relays
	nginx-light microsocks dante-server squid tinyproxy
	# tests/install: the unit (systemd-analyze verify, security, the
	# syscall-filter groups), the man page (groff; man-db for the unit's
	# Documentation= check), run's system calls
	systemd groff-base man-db strace
	# the fleet test's shared Redis
	redis-server
	# the status page test loads the page in a headless browser (~360 MB
	# installed; the live farm bench's browser user too)
	chromium
	# the CrowdSec test's LAPI (crowdsec -no-cs -no-capi) and cscli
	crowdsec
)
BENCH_PKGS=(
	# xdp-filter as a reference, bc for the live figures
	xdp-tools bc
	# the live farm testbed's other real users (chromium is a test package)
	firefox-esr golang-go
)
# the services the test packages ship; never left enabled or running
TEST_SERVICES=(nginx squid danted tinyproxy prometheus prometheus-node-exporter redis-server crowdsec)

group=${1:-build}
case $group in
build) PKGS=("${BUILD_PKGS[@]}") ;;
test) PKGS=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}") ;;
bench) PKGS=("${BUILD_PKGS[@]}" "${TEST_PKGS[@]}" "${BENCH_PKGS[@]}") ;;
*)
	echo "install-deps: unknown group '$group' (build, test or bench)" >&2
	exit 2
	;;
esac

# Disable (and stop) a test package's system service: apt enables it on
# install, and a previous install may have left it running.
quiet_services() {
	command -v systemctl > /dev/null || return 0
	for s in "${TEST_SERVICES[@]}"; do
		systemctl list-unit-files "$s.service" 2> /dev/null | grep -q "^$s" || continue
		systemctl disable --now "$s.service" > /dev/null 2>&1 || true
	done
}

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	[ "$group" = build ] || quiet_services
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root" >&2
	exit 1
fi
echo "install-deps ($group): installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Keep apt from starting the test daemons' system services (and binding
# host ports) while it installs them.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# tshark asks whether non-root users may capture; answer no up front.
echo 'wireshark-common wireshark-common/install-setuid boolean false' |
	debconf-set-selections
# crowdsec's postinst registers with CrowdSec's Central API, which fails
# offline and leaves the package unconfigured; a credentials file holding
# a comment is Debian's documented way to skip it (README.Debian). The
# tests run their own LAPI with -no-capi.
if [[ " ${missing[*]} " == *" crowdsec "* ]] && [ ! -e /etc/crowdsec/online_api_credentials.yaml ]; then
	mkdir -p /etc/crowdsec
	echo '# no Central API: installed for the hydrascope tests' > /etc/crowdsec/online_api_credentials.yaml
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
[ "$group" = build ] || quiet_services
