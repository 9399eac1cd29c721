#!/usr/bin/env bash
# make install into a DESTDIR: the files land where they should, the
# systemd unit passes `systemd-analyze verify` and scores at most 3.0 in
# `systemd-analyze security --offline=yes`, the installed binary gives a
# capture the same OS labels from another directory as the build does
# from the source tree, and the man page and the bash completion are
# what the option tables generate. With root, a live part checks the
# installed binary's READY=1 on $NOTIFY_SOCKET and the --log reopen on
# SIGHUP in a network namespace. Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
REPO=$PWD
HS=$REPO/build/hydrascope
D=$(mktemp -d /tmp/hs-install.XXXXXX)
W=$(mktemp -d /tmp/hs-install-cwd.XXXXXX)
# shellcheck source=tests/lib/checks.sh
. tests/lib/checks.sh
ns=
cleanup() {
	[ -n "$ns" ] && ip netns del "$ns" 2> /dev/null
	rm -rf "$D" "$W"
}
clean_up_on_exit cleanup

# A build directory of its own: PREFIX is compiled in, and build/ stays
# as the other suites use it. MAKEFLAGS of an outer make (make test) would
# hand this one a jobserver it cannot reach.
B=$W/build
inst() { env -u MAKEFLAGS -u MAKELEVEL make -s -j2 BUILD="$B" install PREFIX=/usr DESTDIR="$D"; }
inst > "$W/make.log" 2>&1
check_quiet "make install PREFIX=/usr DESTDIR=..." test $? -eq 0
[ -s "$D/usr/sbin/hydrascope" ] || tail -5 "$W/make.log"
SB=$D/usr/sbin/hydrascope
for f in usr/sbin/hydrascope usr/share/hydrascope/p0f/hydrascope.fp \
	usr/share/hydrascope/prometheus/hydrascope.rules.yml \
	usr/share/man/man8/hydrascope.8 usr/share/bash-completion/completions/hydrascope \
	usr/lib/systemd/system/hydrascope@.service etc/logrotate.d/hydrascope \
	etc/hydrascope/hydrascope.conf etc/hydrascope/hydrascope.env; do
	check_quiet "installed $f" test -s "$D/$f"
done
check_quiet "installed binary: --version is the Makefile's" \
	test "$("$SB" --version)" = "hydrascope $(env -u MAKEFLAGS make -s print-version)"

# configuration the operator edited survives a reinstall
echo "# edited" >> "$D/etc/hydrascope/hydrascope.conf"
inst > /dev/null 2>&1
check_quiet "reinstall keeps /etc/hydrascope/hydrascope.conf" \
	grep -q '^# edited' "$D/etc/hydrascope/hydrascope.conf"

# ---- data found without the working directory
labels() { # OS label of every flow, in order
	python3 -c '
import json, sys
for l in sys.stdin:
    r = json.loads(l)
    if r.get("type") == "flow":
        print(r["client"], r["cport"], r.get("os"), r.get("os_class"))'
}
"$HS" replay tests/data/demo.pcap --format json | labels > "$W/root.labels"
check_quiet "demo capture has OS labels" grep -q 's:unix:Linux' "$W/root.labels"
(cd "$W" && "$HS" replay "$REPO/tests/data/demo.pcap" --format json) | labels > "$W/build.labels"
check_quiet "build binary from another directory: same OS labels" cmp "$W/root.labels" "$W/build.labels"
# the installed binary looks in /usr/share/hydrascope: here it is under
# DESTDIR, so it is pointed there
(cd "$W" && HYDRASCOPE_DATADIR=$D/usr/share/hydrascope \
	"$SB" replay "$REPO/tests/data/demo.pcap" --format json) | labels > "$W/inst.labels"
check_quiet "installed binary from another directory: same OS labels" cmp "$W/root.labels" "$W/inst.labels"
if [ ! -e /usr/share/hydrascope/p0f/hydrascope.fp ]; then
	err=$(cd "$W" && "$SB" replay "$REPO/tests/data/demo.pcap" 2>&1 > /dev/null)
	rc=$?
	check_quiet "missing supplement: exit 2 naming /usr/share/hydrascope/p0f/hydrascope.fp" \
		bash -c "[ $rc -eq 2 ] && grep -q '/usr/share/hydrascope/p0f/hydrascope.fp' <<< \"\$1\"" _ "$err"
fi

# ---- the systemd unit
U=$D/usr/lib/systemd/system/hydrascope@.service
for k in 'Type=notify' 'RestartPreventExitStatus=2' 'NoNewPrivileges=yes' \
	'ProtectSystem=strict' 'ReadWritePaths=/sys/fs/bpf' 'LogsDirectory=hydrascope' \
	'RuntimeDirectory=hydrascope' 'CapabilityBoundingSet=CAP_BPF CAP_NET_ADMIN CAP_PERFMON' \
	'EnvironmentFile=/etc/hydrascope/hydrascope.env' 'ExecStart=/usr/sbin/hydrascope run --iface %i'; do
	check_quiet "unit has $k" grep -qF "$k" "$U"
done
# verify checks that ExecStart exists on this host: point it at the
# DESTDIR copy, and man at the DESTDIR man page; nothing else changes
mkdir -p "$W/units"
sed "s|/usr/sbin/hydrascope|$SB|" "$U" > "$W/units/hydrascope@lo.service"
out=$(MANPATH=$D/usr/share/man systemd-analyze verify "$W/units/hydrascope@lo.service" 2>&1)
check_quiet "systemd-analyze verify: clean" test -z "$out"
[ -z "$out" ] || echo "$out" | head -5
sec=$(systemd-analyze security --offline=yes --root="$D" hydrascope@eth0.service 2>&1)
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<< "$sec")
echo "systemd-analyze security --offline=yes: exposure ${score:-?}"
check_quiet "systemd-analyze security: exposure <= 3.0" \
	awk -v s="${score:-99}" 'BEGIN { exit !(s <= 3.0) }'

# ---- man page and completion come from the option tables
check_quiet "man page renders without warnings" \
	bash -c "[ -z \"\$(groff -man -ww -z '$D/usr/share/man/man8/hydrascope.8' 2>&1)\" ]"
missing=
for c in run replay flows sources stats status clusters block allow tuple detach; do
	for o in $("$HS" "$c" --help | grep -o '^  --[a-z0-9-]*' | sed 's/^ *//'); do
		grep -qF -- "\\fB${o//-/\\-}\\fR" "$D/usr/share/man/man8/hydrascope.8" || missing="$missing $c:$o"
		grep -qF -- "$o" deploy/completion/hydrascope || missing="$missing $c:$o(completion)"
	done
done
check_quiet "every option of --help is in the man page and the completion" test -z "$missing"
[ -z "$missing" ] || echo "missing:$missing"
check_quiet "deploy/completion/hydrascope is what the tables generate (make completion)" \
	cmp deploy/completion/hydrascope <("$HS" --help-completion)
check_quiet "completion is valid bash" bash -n deploy/completion/hydrascope
# the completion's words, with bash-completion's two helpers stubbed
complete_words() {
	bash -c '
_init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${words[cword]}; prev=${words[cword-1]}; }
_filedir() { COMPREPLY=(FILE); }
source deploy/completion/hydrascope
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hydrascope; echo "${COMPREPLY[*]}"' _ "$@"
}
check_quiet "completion: commands" grep -qw replay <<< "$(complete_words hydrascope re)"
check_quiet "completion: replay --fo -> --format" test "$(complete_words hydrascope replay --fo)" = "--format"
check_quiet "completion: --format values" test "$(complete_words hydrascope run --format '')" = "text json"
check_quiet "completion: block actions" test "$(complete_words hydrascope block '')" = "list add del"
check_quiet "completion: replay FILE" test "$(complete_words hydrascope replay '')" = "FILE"

# ---- --opt=value and --opt value
# (flow and replay records: the summary's cluster representative is not
# stable from run to run)
a=$("$HS" replay tests/data/demo.pcap --format=json --local-net=198.18.77.1/32 \
	--local-net=fd00:77::1/128 | grep -E '"type":"(flow|replay)"' | md5sum)
b=$("$HS" replay tests/data/demo.pcap --format json --local-net 198.18.77.1/32 \
	--local-net fd00:77::1/128 | grep -E '"type":"(flow|replay)"' | md5sum)
check_quiet "--opt=value equals --opt value" test "$a" = "$b"

# ---- live: READY=1 after attach, --log reopened on SIGHUP (root only;
# run it under the live-test lock: it uses the global pin directory)
if [ "$(id -u)" -eq 0 ]; then
	ns=hs-inst-$$
	ip netns add "$ns"
	ip -n "$ns" link add hs-i0 type veth peer name hs-i1
	ip -n "$ns" link set hs-i0 up
	ip -n "$ns" link set hs-i1 up
	ip netns exec "$ns" env SB="$SB" W="$W" D="$D" python3 - << 'PY' > "$W/live.out" 2>&1
import os, signal, socket, subprocess, sys, time
W, SB = os.environ["W"], os.environ["SB"]
sock_path = W + "/notify.sock"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sock_path)
s.settimeout(20)
log = W + "/records.jsonl"
env = dict(os.environ, NOTIFY_SOCKET=sock_path, HYDRASCOPE_DATADIR=os.environ["D"] + "/usr/share/hydrascope")
# systemd mounts bpffs before any service; ip netns exec's fresh /sys has
# none, and run could not mount it with the unit's capabilities
subprocess.run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], check=True)
# with the unit's capability bounding set only
caps = ["setpriv", "--bounding-set=-all,+bpf,+net_admin,+perfmon", "--inh-caps=-all"]
p = subprocess.Popen(caps + [SB, "run", "--iface", "hs-i0", "--xdp-mode", "generic", "--log", log,
                      "--duration", "30"], env=env, stdout=subprocess.DEVNULL,
                     stderr=open(W + "/run.err", "w"))
try:
    msg = s.recv(4096).decode()
    attached = os.path.exists("/sys/fs/bpf/hydrascope/links")
    print("READY" if "READY=1" in msg.split("\n") and attached else "NOTREADY " + msg)
    os.rename(log, log + ".1")
    p.send_signal(signal.SIGHUP)
    for _ in range(50):
        time.sleep(0.1)
        fds = [os.readlink("/proc/%d/fd/%s" % (p.pid, f)) for f in os.listdir("/proc/%d/fd" % p.pid)]
        if log in fds and os.path.exists(log):
            break
    print("REOPENED" if log in fds else "NOTREOPENED %s" % fds)
    print("ALIVE" if p.poll() is None else "DIED")
finally:
    p.send_signal(signal.SIGINT)
    p.wait(timeout=20)
PY
	check_quiet "live, with CAP_BPF CAP_NET_ADMIN CAP_PERFMON only: READY=1 on \$NOTIFY_SOCKET once attached" \
		grep -qx READY "$W/live.out"
	check_quiet "live: --log reopened under its name on SIGHUP" grep -qx REOPENED "$W/live.out"
	check_quiet "live: SIGHUP does not stop run" grep -qx ALIVE "$W/live.out"
	grep -q '^READY$' "$W/live.out" || { cat "$W/live.out" "$W/run.err" | head -10; }
	# every system call a run makes (load, attach, pin, metrics scraped,
	# SIGHUP, detach) passes the unit's SystemCallFilter= lines
	# (bpffs mounted here, as above)
	ip netns exec "$ns" bash -c "ip link set lo up; mount -t bpf bpf /sys/fs/bpf
		HYDRASCOPE_DATADIR=$D/usr/share/hydrascope setpriv --bounding-set=-all,+bpf,+net_admin,+perfmon --inh-caps=-all \
			strace -f -qq -o $W/strace.out $SB run --iface hs-i0 --xdp-mode generic --log $W/s.jsonl \
			--metrics 127.0.0.1:19477 --duration 3 > /dev/null 2> $W/strace-run.err &
		tracer=\$!
		sleep 1.5; curl -s -o /dev/null http://127.0.0.1:19477/metrics
		# only the traced run: netns exec shares the host's pids
		pkill -HUP -x -P \$tracer hydrascope; wait" 2> /dev/null
	grep -E '^SystemCallFilter=' "$U" | sed 's/^SystemCallFilter=//' > "$W/filter"
	python3 - "$W/filter" "$W/strace.out" << 'PY' > "$W/syscalls.out"
import re, subprocess, sys
groups, cur = {}, None
for line in subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True,
                           text=True).stdout.splitlines():
    t = line.strip()
    if line.startswith("@"):
        cur = groups.setdefault(t, [])
    elif t and not t.startswith("#") and cur is not None:
        cur.append(t)
def expand(name, seen=()):
    if not name.startswith("@"):
        return {name}
    out = set()
    for m in groups.get(name, []):
        if m not in seen:
            out |= expand(m, seen + (name,))
    return out
allowed = set()
for i, line in enumerate(open(sys.argv[1])):  # allow list first, then ~ removes
    deny = line.startswith("~")
    names = set().union(*(expand(n) for n in line.lstrip("~").split()))
    allowed = allowed - names if deny else allowed | names
used = set()
for line in open(sys.argv[2]):
    m = re.match(r"\d+\s+([a-z0-9_]+)\(", line)
    if m:
        used.add(m.group(1))
# execve of the binary itself happens before the filter applies
used.discard("execve")
print("used %d, outside the filter: %s" % (len(used), " ".join(sorted(used - allowed)) or "none"))
PY
	cat "$W/syscalls.out"
	check_quiet "live: the traced run attached" grep -q 'attached to hs-i0' "$W/strace-run.err"
	check_quiet "live: every system call of run passes SystemCallFilter=" \
		grep -q 'outside the filter: none' "$W/syscalls.out"
	ip netns exec "$ns" "$HS" detach --all > /dev/null 2>&1
fi

summary
