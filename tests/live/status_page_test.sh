#!/usr/bin/env bash
# Status page test: hydrascope runs live on the server's veth with
# --metrics, first in dry-run then with --enforce; each time a farm of
# real relays (microsocks behind a 25 ms each-way link, five exits over
# five /24s) forms a cluster, gets its exits blocked and a tuple rule on
# its TLS client, and a never-seen exit is cut on its first connection. A
# direct client sends a hostile SNI. Headless Chromium loads the page at /
# and the test reads its DOM: the farm cluster with its members and
# evidence, the blocks with their expiry, the rule, in dry-run the entries
# and the cut flow that would have dropped, the hostile SNI as text only
# (escaped, never markup); the page's security headers; /status.json
# against deploy/schema/status_page.json; /metrics unchanged, unknown
# paths 404, the per-address connection limit holding for / too. Saves a
# screenshot of each mode in build/status-page/ (make status-screenshot
# copies the dry-run one to deploy/screenshots/). Ends with "N passed, N
# failed".
set -u
cd "$(dirname "$0")/../.."
HS=${HS_BIN:-$PWD/build/hydrascope} # HS_BIN=build/hydrascope-san: under ASan
OUT=$PWD/build/status-page
. tools/testbed.sh
. tests/live/lib.sh

PORT=9482
PAGE=http://127.0.0.1:$PORT
EXITS=5 # the farm's; exit 6 is the never-seen one
SNI="<script>alert(1)</script>'&x"

for tool in microsocks chromium openssl "$PWD/build/delaylink"; do
	command -v "$tool" > /dev/null ||
		flunk "$tool is missing (tools/install-deps.sh test installs it)"
done
[ "$fail" -eq 0 ] || finish
mkdir -p "$OUT"
rm -f "$OUT"/*
testbed_start
tb_relay_up 25 $((EXITS + 1)) 90 || { flunk "relay bed did not come up"; finish; }
R=$TB_DIR
for n in $(seq $((EXITS + 1))); do
	# not through tb_cli: $! must be the daemon's pid (ip execs it)
	ip netns exec "$TB_CLI" microsocks -i 10.99.0.1 -p 108$n -b "198.18.10$n.2" \
		> "$R/socks-$n.log" 2>&1 &
	TB_PIDS+=($!)
done
for i in $(seq 50); do
	n=$(tb_cli ss -ltn | grep -c '10\.99\.0\.1:108')
	[ "$n" -eq $((EXITS + 1)) ] && break
	sleep 0.1
done
check "the relays listen" test "$n" -eq $((EXITS + 1))

cat > "$R/page.conf" <<EOF
window_s = 60
cluster_min_sources = 4
cluster_min_prefixes = 4
EOF
# One session in the server namespace for both runs: everything that
# touches the pins must share its /sys (README, Lifecycle).
cat > "$R/inner.sh" <<INNER
set -u
cd "$R"
for mode in dry enforce; do
	flag=; [ \$mode = enforce ] && flag=--enforce
	$HS --instance page run --iface $TB_SIF \$flag --decide-interval 1 \
		--config page.conf --log records-\$mode.jsonl --metrics 127.0.0.1:$PORT \
		--duration 60 > run-\$mode.out 2> run-\$mode.err &
	hs=\$!
	echo \$hs > hs.pid
	for i in \$(seq 100); do grep -q "status page on" run-\$mode.err && break; sleep 0.1; done
	touch attached-\$mode
	for i in \$(seq 400); do [ -e stop-\$mode ] && break; sleep 0.1; done
	kill -INT \$hs
	wait \$hs
	$HS --instance page detach --all 2> /dev/null
done
INNER
ip netns exec "$TB_SRV" timeout 120 bash "$R/inner.sh" &
inner=$!
TB_PIDS+=($inner)
# on any exit: the instance too (a killed inner.sh would leave it running)
page_down() {
	[ -s "$R/hs.pid" ] && kill "$(cat "$R/hs.pid")" 2> /dev/null
	testbed_down
}
clean_up_on_exit page_down

URL="https://$TB_SRV4:$TB_PORT/"
# a relayed request takes ~0.3 s; a cut or blocked one is given up at 3 s
far() { tb_far timeout 5 curl -sk -o /dev/null --max-time 3 -x "socks5h://10.99.0.1:108$1" "$URL"; }
get() { tb_srv curl -s --max-time 5 "$@"; }
dom() { # URL FILE: the DOM headless Chromium built from the page
	tb_srv timeout 30 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$R/chromium" --dump-dom "$1" > "$2" 2> "$R/chromium.err"
}
shot() {
	tb_srv timeout 30 chromium --headless --no-sandbox --disable-gpu \
		--user-data-dir="$R/chromium" --hide-scrollbars --window-size=1280,1600 \
		--screenshot="$2" "$1" > /dev/null 2>> "$R/chromium.err"
}
# wait_json EXPR: poll /status.json until the Python expression on it (j)
# holds; bounded
wait_json() {
	local i
	for i in $(seq 40); do
		get "$PAGE/status.json" > "$R/poll.json" 2> /dev/null &&
			python3 -c "import json,sys; j=json.load(open('$R/poll.json')); sys.exit(not ($1))" \
				2> /dev/null && return 0
		sleep 0.5
	done
	return 1
}
# the farm: three requests a second apart through each exit; a direct
# client sending a hostile SNI
farm() {
	local loops=() n
	for n in $(seq $EXITS); do
		(for k in 1 2 3; do far "$n"; sleep 1; done) &
		loops+=($!)
	done
	for k in 1 2; do
		echo | tb_cli timeout 5 openssl s_client -connect "$TB_SRV4:$TB_PORT" \
			-servername "$SNI" -quiet > /dev/null 2>&1
	done
	wait "${loops[@]}"
}

# ---- dry-run
for i in $(seq 100); do [ -e "$R/attached-dry" ] && break; sleep 0.1; done
check "dry-run instance attached" test -e "$R/attached-dry"
farm
check "dry-run: a tuple rule was decided" \
	wait_json "j['tuple_rules'] and j['blocks'] and j['farm_clusters'] >= 1"
far 6 && new_exit=passed || new_exit=failed
far 1 # a blocked exit again: counted, not dropped
check "dry-run: the never-seen exit got through (counted, not dropped)" test "$new_exit" = passed
check "dry-run: its flow is listed as cut and counted" \
	wait_json "j['cut_flows'] and j['blocking']['would_drop_tuple'] >= 1 and j['blocking']['would_drop_prefix'] >= 1"
get -D "$R/head-page.txt" -o "$R/page-dry.html" "$PAGE/"
get -D "$R/head-json.txt" -o "$OUT/status-dry.json" "$PAGE/status.json"
get -o "$R/metrics.txt" -w '%{http_code}' "$PAGE/metrics" > "$R/metrics.code"
get -o /dev/null -w '%{http_code}' "$PAGE/nope" > "$R/nope.code"
dom "$PAGE/" "$OUT/dom-dry.html"
shot "$PAGE/" "$OUT/dry-run.png"
# four connections held from one address: a fifth is refused, on / too
ip netns exec "$TB_SRV" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT 4<>/dev/tcp/127.0.0.1/$PORT \
	5<>/dev/tcp/127.0.0.1/$PORT 6<>/dev/tcp/127.0.0.1/$PORT; touch $R/held; exec sleep 4" &
holder=$!
for i in $(seq 30); do [ -e "$R/held" ] && break; sleep 0.1; done
get -o /dev/null -w '%{http_code}' --max-time 2 "$PAGE/" > "$R/limited.code"
kill "$holder" 2> /dev/null
wait "$holder" 2> /dev/null
for i in $(seq 20); do # until the server has seen them close
	get -o /dev/null -w '%{http_code}' "$PAGE/" > "$R/after.code"
	[ "$(cat "$R/after.code")" = 200 ] && break
	sleep 0.1
done
touch "$R/stop-dry"

# ---- enforce
for i in $(seq 150); do [ -e "$R/attached-enforce" ] && break; sleep 0.1; done
check "enforce instance attached" test -e "$R/attached-enforce"
farm
check "enforce: a tuple rule was decided" \
	wait_json "j['tuple_rules'] and j['blocks'] and j['mode'] == 'enforce'"
far 6 && new_exit=passed || new_exit=failed
check "enforce: the never-seen exit was cut" test "$new_exit" = failed
check "enforce: its flow is listed as cut and dropped" \
	wait_json "j['cut_flows'] and j['blocking']['dropped_tuple'] >= 1"
get -o "$OUT/status-enforce.json" "$PAGE/status.json"
dom "$PAGE/" "$OUT/dom-enforce.html"
shot "$PAGE/" "$OUT/enforce.png"
touch "$R/stop-enforce"
wait "$inner"

# ---- what was served
check "/ is HTML with its security headers" python3 - "$R/head-page.txt" <<'PY'
import sys
h = {}
for line in open(sys.argv[1]).read().splitlines()[1:]:
    if ":" in line:
        k, v = line.split(":", 1)
        h[k.strip().lower()] = v.strip()
sys.exit(not (h.get("content-type") == "text/html; charset=utf-8"
              and h.get("content-security-policy") == "default-src 'none'; style-src 'unsafe-inline'"
              and h.get("x-content-type-options") == "nosniff"))
PY
check "/status.json is JSON" grep -qi '^content-type: application/json' "$R/head-json.txt"
check "/status.json matches deploy/schema/status_page.json" python3 tests/lib/records_schema.py \
	"$OUT/status-dry.json" "$OUT/status-enforce.json"
check "/metrics unchanged" test "$(cat "$R/metrics.code")" = 200
check "/metrics has the status page's counter" grep -q '^hydrascope_status_page_omitted_total{what="rows"} 0' "$R/metrics.txt"
check "unknown paths stay 404" test "$(cat "$R/nope.code")" = 404
check "a fifth connection from one address is refused on / too" test "$(cat "$R/limited.code")" = 000
check "... and served once the others are gone" test "$(cat "$R/after.code")" = 200
check "no sanitizer report" test -z \
	"$(grep -lE 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "$R"/run-*.err)"
check "the served page escapes the SNI" grep -q "&lt;script&gt;alert(1)&lt;/script&gt;&#39;&amp;x" "$R/page-dry.html"
python3 - "$OUT/dom-dry.html" "$OUT/dom-enforce.html" "$OUT/status-dry.json" "$OUT/status-enforce.json" \
	"$EXITS" > "$R/verdict.txt" <<'PY'
import json, re, sys
dom = {"dry": open(sys.argv[1]).read(), "enforce": open(sys.argv[2]).read()}
js = {"dry": json.load(open(sys.argv[3])), "enforce": json.load(open(sys.argv[4]))}
exits = {"198.18.10%d.2" % n for n in range(1, int(sys.argv[5]) + 1)}

def ok(cond, what):
    print("OK" if cond else "BAD " + what)

def rows(d):
    return re.split(r"<tr>", d)

for mode, d in dom.items():
    j = js[mode]
    ok("<script" not in d, "%s: a <script element in the DOM" % mode)
    ok("&lt;script&gt;alert(1)&lt;/script&gt;'&amp;x" in d, "%s: the SNI is not shown as text" % mode)
    farms = [c for c in j["clusters"] if c["farm"]]
    ok(farms, "%s: no farm cluster in status.json" % mode)
    if not farms:
        continue
    f = farms[0]
    ok('cluster <code>%s</code> <span class="tag farm">farm</span>' % f["cluster"] in d,
       "%s: the farm cluster is not on the page" % mode)
    shown = {m["addr"] for m in f["members"]}
    ok(len(shown & exits) >= 4 and all("<code>%s</code>" % a in d for a in shown),
       "%s: the farm's members %s" % (mode, sorted(shown)))
    ok("<dt>relay_share</dt>" in d and "<dt>exit_stacks</dt>" in d, "%s: no farm evidence" % mode)
    ok(re.search(r"\d+\.\d ms \(relayed\)", d), "%s: no member's relay detour" % mode)
    blocks = [r for r in rows(d) if re.search(r"198\.18\.10[1-9]\.2/32", r)]
    ok(blocks and all(re.search(r"<td>in (\d+h \d+m|\d+m \d+s) <span", r) and "farm_cluster" in r
                      for r in blocks),
       "%s: blocks with their expiry %s" % (mode, blocks[:1]))
    state = "would_drop" if mode == "dry" else "enforced"
    ok(any(state in r for r in blocks), "%s: no block marked %s" % (mode, state))
    rules = [r for r in rows(d) if "tls_id" in r and "TLS RTT - TCP RTT" in r]
    ok(rules and state in rules[0] and re.search(r"<td>in \d+", rules[0]), "%s: the tuple rule" % mode)
    cut = [r for r in rows(d) if "198.18.106.2" in r]
    ok(cut, "%s: the never-seen exit's cut flow is not listed" % mode)
ok("What dry-run would have dropped" in dom["dry"] and "counted, not dropped" in dom["dry"],
   "dry: no would-drop section")
ok('class="mode enf">enforce<' in dom["enforce"] and "<h2>Dropped</h2>" in dom["enforce"]
   and "would_drop" not in dom["enforce"], "enforce: the page is not in enforce mode")
ok(js["dry"]["blocking"]["dropped_prefix"] == 0 and js["dry"]["blocking"]["dropped_tuple"] == 0,
   "dry: something was dropped")
PY
while read -r line; do
	case "$line" in
	OK) pass=$((pass + 1)) ;;
	BAD*) flunk "${line#BAD }" ;;
	esac
done < "$R/verdict.txt"
check "a screenshot of each mode" python3 - "$OUT/dry-run.png" "$OUT/enforce.png" <<'PY'
import struct, sys
for p in sys.argv[1:]:
    b = open(p, "rb").read()
    w, h = struct.unpack(">II", b[16:24])
    assert b[:8] == b"\x89PNG\r\n\x1a\n" and (w, h) == (1280, 1600) and len(b) > 20000, p
PY
if [ "$fail" -ne 0 ]; then
	tail -5 "$R"/run-*.err "$R/chromium.err" "$R/delaylink.out" 2> /dev/null
fi
finish page_down
