#!/usr/bin/env bash
# Prometheus test: a real Prometheus (in the server namespace, on its
# loopback) scrapes a running hydrascope with the shipped alert rules.
# Checks through Prometheus's HTTP API that hydrascope's series arrive and
# that an alert fires when the blocking layer drops traffic; the exposition
# passes `promtool check metrics`. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
RULES=$PWD/deploy/prometheus/hydrascope.rules.yml
. tools/testbed.sh
. tests/live/lib.sh

testbed_start

cat > "$TB_DIR/prometheus.yml" <<CFG
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ["$RULES"]
scrape_configs:
  - job_name: hydrascope
    static_configs: [{targets: ["127.0.0.1:9477"]}]
CFG

cat > "$TB_DIR/inner.sh" <<INNER
set -u
cd "$TB_DIR"
$HS run --iface $TB_SIF --enforce --metrics 127.0.0.1:9477 --duration 60 > run.out 2> run.err &
hs=\$!
for i in \$(seq 100); do grep -q "metrics on" run.err && break; sleep 0.1; done
prometheus --config.file=prometheus.yml --storage.tsdb.path=tsdb \
	--web.listen-address=127.0.0.1:9478 > prom.log 2>&1 &
prom=\$!
curl -s http://127.0.0.1:9477/metrics > metrics.txt
curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9477/nope > notfound.txt
q() { curl -s --max-time 2 "http://127.0.0.1:9478/api/v1/\$1"; }
# the drop counter must be scraped before the drops for increase() to see them
for i in \$(seq 60); do
	q 'query?query=hydrascope_dropped_packets_total' > before.json
	grep -q '"mode":"drop"' before.json && break
	sleep 0.5
done
$HS block add $TB_CLI4/32 --ttl 120 2> block.err
touch ready
for i in \$(seq 100); do [ -e tried ] && break; sleep 0.1; done
for i in \$(seq 60); do
	q 'query?query=hydrascope_packets_total%7Bhook%3D%22xdp%22%7D' > series.json
	grep -q '"value":\[[0-9.]*,"[1-9]' series.json && break
	sleep 0.5
done
for i in \$(seq 60); do
	q alerts > alerts.json
	grep -q '"alertname":"HydrascopeEnforcedDrops".*"state":"firing"' alerts.json && break
	sleep 0.5
done
kill \$prom; wait \$prom
kill \$hs; wait \$hs
$HS detach --all 2>/dev/null
INNER

ip netns exec "$TB_SRV" timeout 90 bash "$TB_DIR/inner.sh" &
inner=$!
for i in $(seq 100); do [ -e "$TB_DIR/ready" ] && break; sleep 0.1; done
tb_cli timeout 3 curl -sk -o /dev/null "https://$TB_SRV4:$TB_PORT/" # dropped
touch "$TB_DIR/tried"
wait "$inner"

J=$TB_DIR
check "metrics served" grep -q '^hydrascope_up 1' "$J/metrics.txt"
check "exposition passes promtool check metrics" bash -c "promtool check metrics < '$J/metrics.txt'"
check "unknown path is 404" grep -q 404 "$J/notfound.txt"
check "no address label in the exposition" bash -c "! grep -q '198\.18\.' '$J/metrics.txt'"
check "Prometheus stored hydrascope_packets_total" grep -q '"value":\[[0-9.]*,"[1-9]' "$J/series.json"
check "HydrascopeEnforcedDrops fired in Prometheus" grep -q '"alertname":"HydrascopeEnforcedDrops".*"state":"firing"' "$J/alerts.json"
if [ "$fail" -ne 0 ]; then
	tail -5 "$J/run.err" "$J/prom.log" "$J/alerts.json" 2>/dev/null
fi
finish
