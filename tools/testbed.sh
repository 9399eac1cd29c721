# shellcheck shell=bash
# Test bed shared by the live tests and the demo-capture generator: a server
# namespace and a client namespace joined by a veth pair, a TLS server
# (nginx), and bounded real clients. Source it; call testbed_up, then testbed_down (also
# installed as an EXIT trap so that a failure leaves nothing behind).
#
# Addresses are from the benchmarking range (RFC 2544) and a ULA prefix;
# traffic never leaves the two namespaces.

TB_ID=${TB_ID:-$$}
TB_SRV=hs-srv-$TB_ID
TB_CLI=hs-cli-$TB_ID
TB_SIF=hs-s$TB_ID
TB_CIF=hs-c$TB_ID
TB_SRV4=198.18.77.1
TB_CLI4=198.18.77.2
TB_SRV6=fd00:77::1
TB_CLI6=fd00:77::2
TB_PORT=8443
TB_FAR=hs-far-$TB_ID
TB_DIR=${TB_DIR:-$(mktemp -d /tmp/hydrascope-tb.XXXXXX)}
TB_PIDS=()
# shellcheck source=tools/cleanup.sh
. "$(dirname "${BASH_SOURCE[0]}")/cleanup.sh"

tb_srv() { ip netns exec "$TB_SRV" "$@"; }
tb_cli() { ip netns exec "$TB_CLI" "$@"; }
tb_far() { ip netns exec "$TB_FAR" "$@"; }

testbed_down() {
	local p
	for p in "${TB_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${TB_PIDS[@]}"; do wait "$p" 2>/dev/null; done
	TB_PIDS=()
	ip netns del "$TB_SRV" 2>/dev/null
	ip netns del "$TB_CLI" 2>/dev/null
	ip netns del "$TB_FAR" 2>/dev/null
	[ -n "${TB_KEEP_DIR:-}" ] || rm -rf "$TB_DIR"
}

testbed_up() {
	clean_up_on_exit testbed_down
	ip netns add "$TB_SRV" && ip netns add "$TB_CLI" || return 1
	ip link add "$TB_SIF" netns "$TB_SRV" type veth peer name "$TB_CIF" netns "$TB_CLI" || return 1
	tb_srv ip link set lo up
	tb_cli ip link set lo up
	tb_srv ip addr add "$TB_SRV4/24" dev "$TB_SIF"
	tb_cli ip addr add "$TB_CLI4/24" dev "$TB_CIF"
	tb_srv ip addr add "$TB_SRV6/64" dev "$TB_SIF" nodad
	tb_cli ip addr add "$TB_CLI6/64" dev "$TB_CIF" nodad
	tb_srv ip link set "$TB_SIF" up
	tb_cli ip link set "$TB_CIF" up
	# wire-sized segments, as on a real NIC: no segmentation offloads
	tb_srv ethtool -K "$TB_SIF" tso off gso off gro off >/dev/null 2>&1
	tb_cli ethtool -K "$TB_CIF" tso off gso off gro off >/dev/null 2>&1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TB_DIR/key.pem" -out "$TB_DIR/cert.pem" -days 2 \
		-subj /CN=api.example.test >/dev/null 2>&1 || return 1
	# nginx, as on an ingress host: it serves connections concurrently,
	# so a flow the blocking layer cuts stalls nobody else
	mkdir -p "$TB_DIR/nginx"
	cat > "$TB_DIR/nginx.conf" <<-NGINX
	daemon off;
	worker_processes 1;
	pid $TB_DIR/nginx/nginx.pid;
	error_log $TB_DIR/nginx/error.log;
	events { worker_connections 256; }
	http {
	    access_log off;
	    client_body_temp_path $TB_DIR/nginx;
	    keepalive_timeout 5;
	    server {
	        listen $TB_PORT ssl;
	        listen [::]:$TB_PORT ssl;
	        ssl_certificate $TB_DIR/cert.pem;
	        ssl_certificate_key $TB_DIR/key.pem;
	        ssl_protocols TLSv1.2 TLSv1.3;
	        location / { return 200 "ok\\n"; }
	    }
	}
	NGINX
	ip netns exec "$TB_SRV" nginx -c "$TB_DIR/nginx.conf" >/dev/null 2>&1 &
	TB_PIDS+=($!)
	# wait (bounded) until the server listens
	local i
	for i in $(seq 50); do
		tb_srv ss -ltn 2>/dev/null | grep -q ":$TB_PORT " && return 0
		sleep 0.1
	done
	echo "testbed: TLS server did not start" >&2
	return 1
}

# tb_relay_up DELAY_MS EXITS DURATION_S: the client namespace becomes a
# relay host. A far client namespace reaches it over a link that holds
# every packet DELAY_MS each way (tools/delaylink.c, for at most
# DURATION_S; the kernel has no netem), and relays there leave through
# exit addresses 198.18.10N.2, N = 1..EXITS (at most 9), one /24 each.
#   far ns --[delaylink]-- client ns (relays) --[veth]-- server ns
#   10.99.0.2           10.99.0.1 | 198.18.10N.2      198.18.10N.1
tb_relay_up() {
	local i
	ip netns add "$TB_FAR" && ip -n "$TB_FAR" link set lo up || return 1
	build/delaylink "$TB_FAR" "hsf$TB_ID" "$TB_CLI" "hsr$TB_ID" "$1" "$3" \
		> "$TB_DIR/delaylink.out" 2>&1 &
	TB_PIDS+=($!)
	for i in $(seq 50); do grep -q ready "$TB_DIR/delaylink.out" 2>/dev/null && break; sleep 0.1; done
	ip -n "$TB_FAR" addr add 10.99.0.2/24 dev "hsf$TB_ID" &&
		ip -n "$TB_FAR" link set "hsf$TB_ID" up &&
		ip -n "$TB_CLI" addr add 10.99.0.1/24 dev "hsr$TB_ID" &&
		ip -n "$TB_CLI" link set "hsr$TB_ID" up || return 1
	for i in $(seq "$2"); do
		ip -n "$TB_CLI" addr add "198.18.10$i.2/24" dev "$TB_CIF" &&
			ip -n "$TB_SRV" addr add "198.18.10$i.1/24" dev "$TB_SIF" || return 1
	done
}

# Start a capture on the server side; tb_capture_stop ends it.
tb_capture_start() {
	ip netns exec "$TB_SRV" tcpdump -i "$TB_SIF" --immediate-mode -U -w "$1" -s 0 tcp port "$TB_PORT" >/dev/null 2>&1 &
	TB_CAP_PID=$!
	TB_PIDS+=($TB_CAP_PID)
	local i
	for i in $(seq 50); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 0
}

tb_capture_stop() {
	sleep 0.5
	kill -INT "$TB_CAP_PID" 2>/dev/null
	wait "$TB_CAP_PID" 2>/dev/null
}

# Real TLS clients, each bounded in time.
tb_clients() {
	local url4="https://api.example.test:$TB_PORT/" url6="https://[$TB_SRV6]:$TB_PORT/"
	tb_cli timeout 10 curl -sk --resolve "api.example.test:$TB_PORT:$TB_SRV4" -o /dev/null "$url4"
	tb_cli timeout 10 curl -sk -o /dev/null "$url6"
	echo | tb_cli timeout 10 openssl s_client -connect "$TB_SRV4:$TB_PORT" \
		-servername api.example.test -quiet >/dev/null 2>&1
	echo | tb_cli timeout 10 gnutls-cli --insecure --port "$TB_PORT" "$TB_SRV4" >/dev/null 2>&1
	return 0
}
