#!/usr/bin/env bash
# Prometheus test: a real Prometheus (in the server namespace, on its
# loopback) scrapes a running hydrascope with the shipped alert rules.
# Checks through Prometheus's HTTP API that hydrascope's series arrive and
# that an alert fires when the blocking layer drops traffic; that every
# query of the Grafana dashboard (deploy/grafana/hydrascope.json) returns
# data or names only series Prometheus knows, and every series the alert
# rules use is one it knows (tests/live/dashboard_check.py); the exposition
# passes `promtool check metrics` and has build and config info, unit
# suffixes and histograms. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
HS=$PWD/build/hydrascope
RULES=$PWD/deploy/prometheus/hydrascope.rules.yml
DASH=$PWD/deploy/grafana/hydrascope.json
CHECK=$PWD/tests/live/dashboard_check.py
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
$HS run --iface $TB_SIF --enforce --metrics 127.0.0.1:9477 --decide-interval 1 --duration 60 > run.out 2> run.err &
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
# a few more scrapes, so that rate() over 1m has points to work on
sleep 3
python3 $CHECK http://127.0.0.1:9478 $DASH $RULES > dashboard.txt 2>&1
# the check has teeth: a series nobody exports is caught in both
echo '{"panels":[{"title":"bogus","targets":[{"expr":"rate(hydrascope_no_such_total[\$__rate_interval])"}]}]}' > bogus.json
printf 'groups:\n- name: b\n  rules:\n  - alert: Bogus\n    expr: hydrascope_no_such_gauge > 0\n' > bogus.yml
python3 $CHECK http://127.0.0.1:9478 bogus.json bogus.yml > bogus.txt 2>&1
curl -s http://127.0.0.1:9477/metrics > metrics-late.txt
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
check "build info" grep -Eq '^hydrascope_build_info\{version="[^"]+",commit="([0-9a-f]+(-dirty)?|unknown)",.*\} 1$' "$J/metrics.txt"
check "config info names the interface and mode" grep -Eq "^hydrascope_config_info\{iface=\"$TB_SIF\",mode=\"enforce\",xdp_mode=\"[a-z]+\",tc_mode=\"[a-z]+\"" "$J/metrics.txt"
check "bytes in their own family, not among events" bash -c "grep -q '^hydrascope_bytes_total{hook=\"xdp\"} [1-9]' '$J/metrics-late.txt' && ! grep -q '^hydrascope_datapath_events_total{counter=\"[a-z_]*bytes\"}' '$J/metrics.txt'"
check "relay share is a _ratio" bash -c "grep -q '^hydrascope_relay_share_ratio ' '$J/metrics.txt' && ! grep -q '^hydrascope_relay_share ' '$J/metrics.txt'"
check "round duration and relay gap histograms" bash -c "grep -q '^hydrascope_round_duration_seconds_bucket{le=\"+Inf\"} [1-9]' '$J/metrics-late.txt' && grep -q '^hydrascope_relay_gap_seconds_count ' '$J/metrics-late.txt'"
check "dashboard and rule queries checked" grep -q '^OK rule HydrascopeEnforcedDrops' "$J/dashboard.txt"
check "every dashboard query returns data or names known series; every rule series known" \
	bash -c "! grep -q '^BAD' '$J/dashboard.txt'"
check "the check catches an unknown series in a dashboard and a rule" bash -c \
	"grep -q '^BAD panel .bogus.*hydrascope_no_such_total' '$J/bogus.txt' && grep -q '^BAD rule Bogus uses.*hydrascope_no_such_gauge' '$J/bogus.txt'"
check "Prometheus stored hydrascope_packets_total" grep -q '"value":\[[0-9.]*,"[1-9]' "$J/series.json"
check "HydrascopeEnforcedDrops fired in Prometheus" grep -q '"alertname":"HydrascopeEnforcedDrops".*"state":"firing"' "$J/alerts.json"
if [ "$fail" -ne 0 ]; then
	tail -5 "$J/run.err" "$J/prom.log" "$J/alerts.json" 2>/dev/null
	grep -v '^OK' "$J/dashboard.txt" 2>/dev/null
fi
finish
