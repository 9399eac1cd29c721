#!/usr/bin/env bash
# Regenerates the demo capture: real clients against openssl s_server in
# network namespaces (tools/testbed.sh), captured on the server side.
# Traffic: curl over IPv4 (with SNI) and IPv6, openssl s_client, gnutls-cli,
# a "scripted" client repeating the same request every 300 ms, and one
# client speaking plain HTTP to the TLS port (a non-TLS flow).
set -u
out=${1:?usage: gen-demo-capture.sh OUT.pcap}
cd "$(dirname "$0")/.."
. tools/testbed.sh
testbed_up || { echo "test bed did not come up" >&2; exit 1; }
tb_capture_start "$TB_DIR/demo.pcap"
tb_clients
for i in 1 2 3 4 5 6; do
	tb_cli timeout 5 curl -sk --resolve "api.example.test:$TB_PORT:$TB_SRV4" \
		-o /dev/null "https://api.example.test:$TB_PORT/v1/complete?n=$i"
	sleep 0.3
done
tb_cli timeout 3 curl -s -o /dev/null "http://$TB_SRV4:$TB_PORT/" || true
tb_capture_stop
mkdir -p "$(dirname "$out")"
cp "$TB_DIR/demo.pcap" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
